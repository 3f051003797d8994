"""The command line behaves like git, uv or ruff: --version, help on a bare
command, one error line and exit 2 for bad input, exit 1 (traceback only with
--debug) for a bug, 130 for Ctrl-C; the library logs and never prints."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bereikbaarheid import __version__, cli, pipeline, run_profile
from bereikbaarheid.pipeline import RunConfig

BIN = Path(sys.executable).with_name("bereikbaarheid")


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def test_version_and_help_on_a_bare_command(capsys):
    code, out, _ = _cli(capsys, "--version")
    assert code == 0 and out == f"bereikbaarheid {__version__}\n"
    code, out, _ = _cli(capsys)
    assert code == 2 and out.startswith("usage: bereikbaarheid") and "gtfs-check" in out
    for command in ("run", "scenario", "report", "catalog", "gtfs-check"):
        code, out, _ = _cli(capsys, command)
        assert code == 2 and out.startswith(f"usage: bereikbaarheid {command}")


def test_help_imports_nothing_heavy():
    """--help answers at once because the command imports its libraries only
    when a command runs (the time itself is measured in the README)."""
    heavy = ["numpy", "pandas", "geopandas", "numba", "pyogrio", "pydantic", "osmium",
             "shapely", "pyproj", "tqdm"]
    probe = ("import sys; from bereikbaarheid import cli\n"
             "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
             f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("args, where, expected", [
    (["demo", "--scale", "0"], "--scale", "0 is outside the range 1 to 200"),
    (["gtfs-check", "feed.zip", "--date", "2026-13-45"], "--date",
     "'2026-13-45' is not a date; expected YYYY-MM-DD"),
    (["run", "--osm", "a", "--grid", "g", "--boundaries", "b", "--region", "x",
      "--set", "bike_speed_kmh=fast"], "--set bike_speed_kmh=fast",
     "expected a number; got 'fast' (text)"),
    (["run", "--osm", "a", "--grid", "g", "--boundaries", "b", "--region", "x",
      "--set", "thresholds_min=15"], "--set thresholds_min=15",
     "expected a list such as [5, 10, 15, 30]"),
    (["run", "--osm", "a", "--grid", "g", "--boundaries", "b", "--region", "x",
      "--set", "walk_speed=4"], "--set walk_speed=4", "did you mean 'walk_speed_kmh'?"),
    (["run", "--osm", "a", "--grid", "g"], "command line", "run needs a configuration file"),
    (["frobnicate"], "COMMAND", "invalid choice: 'frobnicate'"),
])
def test_usage_errors_are_one_line_naming_the_option(capsys, args, where, expected):
    code, out, err = _cli(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {where}: ") and expected in err


@pytest.fixture
def config(demo_region, tmp_path) -> Path:
    """A copy of the demo's run.toml with its inputs where the demo is, car only."""
    text = demo_region.config.read_text()
    for name in ("demo.osm.pbf", "grid_100m.gpkg", "gemeenten.gpkg", "facilities.csv",
                 "gtfs.zip"):
        text = text.replace(f'"{name}"', f'"{demo_region.folder / name}"')
    text = text.replace("[settings]\n", '[settings]\nmodes = ["car"]\n'
                                         "compare_scopes = false\n", 1)
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_a_setting_that_fails_during_the_run_names_the_configuration(config, tmp_path,
                                                                     capsys):
    text = config.read_text().replace('modes = ["car"]', 'modes = ["car", "pt"]')
    config.write_text(text.replace('pt_date = "2026-03-10"', 'pt_date = ""'))
    code, _, err = _cli(capsys, "run", str(config), "--output", str(tmp_path / "p"),
                        "--cache", str(tmp_path / "c"), "-q")
    assert code == 2 and err.startswith(f"error: {config}: public transport needs")


def test_an_output_that_is_a_file_is_refused_before_the_work(config, tmp_path, capsys):
    output = tmp_path / "profiles"
    output.write_text("not a folder")
    code, out, err = _cli(capsys, "run", str(config), "--output", str(output),
                          "--cache", str(tmp_path / "c"))
    assert code == 2 and err.splitlines()[-1] == (
        f"error: {output}: is a file; expected the output folder (or a new path)")
    assert "reading" not in err  # refused before any input was read
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_a_bug_exits_1_with_one_line_and_the_traceback_only_with_debug(config, tmp_path,
                                                                       capsys, monkeypatch):
    def broken(_config):  # a fault inside the pipeline, not bad input
        return {}["no such key"]

    monkeypatch.setattr(pipeline, "prepare", broken)
    args = ["run", str(config), "--output", str(tmp_path / "p"), "-q"]
    code, _, err = _cli(capsys, *args)
    assert code == 1
    assert err == ("error: internal error (a bug): KeyError: 'no such key'; rerun with "
                   "--debug for the traceback and report it\n")
    code, _, err = _cli(capsys, *args, "--debug")
    assert code == 1 and "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("error: internal error (a bug): KeyError")


