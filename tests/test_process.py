"""The process memory settings the command applies (``bereikbaarheid._process``).

Each case runs in its own Python, so the test process keeps its settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bereikbaarheid import _process

glibc = pytest.mark.skipif(_process._mallopt() is None, reason="no glibc mallopt here")

_PROBE = """
import json, sys
from bereikbaarheid import _process
switch = _process._madvise_switch()
before = switch(True); switch(before)  # the advice as NumPy set it at import
{action}
after = switch(True)
print(json.dumps({{"before": bool(before), "after": bool(after), "applied": applied}}))
"""


def _run(action: str, **env: str) -> dict:
    full = {k: v for k, v in os.environ.items()
            if k not in ("NUMPY_MADVISE_HUGEPAGE", _process.OPT_OUT)}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", _PROBE.format(action=action)], env=full,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@glibc
def test_tune_memory_turns_the_advice_off_and_keeps_freed_memory():
    got = _run("applied = _process.tune_memory()")
    assert got["applied"] == {"numpy_hugepages_off": True, "malloc_keeps_memory": True}
    _advice_on_at_import(got)
    assert got["after"] is False


def _advice_on_at_import(got: dict) -> None:
    """The cases below compare the advice before and after: they only show
    something where NumPy switched it on at import (Linux 4.6 and later)."""
    if not got["before"]:
        pytest.skip("NumPy leaves the huge-page advice off on this kernel")


def test_the_opt_out_leaves_the_process_as_it_was():
    got = _run("applied = _process.tune_memory()", **{_process.OPT_OUT: "1"})
    assert got["applied"] == {"numpy_hugepages_off": False, "malloc_keeps_memory": False}
    _advice_on_at_import(got)
    assert got["after"] is True


def test_a_users_numpy_setting_is_respected():
    got = _run("applied = _process.tune_memory()", NUMPY_MADVISE_HUGEPAGE="1")
    assert got["applied"]["numpy_hugepages_off"] is False
    assert got["before"] is True and got["after"] is True


@glibc
def test_the_command_applies_them_and_a_call_from_python_does_not():
    command = _run("from bereikbaarheid import cli\n"
                   "sys.argv = ['bereikbaarheid', '-q', 'regions']\n"
                   "cli.main()\napplied = None")
    _advice_on_at_import(command)
    assert command["after"] is False
    from_python = _run("from bereikbaarheid import cli\ncli.main(['-q', 'regions'])\n"
                       "applied = None")
    assert from_python["before"] is True and from_python["after"] is True


def test_importing_the_package_changes_nothing():
    got = _run("import bereikbaarheid.pipeline, bereikbaarheid.measures.access\n"
               "applied = None")
    _advice_on_at_import(got)
    assert got["after"] is True
