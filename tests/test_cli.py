"""The command line: ``bereikbaarheid demo`` and ``bereikbaarheid run``."""

from __future__ import annotations

import json

import pandas as pd

from bereikbaarheid import cli


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
    # Step messages and warnings go to stderr, each warning once.
    assert "reading population grid" in printed.err
    warnings = [line for line in printed.err.splitlines() if line.startswith("warning: ")]
    assert warnings and len(warnings) == len(set(warnings))
    assert not any(line.startswith("warning") for line in printed.out.splitlines())

    # --quiet: only the paths written, nothing on stderr.
    code = cli.main(["demo", "--folder", str(folder), "--output", str(out),
                     "--cache", str(cache), "--quiet"])
    printed = capsys.readouterr()
    assert code == 0 and printed.err == ""
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
                     "--cache", str(tmp_path / "c"), "--quiet"])
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
                     "--cache", str(tmp_path / "c")]) == 0
    assert "<=20 min" in capsys.readouterr().out