def test_the_library_logs_and_prints_nothing(config, tmp_path, capsys, caplog):
    run = RunConfig.from_toml(config, output_dir=tmp_path / "p", cache_dir=tmp_path / "c")
    with caplog.at_level(logging.INFO, logger="bereikbaarheid"):
        result = run_profile(run)
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err == ""
    steps = [r for r in caplog.records if r.levelno == logging.INFO]
    assert any(r.name == "bereikbaarheid.pipeline" and "reading population grid"
               in r.getMessage() for r in steps)
    # Each warning of the manifest was logged once, as a warning.
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sorted(set(warned)) == sorted(result.manifest["warnings"])


def test_ctrl_c_exits_130_without_a_traceback_and_keeps_the_profile(config, tmp_path):
    """Ctrl-C in the middle of the work (inside the compiled kernels) ends
    with exit 130, one line, the earlier profile intact and no temp files."""
    out, cache = tmp_path / "p", tmp_path / "c"
    args = [str(BIN), "run", str(config), "--output", str(out), "--cache", str(cache),
            "--no-report"]
    first = subprocess.run([*args, "-q"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (out / "demo").iterdir()}
    # The per-cell range-RAPTOR: long enough a kernel to be interrupted in.
    bigger = config.read_text().replace(
        'modes = ["car"]', 'modes = ["car", "pt"]\npt_method = "per-cell"')
    config.write_text(bigger)
    # The signal's default action restored: a test runner may ignore SIGINT.
    child = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             text=True, env={**os.environ, "CI": "1"},
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in child.stderr:
        lines.append(line)
        if line.startswith("public transport: range-RAPTOR"):  # in the Numba kernel now
            child.send_signal(signal.SIGINT)
            break
    lines += child.stderr.readlines()
    assert child.wait(timeout=120) == 130, "".join(lines)
    assert lines[-1] == "interrupted\n"
    assert not any("Traceback" in line for line in lines)
    assert {p.name: p.read_bytes() for p in (out / "demo").iterdir()} == before
    leftovers = [p.name for folder in (out, cache) for p in folder.iterdir()
                 if p.name.endswith(".tmp") or ".old-" in p.name]
    assert leftovers == []
    manifest = json.loads((out / "demo" / "manifest.json").read_text())
    assert manifest["settings"]["modes"] == ["car"]


def test_a_full_disk_is_one_error_line_and_keeps_the_profile(config, tmp_path):
    """A write that the system refuses (here: a file size limit, as a full
    disk would) ends in exit 2 naming the path, the earlier profile intact."""
    out, cache = tmp_path / "p", tmp_path / "c"
    args = [str(BIN), "run", str(config), "--output", str(out), "--cache", str(cache), "-q",
            "--no-report", "--no-catalog"]
    assert subprocess.run(args, capture_output=True).returncode == 0
    before = {p.name: p.read_bytes() for p in (out / "demo").iterdir()}
    limit = max(len(data) for data in before.values()) // 2

    def small_files():
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(args, capture_output=True, text=True, preexec_fn=small_files)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {out / 'demo'}") and "File too large" in done.stderr
    assert {p.name: p.read_bytes() for p in (out / "demo").iterdir()} == before
    assert [p.name for p in out.iterdir()] == ["demo"]


def _read_only_mounts_work() -> bool:
    """Whether this machine lets the tests mount a folder read-only in a
    mount namespace of their own (root in a container usually may)."""
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            "mount --bind /tmp /tmp && mount -o remount,ro,bind /tmp"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not shutil.which("unshare") or not _read_only_mounts_work(),
                    reason="no read-only bind mounts here (needs unshare and mount rights)")
@pytest.mark.parametrize("which", ["output", "cache"])
def test_a_read_only_folder_is_refused_before_the_work(config, tmp_path, which):
    """A read-only output or cache folder (a real read-only mount, which also
    stops root) is named before any input is read; the profile stays."""
    folders = {"output": tmp_path / "p", "cache": tmp_path / "c"}
    args = [str(BIN), "run", str(config), "--output", str(folders["output"]),
            "--cache", str(folders["cache"]), "--no-report"]
    assert subprocess.run([*args, "-q"], capture_output=True).returncode == 0
    before = {p.name: p.read_bytes() for p in (folders["output"] / "demo").iterdir()}
    folder = folders[which]
    script = (f'mount --bind "{folder}" "{folder}" && '
              f'mount -o remount,ro,bind "{folder}" && exec "$@"')
    done = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *args],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: {folder}: cannot write in the {which} folder: Read-only file system; "
        "expected a writable folder"]
    assert {p.name: p.read_bytes() for p in (folders["output"] / "demo").iterdir()} == before
