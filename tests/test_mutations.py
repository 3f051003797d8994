"""The mutation suite: bad variants of every input kind through the command line.

Every variant (see ``mutations.py``) must end either with exit status 2 and
one ``error:`` line that names the bad file (or option), or with success and
a warning; never with a traceback, never touching the profile an earlier run
wrote, never leaving a temporary file behind. The suite runs in-process
(``cli.main``), as the installed command would, so it stays within a few
minutes.
"""

from __future__ import annotations

import shutil

import pytest

from bereikbaarheid import cli

from mutations import FAIL, VARIANTS, WARN, leftovers, load_inputs, run_toml


def test_the_suite_is_large_enough():
    kinds: dict[str, int] = {}
    for variant in VARIANTS:
        kinds[variant.kind] = kinds.get(variant.kind, 0) + 1
    assert len(VARIANTS) >= 100
    assert set(kinds) >= {"config", "option", "grid", "boundaries", "facilities", "gtfs",
                          "projection", "scenario", "osm"}
    assert len({v.variant_id for v in VARIANTS}) == len(VARIANTS)


@pytest.fixture(scope="module")
def inputs(demo_region, tmp_path_factory):
    """The good inputs, the cache filled and a profile written by a good run."""
    work = tmp_path_factory.mktemp("mutations")
    inputs = load_inputs(demo_region.folder, work)
    (work / "good").mkdir()
    assert cli.main(["run", str(run_toml(inputs, work / "good")), "-q", "--no-report"]) == 0
    return inputs


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.variant_id)
def test_a_bad_input_ends_in_one_error_line_or_a_warning(variant, inputs, tmp_path, capsys):
    profile = inputs.output / "demo"
    before = _snapshot(profile)
    args, named = variant.make(inputs, tmp_path)
    if args[0] in ("run", "scenario"):
        args = [*args, "--no-report"]  # the profile's files are what is compared
    code = cli.main(args)
    printed = capsys.readouterr()
    err = printed.err
    assert "Traceback" not in err and "Traceback" not in printed.out
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if variant.outcome == FAIL:
        assert code == 2, f"expected a refusal, got exit {code}:\n{err}"
        assert len(errors) == 1 and err.splitlines()[-1] == errors[0], err
        assert errors[0].startswith(f"error: {named}"), errors[0]
        assert _snapshot(profile) == before  # the earlier profile untouched
    else:
        assert variant.outcome == WARN
        assert code == 0, f"expected success with a warning, got exit {code}:\n{err}"
        assert errors == []
        assert any(line.startswith("warning: ") for line in err.splitlines()), err
    assert leftovers(inputs.output, inputs.cache) == []
    if code == 0:  # put the good profile back for the next variant
        for path in profile.iterdir():
            path.unlink()
        for name, data in before.items():
            (profile / name).write_bytes(data)
        for folder in inputs.output.iterdir():
            if folder.is_dir() and folder.name != "demo":
                shutil.rmtree(folder)  # a scenario's profile
