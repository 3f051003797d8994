"""Time the report and the catalogue of a national-size profile (887,800 cells), tiled from the demo.

Usage::

    python scripts/benchmarks/benchmark_report.py                       # generates and runs the demo first
    python scripts/benchmarks/benchmark_report.py --profile profiles/demo [--region demo_region]

Builds a synthetic profile folder in a temporary folder: the demo profile's
cells repeated on a grid of tiles (shifted x, y, cell id and geometry) and
cut at ``--cells`` rows, the facilities and municipalities (areas.parquet)
shifted with them, the other tables as they are. Then runs
``build_report`` on it in a child process and prints its time, the size of
the page and the peak memory (max RSS) of that process; then, each in a
child of its own, ``catalog.update`` of a new catalogue with it and of that
catalogue again (its rows replaced), with time, file size and peak memory. A demo profile
without areas.parquet or facility coordinates (schema before 1.5.0) gets
them from ``--region`` (the demo region folder) when given.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

NATIONAL_CELLS = 887_800
TILES_PER_ROW = 14  # about the Netherlands' width to height with the demo's tiles

# The build runs in a child process of its own, so that its peak memory is
# its own: VmHWM of the new process image (ru_maxrss would carry over the
# parent's, which made the synthetic folder).
CHILD = """
import json, re, resource, sys, time
from pathlib import Path
from bereikbaarheid import catalog
from bereikbaarheid.report import build_report
start = time.perf_counter()
if sys.argv[1] == "report":
    index = build_report(sys.argv[2], lang=sys.argv[3])
else:
    index = sys.argv[3]
    catalog.update(index, [sys.argv[2]])
build_s = time.perf_counter() - start
try:
    status = Path("/proc/self/status").read_text()
    peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
