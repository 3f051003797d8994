"""The command line: ``bereikbaarheid demo``, ``run``, ``report`` and ``catalog``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bereikbaarheid import cli

BIN = Path(sys.executable).with_name("bereikbaarheid")


def test_demo_generates_runs_and_says_what_it_wrote(tmp_path, capsys):
    folder, out, cache = tmp_path / "demo_region", tmp_path / "profiles", tmp_path / "cache"
    code = cli.main(["demo", "--folder", str(folder), "--output", str(out),
                     "--cache", str(cache)])
    printed = capsys.readouterr()
    assert code == 0
    for word in ("gp", "school", "supermarket", "walk", "bike", "car", "steps:", "written:",
                 "inhabitants"):
        assert word in printed.out
    assert f"demo inputs: {folder}" in printed.out
    for name in ("cells.parquet", "summary.csv", "summary.json", "manifest.json"):
        assert (out / "demo" / name).is_file()
        assert str(out / "demo" / name) in printed.out
    assert (folder / "demo.osm.pbf").is_file()
    # It ends by pointing to something to look at: the report.
    report = out / "demo" / "report" / "index.html"
    assert printed.out.splitlines()[-1] == f"report: {report}"
    assert report.is_file() and any((report.parent / "figures").glob("*.png"))
    assert "report: building" in printed.err
    # Step messages and warnings go to stderr, each warning once.
    assert "reading population grid" in printed.err
    warnings = [line for line in printed.err.splitlines() if line.startswith("warning: ")]
    assert warnings and len(warnings) == len(set(warnings))
    assert not any(line.startswith("warning") for line in printed.out.splitlines())

    # The profile went into the output folder's catalogue.
    assert (out / "catalog.duckdb").is_file()

    # --quiet: only the paths written, nothing on stderr; --no-report: no
    # report (the profile folder is written anew, without the earlier one);
    # --no-catalog: no catalogue.
    (out / "catalog.duckdb").unlink()
    code = cli.main(["demo", "--folder", str(folder), "--output", str(out),
                     "--cache", str(cache), "--quiet", "--no-report", "--no-catalog"])
    printed = capsys.readouterr()
    assert code == 0 and printed.err == ""
    assert not (out / "demo" / "report").exists()
    assert not (out / "catalog.duckdb").exists()
    assert printed.out.splitlines() == [str(p) for p in sorted(
        (out / "demo").iterdir(), key=lambda p: printed.out.index(p.name))]


def test_run_takes_a_config_file_and_the_osm_facility_source(demo_region, tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(
        demo_region.config.read_text().replace('facilities = "facilities.csv"',
                                               'facilities = "osm"')
        .replace('name = "demo"', 'name = "from-osm"'))
    # Inputs are relative to the config file: point them at the demo folder.
    text = config.read_text()
    for name in ("demo.osm.pbf", "grid_100m.gpkg", "gemeenten.gpkg", "facilities.csv", "gtfs.zip"):
        text = text.replace(f'"{name}"', f'"{demo_region.folder / name}"')
    config.write_text(text)
    code = cli.main(["run", str(config), "--output", str(tmp_path / "p"),
                     "--cache", str(tmp_path / "c"), "--quiet", "--no-report"])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "p" / "from-osm" / "manifest.json").read_text())
    assert manifest["facility_source"] == "osm"
    assert "facilities" not in manifest["inputs"]
    summary = pd.read_csv(tmp_path / "p" / "from-osm" / "summary.csv")
    assert summary["median_time_s"].notna().all()
    # Without a register, capacities are the documented defaults.
    facilities = pd.read_csv(tmp_path / "p" / "from-osm" / "facilities.csv")
    assert set(facilities["capacity_source"]) == {"default"}


def _demo_config(demo_region, tmp_path, extra: str):
    """A copy of the demo's run.toml elsewhere, inputs pointing at the demo."""
    config = tmp_path / "run.toml"
    text = demo_region.config.read_text()
    for name in ("demo.osm.pbf", "grid_100m.gpkg", "gemeenten.gpkg", "facilities.csv", "gtfs.zip"):
        text = text.replace(f'"{name}"', f'"{demo_region.folder / name}"')
    # The demo's run.toml has a [settings] table already: add the extra lines to it.
    settings = extra.split("[settings]\n", 1)[1]
    config.write_text(text.replace("[settings]\n", "[settings]\n" + settings, 1))
    return config


def test_unknown_setting_in_a_config_is_an_error(demo_region, tmp_path, capsys):
    config = _demo_config(demo_region, tmp_path, "\n[settings]\nwalk_speed = 4\n")
    assert cli.main(["run", str(config), "--quiet"]) == 2
    assert "walk_speed" in capsys.readouterr().err


