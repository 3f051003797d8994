"""The DuckDB catalogue: the README's queries, keys, old profiles, killed and concurrent updates."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from bereikbaarheid import InputError, RunConfig, catalog, pipeline, run_profile, run_scenario

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "profiles" / "README.md"
EXAMPLES = ROOT / "examples" / "scenarios"
SECTION = "## The catalogue: catalog.duckdb"
FOLDERS = ("west", "demo", "demo@close-village-gp")


@dataclasses.dataclass
class Runs:
    output: Path  # the profile folders
    catalog: Path  # a catalogue of the three, written by catalog.update


@pytest.fixture(scope="module")
def runs(demo_region, tmp_path_factory) -> Runs:
    """Two regions (the demo's GM9901 as 'west', the whole demo) and a scenario
    of the demo, by walk and bike, and a catalogue of the three folders."""
    work = tmp_path_factory.mktemp("catalog")
    config = RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    settings = dataclasses.replace(config.settings, modes=("walk", "bike"), fca_mode="bike")
    config = dataclasses.replace(config, settings=settings)
    run_profile(dataclasses.replace(config, region="west", municipality_codes=("GM9901",)))
    run_scenario(config, EXAMPLES / "close-village-gp.toml")
    path = work / "own" / catalog.DEFAULT_NAME
    catalog.update(path, [work / "profiles" / name for name in FOLDERS])
    return Runs(output=work / "profiles", catalog=path)


def _readme_queries() -> list[str]:
    section = README.read_text(encoding="utf-8").split(f"\n{SECTION}\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)


def _query(path: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def _records(path: Path, sql: str) -> list[dict]:
    """Rows as dicts, NULL as None."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def _content(path: Path) -> dict[str, list]:
    """Every table's rows per key, and a checksum of its numbers, for comparing catalogues."""
    out = {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        for table in catalog.TABLES:
            out[table] = con.execute(f"SELECT region, scenario, count(*) FROM {table} "
                                     "GROUP BY ALL ORDER BY ALL").fetchall()
        out["cell_sum"] = con.execute("SELECT sum(x + y) FROM cells").fetchall()
    finally:
        con.close()
    return out


def test_the_readme_queries_answer_as_the_profile_files_do(runs):
    queries = _readme_queries()
    assert len(queries) == 3
    ranked, shortfall, versus = (_query(runs.catalog, sql) for sql in queries)

    # (a) the regions ranked by the share beyond the GP norm, by bike
    expected = []
    for region in ("west", "demo"):
        summary = pd.read_csv(runs.output / region / "summary.csv")
        row = summary[(summary["level"] == "region") & (summary["type"] == "gp")
                      & (summary["mode"] == "bike")]
        expected.append((region, row["population"].item(), row["share_beyond_norm"].item()))
    expected.sort(key=lambda r: (-r[2], r[0]))
    assert list(ranked["region"]) == [r[0] for r in expected]
    assert list(ranked["population"]) == [r[1] for r in expected]
    assert list(ranked["share_beyond_norm"]) == pytest.approx([r[2] for r in expected])
    assert ranked["share_beyond_norm"].nunique() == 2  # a ranking, not a tie

    # (b) the demo's municipalities with their GP FTE shortfall
    capacity = pd.read_csv(runs.output / "demo" / "capacity.csv")
    gp = capacity[(capacity["level"] == "municipality") & (capacity["type"] == "gp")]
    gp = gp.sort_values(["fte_shortfall", "area_code"], ascending=[False, True])
    assert len(gp) == 3
    assert list(shortfall["area_code"]) == list(gp["area_code"])
    for column in ("demand", "capacity", "gap", "fte_shortfall"):
        assert list(shortfall[column]) == pytest.approx(list(gp[column]))

    # (c) the scenario against its baseline, per type and mode
    base = pd.read_csv(runs.output / "demo" / "summary.csv")
    scen = pd.read_csv(runs.output / "demo@close-village-gp" / "summary.csv")
    keys = ["level", "area_code", "type", "mode"]
    both = scen.merge(base, on=keys, suffixes=("_scenario", "_baseline"))
    both = both[both["level"] == "region"].sort_values(["type", "mode"])
    assert len(versus) == len(both) == 3 * 2  # three types, walk and bike
    assert list(versus["type"]) == list(both["type"])
    assert list(versus["mode"]) == list(both["mode"])
    for column in ("median_time_s_baseline", "median_time_s_scenario",
                   "share_beyond_norm_baseline", "share_beyond_norm_scenario"):
        assert list(versus[column]) == pytest.approx(list(both[column]), nan_ok=True)
    # Closing the village GP shows: someone's GP is now farther away.
    gp_rows = versus[versus["type"] == "gp"]
    assert (gp_rows["share_beyond_norm_scenario"]
            >= gp_rows["share_beyond_norm_baseline"]).all()
    assert (gp_rows["share_beyond_norm_scenario"]
            > gp_rows["share_beyond_norm_baseline"]).any()


def test_every_table_holds_each_profile_under_its_key(runs):
    profiles = _records(runs.catalog, "SELECT * FROM profiles ORDER BY region, scenario")
    assert [(row["region"], row["scenario"]) for row in profiles] == [
        ("demo", "baseline"), ("demo", "close-village-gp"), ("west", "baseline")]
    for row in profiles:
        name = row["region"] + ("" if row["scenario"] == "baseline" else f"@{row['scenario']}")
        folder = runs.output / name
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert row["folder"] == str(folder.resolve())
        assert json.loads(row["manifest"]) == manifest
        assert row["schema_version"] == manifest["schema_version"]
        assert row["created_at"] == manifest["created_at"]
        scenario = manifest.get("scenario")
        assert row["baseline_folder"] == (scenario["baseline"] if scenario else None)
        assert row["description"] == (scenario["description"] if scenario else None)

    for name, region, scenario in (("west", "west", "baseline"), ("demo", "demo", "baseline"),
                                   ("demo@close-village-gp", "demo", "close-village-gp")):
        folder = runs.output / name
        for table, file in (("summary", "summary.csv"), ("capacity", "capacity.csv"),
                            ("facilities", "facilities.csv")):
            expected = pd.read_csv(folder / file)
            got = _query(runs.catalog, f"SELECT * FROM {table} WHERE region = ? AND scenario = ?",
                         [region, scenario])
            assert len(got) == len(expected), (name, table)
            # In file order, with the file's values.
            text = "facility_id" if table == "facilities" else "area_code"
            assert list(got[text]) == list(expected[text])
            number = "capacity" if table != "summary" else "median_time_s"
            assert list(got[number]) == pytest.approx(list(expected[number]), nan_ok=True)

        cells = gpd.read_parquet(folder / "cells.parquet")
        got = _query(runs.catalog, "SELECT cell_id, x, lon, lat, geometry FROM cells "
                                   "WHERE region = ? AND scenario = ?", [region, scenario])
        assert list(got["cell_id"]) == list(cells["cell_id"])
        assert list(got["x"]) == list(cells["x"])
        # WGS84 of the cell centroid, computed here from the geometry.
        centroids = cells.geometry.centroid.to_crs("EPSG:4326")
        np.testing.assert_allclose(got["lon"], centroids.x, atol=2e-7)
        np.testing.assert_allclose(got["lat"], centroids.y, atol=2e-7)
        assert 3 < got["lon"].min() and got["lat"].max() < 54  # Zeeland, not the Gulf of Guinea
        geometries = shapely.from_wkb([bytes(g) for g in got["geometry"]])
        assert shapely.equals(geometries, cells.geometry.to_numpy()).all()
        if (folder / "areas.parquet").is_file():
            areas = gpd.read_parquet(folder / "areas.parquet")
            got = _query(runs.catalog, "SELECT area_code, lon, geometry FROM areas "
                                       "WHERE region = ? AND scenario = ?", [region, scenario])
            assert list(got["area_code"]) == list(areas["area_code"])
            assert list(got["lon"]) == list(areas["lon"])
            assert shapely.equals(shapely.from_wkb([bytes(g) for g in got["geometry"]]),
                                  areas.geometry.to_numpy()).all()

    diff = gpd.read_parquet(runs.output / "demo@close-village-gp" / "diff_cells.parquet")
    got = _query(runs.catalog, "SELECT cell_id, lon, lat FROM diff_cells")
    assert list(got["cell_id"]) == list(diff["cell_id"])
    np.testing.assert_allclose(got["lat"], diff.geometry.centroid.to_crs("EPSG:4326").y,
                               atol=2e-7)
    for table in ("diff_summary", "diff_capacity", "diff_facilities"):
        rows = _query(runs.catalog, f"SELECT region, scenario, count(*) AS n FROM {table} "
                                    "GROUP BY ALL")
        expected = len(pd.read_csv(runs.output / "demo@close-village-gp" / f"{table}.csv"))
        assert rows.to_dict("records") == [{"region": "demo", "scenario": "close-village-gp",
                                            "n": expected}]


def test_adding_a_profile_again_replaces_its_rows(runs, tmp_path, caplog):
    path = tmp_path / "catalog.duckdb"
    shutil.copyfile(runs.catalog, path)
    before = _content(path)
    with caplog.at_level(logging.INFO, logger="bereikbaarheid.catalog"):
        catalog.update(path, [runs.output / "demo"])
        size = path.stat().st_size
        for _ in range(2):
            catalog.update(path, [runs.output / "demo"])
    assert f"catalogue {path}: added demo/baseline" in caplog.text
    assert _content(path) == before
    # The earlier rows' space is reused, not added to at every update.
    assert path.stat().st_size <= size * 1.05
    assert sorted(os.listdir(tmp_path)) == [".catalog.duckdb.lock", "catalog.duckdb"]


def _old_profile(source: Path, folder: Path, region: str) -> Path:
    """A copy of a profile as an older schema wrote it: no areas, no
    facility coordinates, no package version, and a summary column fewer."""
    shutil.copytree(source, folder)
    for name in ("areas.parquet", "municipalities.geojson"):
        (folder / name).unlink(missing_ok=True)
    facilities = pd.read_csv(folder / "facilities.csv")
    facilities.drop(columns=["x", "y", "lon", "lat"], errors="ignore").to_csv(
        folder / "facilities.csv", index=False)
    summary = pd.read_csv(folder / "summary.csv")
    summary.drop(columns=["gini_time"]).to_csv(folder / "summary.csv", index=False)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(region=region, schema_version="1.2.0")
    for key in ("version", "columns", "sha256"):
        manifest.pop(key, None)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_an_old_profile_goes_in_with_what_it_has(runs, tmp_path):
    old = _old_profile(runs.output / "west", tmp_path / "old", "old")
    path = tmp_path / "catalog.duckdb"
    catalog.update(path, [old, runs.output / "west"])
    profile = _records(path, "SELECT schema_version, version FROM profiles WHERE region = 'old'")
    assert profile == [{"schema_version": "1.2.0", "version": None}]
    assert _query(path, "SELECT count(*) AS n FROM areas WHERE region = 'old'")["n"].item() == 0
    facilities = _query(path, "SELECT region, lon, lat FROM facilities")
    old_rows = facilities[facilities["region"] == "old"]
    assert len(old_rows) == len(pd.read_csv(old / "facilities.csv")) > 0
    assert old_rows["lon"].isna().all() and old_rows["lat"].isna().all()
    west_facilities = pd.read_csv(runs.output / "west" / "facilities.csv")
    if "lon" in west_facilities:  # schema 1.5.0: facilities carry their coordinates
        west_rows = facilities[facilities["region"] == "west"]
        assert list(west_rows["lon"]) == pytest.approx(list(west_facilities["lon"]))
    # A column only one profile has is NULL in the other's rows, and keeps its type.
    gini = _query(path, "SELECT region, gini_time, typeof(gini_time) AS t FROM summary")
    assert gini.loc[gini["region"] == "old", "gini_time"].isna().all()
    assert gini.loc[gini["region"] == "west", "gini_time"].notna().any()
    assert set(gini["t"]) == {"DOUBLE"}
    assert len(_query(path, "SELECT * FROM cells WHERE region = 'old'")) == len(
        pd.read_parquet(old / "cells.parquet", columns=["cell_id"]))


def test_a_column_empty_in_one_profile_keeps_its_type(runs, tmp_path):
    """A text column left empty reads as numbers in pandas; it stays text."""
    blank = _old_profile(runs.output / "west", tmp_path / "blank", "blank")
    facilities = pd.read_csv(blank / "facilities.csv")
    facilities["name"] = np.nan
    facilities["capacity"] = np.nan
    facilities.to_csv(blank / "facilities.csv", index=False)
    path = tmp_path / "catalog.duckdb"
    catalog.update(path, [blank])
    catalog.update(path, [runs.output / "west"])
    types = dict(_query(path, "SELECT column_name, data_type FROM duckdb_columns() "
                              "WHERE table_name = 'facilities'").values.tolist())
    assert types["name"] == "VARCHAR" and types["capacity"] == "DOUBLE"
    names = _query(path, "SELECT name FROM facilities WHERE region = 'west'")["name"]
    assert list(names) == list(pd.read_csv(runs.output / "west" / "facilities.csv")["name"])


def test_rebuild_takes_every_profile_folder_and_only_those(runs, tmp_path, caplog):
    output = tmp_path / "profiles"
    for name in FOLDERS:
        shutil.copytree(runs.output / name, output / name)
    shutil.copytree(runs.output / "west", output / ".west.123-abcdef12.x.tmp")
    (output / "notes").mkdir()
    (output / "notes" / "summary.csv").write_text("level\n", encoding="utf-8")
    (output / catalog.DEFAULT_NAME).write_bytes(b"not a catalogue")  # replaced, not read
    # A copy under another name holds the same key: the folder named after it is kept.
    shutil.copytree(runs.output / "west", output / "west-copy")
    (output / "west-copy" / "facilities.csv").unlink()
    with caplog.at_level(logging.WARNING, logger="bereikbaarheid.catalog"):
        catalog.rebuild(None, output)
    assert f"the catalogue keeps {output / 'west'} and skips {output / 'west-copy'}" in caplog.text
    shutil.rmtree(output / "west-copy")
    keys = _query(output / catalog.DEFAULT_NAME, "SELECT region, scenario FROM profiles "
                                                 "ORDER BY ALL").values.tolist()
    assert keys == [["demo", "baseline"], ["demo", "close-village-gp"], ["west", "baseline"]]
    assert _content(output / catalog.DEFAULT_NAME) == _content(runs.catalog)
    shutil.rmtree(output / "west")
    catalog.rebuild(output / catalog.DEFAULT_NAME, output)
    assert _query(output / catalog.DEFAULT_NAME, "SELECT DISTINCT region FROM cells "
                                                 "ORDER BY ALL")["region"].tolist() == ["demo"]


def test_a_file_that_is_no_catalogue_is_named_and_left_alone(runs, tmp_path):
    path = tmp_path / "catalog.duckdb"
    for content in (b"\x00garbage" * 1000, b""):
        path.write_bytes(content)
        with pytest.raises(InputError, match="expected a DuckDB catalogue") as caught:
            catalog.update(path, [runs.output / "west"])
        assert caught.value.path == path
        assert str(path) in str(caught.value) and ".tmp" not in str(caught.value)
        assert path.read_bytes() == content
    path.unlink()
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (amount DOUBLE)")
    con.close()
    with pytest.raises(InputError, match=r"holds other tables \(sales\)"):
        catalog.update(path, [runs.output / "west"])
    assert sorted(os.listdir(tmp_path)) == [".catalog.duckdb.lock", "catalog.duckdb"]


def test_a_run_checks_its_catalogue_before_the_long_work(runs, demo_region, tmp_path):
    path = tmp_path / "catalog.duckdb"
    catalog.check(path)  # nothing there: fine
    for content in (b"\x00garbage" * 1000, b""):
        path.write_bytes(content)
        with pytest.raises(InputError, match="expected a DuckDB catalogue") as caught:
            catalog.check(path)
        assert caught.value.path == path and path.read_bytes() == content
    config = RunConfig.from_toml(demo_region.config, output_dir=tmp_path / "out",
                                 cache_dir=tmp_path / "cache", catalog=path)
    with pytest.raises(InputError, match="expected a DuckDB catalogue"):
        pipeline.prepare(config)
    assert not (tmp_path / "out" / "demo").exists()
    catalog.update(tmp_path / "good.duckdb", [runs.output / "west"])
    catalog.check(tmp_path / "good.duckdb")


def test_what_is_no_profile_is_refused_before_the_catalogue_is_touched(runs, tmp_path):
    path = tmp_path / "catalog.duckdb"
    with pytest.raises(InputError, match="has no manifest.json") as caught:
        catalog.update(path, [runs.output / "west", tmp_path])
    assert caught.value.path == tmp_path
    named = tmp_path / "baseline-named"
    shutil.copytree(runs.output / "demo@close-village-gp", named)
    manifest = json.loads((named / "manifest.json").read_text(encoding="utf-8"))
    manifest["scenario"]["name"] = "baseline"
    (named / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="'baseline'") as caught:
        catalog.update(path, [named])
    assert caught.value.path == named / "manifest.json"
    assert not path.exists()

    shutil.copyfile(runs.catalog, path)
    digest = path.read_bytes()
    damaged = tmp_path / "damaged"
    shutil.copytree(runs.output / "west", damaged)
    (damaged / "cells.parquet").write_bytes(b"PAR1 and then nothing")
    with pytest.raises(InputError, match="expected the cells.parquet of a profile") as caught:
        catalog.update(path, [damaged])
    assert caught.value.path == damaged / "cells.parquet"
    assert path.read_bytes() == digest
    assert sorted(os.listdir(tmp_path)) == [".catalog.duckdb.lock", "baseline-named",
                                            "catalog.duckdb", "damaged"]


def _big_profile(source: Path, folder: Path, region: str, copies: int) -> Path:
    """A copy of a profile whose cells are ``copies`` times as many (shifted
    east), so that adding it takes a while."""
    shutil.copytree(source, folder)
    (folder / "cells.parquet").unlink()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["region"] = region
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET enable_geoparquet_conversion = false")
    con.execute(f"COPY (SELECT * REPLACE (cell_id || '-' || i AS cell_id, x + i * 50000 AS x) "
                f"FROM read_parquet('{source / 'cells.parquet'}'), range({copies}) AS r(i) "
                f"ORDER BY i) TO '{folder / 'cells.parquet'}' (FORMAT parquet)")
    con.close()
    return folder


def _start_update(path: Path, *folders: Path) -> subprocess.Popen:
    code = "import sys; from bereikbaarheid import catalog; catalog.update(sys.argv[1], sys.argv[2:])"
    return subprocess.Popen([sys.executable, "-c", code, str(path), *map(str, folders)],
                            stderr=subprocess.PIPE)


def _work_folders(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(".catalog.duckdb.") and n.endswith(".tmp")]


def _wait_for_work_folder(folder: Path, process: subprocess.Popen) -> float:
    """Wait until ``process`` has started writing (its working copy is
    there) or has ended; the time it started."""
    deadline = time.monotonic() + 60
    while not _work_folders(folder) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    return time.monotonic()


def test_an_update_killed_mid_write_leaves_the_previous_catalogue(runs, tmp_path):
    big = _big_profile(runs.output / "demo", tmp_path / "big", "big", copies=20)
    # How long an update writes when left alone, so that the kills below
    # land all over it: copying, deleting, inserting, committing, renaming.
    timing = tmp_path / "timing" / "catalog.duckdb"
    timing.parent.mkdir()
    shutil.copyfile(runs.catalog, timing)
    process = _start_update(timing, big)
    started = _wait_for_work_folder(timing.parent, process)
    assert process.wait() == 0
    write_s = time.monotonic() - started
    assert write_s > 0.2  # long enough to be killed in the middle
    complete = _content(timing)

    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "catalog.duckdb"
    shutil.copyfile(runs.catalog, path)
    before, digest = _content(path), path.read_bytes()
    assert complete["profiles"] == sorted(before["profiles"] + [("big", "baseline", 1)])
    killed_mid_write = 0
    for share in (0.05, 0.3, 0.55, 0.8, 0.95):
        process = _start_update(path, big)
        started = _wait_for_work_folder(folder, process)
        time.sleep(max(0.0, started + share * write_s - time.monotonic()))
        # A dashboard reading meanwhile sees a whole catalogue, before or after.
        assert _content(path) in (before, complete)
        running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        if path.read_bytes() == digest:
            assert _content(path) == before  # opens read-only: a complete DuckDB file
            killed_mid_write += running
        else:  # killed after the rename: the update is complete
            assert _content(path) == complete
            break
    assert killed_mid_write >= 3
    catalog.update(path, [big])
    # The killed runs' working copies are gone with the next run.
    assert sorted(os.listdir(folder)) == [".catalog.duckdb.lock", "catalog.duckdb"]
    assert _content(path) == complete


def test_two_updates_at_once_both_land(runs, tmp_path):
    one = _big_profile(runs.output / "demo", tmp_path / "one", "one", copies=20)
    two = _big_profile(runs.output / "demo", tmp_path / "two", "two", copies=20)
    path = tmp_path / "catalog.duckdb"
    shutil.copyfile(runs.catalog, path)
    before = _content(path)
    processes = [_start_update(path, one), _start_update(path, two)]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    after = _content(path)
    assert after["profiles"] == sorted(before["profiles"]
                                       + [("one", "baseline", 1), ("two", "baseline", 1)])
    cells = {(r, s): n for r, s, n in after["cells"]}
    assert cells[("one", "baseline")] == cells[("two", "baseline")] == 20 * cells[("demo",
                                                                                   "baseline")]