except (OSError, AttributeError):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"build_s": build_s, "index": str(index), "peak_kb": peak_kb}))
"""


def demo_profile(work: Path) -> tuple[Path, Path]:
    """Generate the demo region and run its profile; (profile, region) folders."""
    from bereikbaarheid import RunConfig, generate_demo, run_profile

    region = generate_demo(work / "region", seed=2024)
    config = RunConfig.from_toml(region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    result = run_profile(config)
    return Path(result.files["manifest"]).parent, Path(region.config).parent


def tile_offsets(cells: pd.DataFrame, n_tiles: int) -> list[tuple[float, float]]:
    """(dx, dy) of each tile, in whole kilometres, row by row."""
    width = math.ceil((cells["x"].max() - cells["x"].min() + 1000) / 1000) * 1000
    height = math.ceil((cells["y"].max() - cells["y"].min() + 1000) / 1000) * 1000
    return [((k % TILES_PER_ROW) * width, (k // TILES_PER_ROW) * height)
            for k in range(n_tiles)]


def synthetic(profile: Path, region: Path | None, target: Path, n_cells: int) -> None:
    """Write the national-size copy of ``profile`` to ``target``."""
    target.mkdir(parents=True)
    cells = gpd.read_parquet(profile / "cells.parquet")
    n_tiles = math.ceil(n_cells / len(cells))
    offsets = tile_offsets(cells, n_tiles)
    codes = sorted(cells["municipality_code"].dropna().unique())
    tiles = []
    for k, (dx, dy) in enumerate(offsets):
        tile = cells.copy()
        tile["x"] = tile["x"] + dx
        tile["y"] = tile["y"] + dy
        tile["geometry"] = tile.geometry.translate(dx, dy)
        tile["municipality_code"] = tile["municipality_code"] + f"-{k}"
        tiles.append(tile)
    national = gpd.GeoDataFrame(pd.concat(tiles, ignore_index=True).iloc[:n_cells],
                                crs=cells.crs)
    resolution = 100.0
    national["cell_id"] = [
        f"E{int((x - resolution / 2) // 100):04d}N{int((y - resolution / 2) // 100):04d}"
        for x, y in zip(national["x"], national["y"])]
    national.to_parquet(target / "cells.parquet", index=False, compression="zstd")

    summary = pd.read_csv(profile / "summary.csv")
    region_rows = summary[summary["level"] == "region"]
    municipal = summary[summary["level"] == "municipality"]
    copies = []
    for k in range(n_tiles):
        copy = municipal.copy()
        copy["area_code"] = copy["area_code"] + f"-{k}"
        copy["area_name"] = copy["area_name"] + f" {k}"
        copies.append(copy)
    pd.concat([region_rows, *copies]).to_csv(target / "summary.csv", index=False)

    facilities = pd.read_csv(profile / "facilities.csv")
    if "x" not in facilities.columns and region is not None:
        where = pd.read_csv(region / "facilities.csv")[["facility_id", "x", "y"]]
        facilities = facilities.merge(where, on="facility_id", how="left")
    if "x" in facilities.columns:
        facilities = pd.concat([facilities.assign(
            facility_id=facilities["facility_id"] + f"-{k}", x=facilities["x"] + dx,
            y=facilities["y"] + dy) for k, (dx, dy) in enumerate(offsets)])
    facilities.to_csv(target / "facilities.csv", index=False)

    areas = None
    if (profile / "areas.parquet").is_file():
        areas = gpd.read_parquet(profile / "areas.parquet")
    elif region is not None:
        areas = gpd.read_file(region / "gemeenten.gpkg").rename(
            columns={"gemeentecode": "area_code", "gemeentenaam": "area_name"})
        areas["level"] = "municipality"
    if areas is not None:
        areas = areas[areas["level"] == "municipality"]
        areas = areas[areas["area_code"].isin(codes)]
        shifted = []
        for k, (dx, dy) in enumerate(offsets):
            copy = areas.copy()
            copy["geometry"] = copy.geometry.translate(dx, dy)
            copy["area_code"] = copy["area_code"] + f"-{k}"
            copy["area_name"] = copy["area_name"] + f" {k}"
            shifted.append(copy)
        gpd.GeoDataFrame(pd.concat(shifted, ignore_index=True), crs=areas.crs).to_parquet(
            target / "areas.parquet")

    for name in ("capacity.csv", "border.csv", "cbs_comparison.csv"):
        if (profile / name).is_file():
            shutil.copy(profile / name, target / name)
    manifest = json.loads((profile / "manifest.json").read_text(encoding="utf-8"))
    manifest["region"] = "national-benchmark"
    manifest.setdefault("grid", {})["resolution_m"] = resolution
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=Path, help="a demo profile folder (default: run one)")
    parser.add_argument("--region", type=Path, help="the demo region folder of --profile")
    parser.add_argument("--cells", type=int, default=NATIONAL_CELLS)
    parser.add_argument("--lang", default="nl")
    parser.add_argument("--keep", type=Path, help="copy the built report folder here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        profile, region = args.profile, args.region
        if profile is None:
            start = time.perf_counter()
            profile, region = demo_profile(work)
            print(f"demo profile run in {time.perf_counter() - start:.1f} s")
        folder = work / "national"
        start = time.perf_counter()
        synthetic(profile, region, folder, args.cells)
        print(f"synthetic national profile: {args.cells:,} cells "
              f"(made in {time.perf_counter() - start:.1f} s)")
        start = time.perf_counter()
        child = subprocess.run([sys.executable, "-c", CHILD, "report", str(folder), args.lang],
                               check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        result = json.loads(child.stdout.strip().splitlines()[-1])
        index = Path(result["index"])
        figures = list((index.parent / "figures").glob("*.png"))
        peak_gb = result["peak_kb"] / 1024 ** 2
        print(f"build_report: {result['build_s']:.1f} s "
              f"({wall:.1f} s with starting Python and the imports)")
        print(f"index.html: {index.stat().st_size / 1e6:.1f} MB; "
              f"{len(figures)} figures, {sum(f.stat().st_size for f in figures) / 1e6:.1f} MB")
        print(f"peak memory of the build (max RSS): {peak_gb:.2f} GB")
        database = work / "catalog.duckdb"
        for what in ("a new catalogue", "the same again (rows replaced)"):
            child = subprocess.run([sys.executable, "-c", CHILD, "catalog", str(folder),
                                    str(database)], check=True, capture_output=True, text=True)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"catalog.update, {what}: {result['build_s']:.1f} s, "
                  f"{database.stat().st_size / 1e6:.0f} MB, "
                  f"peak memory {result['peak_kb'] / 1024 ** 2:.2f} GB")
        if args.keep:
            shutil.copytree(index.parent, args.keep, dirs_exist_ok=True)
            print(f"report copied to {args.keep}")


if __name__ == "__main__":
    main()