def test_summary_table_follows_the_configured_thresholds(demo_region, tmp_path, capsys):
    config = _demo_config(demo_region, tmp_path, "\n[settings]\nthresholds_min = [10, 20]\n")
    assert cli.main(["run", str(config), "--output", str(tmp_path / "p"),
                     "--cache", str(tmp_path / "c"), "--no-report"]) == 0
    assert "<=20 min" in capsys.readouterr().out


# -- report and catalog ----------------------------------------------------------

@pytest.fixture(scope="module")
def profiles(demo_region, tmp_path_factory) -> Path:
    """An output folder with the demo's profile (car only: quick) and its
    report, written by ``run -q``, which prints the report's path last; its
    catalogue goes where ``--catalog`` says."""
    work = tmp_path_factory.mktemp("profiles")
    text = demo_region.config.read_text()
    for name in ("demo.osm.pbf", "grid_100m.gpkg", "gemeenten.gpkg", "facilities.csv",
                 "gtfs.zip"):
        text = text.replace(f'"{name}"', f'"{demo_region.folder / name}"')
    config = work / "run.toml"
    config.write_text(text.replace("[settings]\n", '[settings]\nmodes = ["car"]\n'
                                                   "compare_scopes = false\n", 1))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["run", str(config), "--output", str(work / "profiles"),
                         "--cache", str(work / "cache"), "--catalog", str(work / "run.duckdb"),
                         "-q"])
    assert code == 0, out.getvalue()
    assert (work / "run.duckdb").is_file()
    assert not (work / "profiles" / "catalog.duckdb").exists()
    assert out.getvalue().splitlines()[-1] == str(work / "profiles" / "demo" / "report"
                                                  / "index.html")
    return work / "profiles"


def test_report_writes_the_report_and_prints_its_path(profiles, capsys):
    folder = profiles / "demo"
    index = folder / "report" / "index.html"
    index.unlink()
    assert cli.main(["report", str(folder)]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines()[-1] == str(index)
    assert printed.err.splitlines()[0] == f"report: building {folder / 'report'}"
    assert index.is_file() and '<html lang="nl"' in index.read_text(encoding="utf-8")
    # In English; under -q only the path.
    assert cli.main(["report", str(folder), "--lang", "en", "-q"]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"{index}\n" and printed.err == ""
    assert '<html lang="en"' in index.read_text(encoding="utf-8")


def test_report_opens_the_browser_with_a_file_url(profiles, tmp_path):
    # A "browser" that notes the URL it was given (webbrowser runs $BROWSER).
    opened = tmp_path / "opened.txt"
    fake = tmp_path / "fake-browser"
    fake.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')
    fake.chmod(0o755)
    done = subprocess.run([str(BIN), "report", str(profiles / "demo"), "--open", "-q"],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "BROWSER": str(fake)})
    assert done.returncode == 0, done.stderr
    index = profiles / "demo" / "report" / "index.html"
    assert done.stdout == f"{index}\n"
    assert opened.read_text().strip() == index.resolve().as_uri()


def test_report_languages_are_the_report_s(capsys):
    from bereikbaarheid import report

    assert cli._LANGUAGES == report.LANGUAGES
    code = cli.main(["report", "profiles/demo", "--lang", "de"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: --lang: invalid choice: 'de'")


def test_report_of_a_folder_that_is_not_a_profile_is_one_error_line(tmp_path, capsys):
    for folder in (tmp_path, tmp_path / "missing"):
        code = cli.main(["report", str(folder)])
        printed = capsys.readouterr()
        assert code == 2 and printed.out == ""
        # One error line, the last (after the step message).
        errors = [line for line in printed.err.splitlines() if line.startswith("error:")]
        assert errors == printed.err.splitlines()[-1:]
        assert errors[0].startswith(f"error: {folder}: ")
    assert not (tmp_path / "report").exists()


def test_catalog_rebuilds_the_catalogue_of_an_output_folder(profiles, tmp_path, capsys):
    default = profiles / "catalog.duckdb"
    default.unlink(missing_ok=True)
    assert cli.main(["catalog", str(profiles)]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"{default}\n"
    elsewhere = tmp_path / "dashboard.duckdb"
    assert cli.main(["catalog", str(profiles), "--catalog", str(elsewhere), "-q"]) == 0
    assert capsys.readouterr().out == f"{elsewhere}\n"
    for path in (default, elsewhere):
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.execute("select region from profiles").fetchall() == [("demo",)]
    code = cli.main(["catalog", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines()[-1].startswith(f"error: {tmp_path / 'missing'}: ")


def test_closure_choices_are_the_closure_types(capsys):
    from bereikbaarheid import batch, closures

    assert cli._CLOSURE_CHOICES == closures.CLOSURE_TYPES == batch.CLOSURE_CHOICES
    code = cli.main(["scenario", "run.toml", "--each-closure", "hospital"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --each-closure: invalid choice: 'hospital'")
