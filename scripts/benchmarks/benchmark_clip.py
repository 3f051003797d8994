"""Benchmark clipping a country-size OSM PBF to one region and to all eleven NPVR regions.

Generates (once, cached in ``--workdir``) a street lattice over the RD New
bounding box of the Netherlands with ``--nodes`` nodes, then runs
``bereikbaarheid.sources.clip.clip_osm`` in a fresh child process per case and
reports wall time, peak RSS (the child's own ``ru_maxrss``) and throughput.

    python scripts/benchmarks/benchmark_clip.py --nodes 5000000 --json clip.json
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import osmium
import pyproj
import shapely
from osmium.osm import mutable

# RD New bounding box of the Netherlands (metres).
NL_BBOX_M = (10_000.0, 300_000.0, 280_000.0, 620_000.0)
NODES_PER_WAY = 50
# Every this many-th lattice node is a facility (alternating school / supermarket).
FACILITY_EVERY = 997
# Approximate RD bounding boxes (km) of the eleven NPVR regions; good enough
# to size the work of a national run, not for analysis.
NPVR_BOXES_KM: dict[str, tuple[float, float, float, float]] = {
    "kop-van-noord-holland": (100, 525, 150, 582),
    "noord-en-oost-groningen": (225, 540, 280, 615),
    "noard-fryslan": (175, 570, 220, 610),
    "zuidoost-fryslan": (170, 530, 225, 575),
    "zuid-en-oost-drenthe": (220, 510, 270, 555),
    "twente": (215, 455, 270, 505),
    "achterhoek": (195, 425, 255, 470),
    "noord-limburg": (180, 360, 215, 425),
    "midden-limburg": (160, 330, 210, 375),
    "zuid-limburg": (170, 305, 210, 345),
    "zeeuws-vlaanderen": (10, 355, 75, 390),
}
ONE_REGION = "zeeuws-vlaanderen"

_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    spec = json.loads(sys.argv[1])
    import shapely
    start = time.perf_counter()
    if spec["kind"] == "clip":
        from bereikbaarheid.sources import clip
        areas = {k: shapely.from_wkt(v) for k, v in spec["areas"].items()}
        result = clip.clip_osm(spec["src"], areas, spec["outputs"])
    else:
        from bereikbaarheid.config import Settings
        from bereikbaarheid.sources import osm
        data = osm.read_osm(spec["src"], Settings())
        result = {"ways": data.n_ways, "nodes": int(data.node_id.shape[0])}
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"result": result, "seconds": seconds, "peak_rss_mb": peak_kb / 1024}))
""")


def lattice_pbf(path: Path, n_nodes: int) -> dict:
    """Write (or reuse) a street lattice PBF with about ``n_nodes`` nodes."""
    x0, y0, x1, y1 = NL_BBOX_M
    spacing_m = math.sqrt((x1 - x0) * (y1 - y0) / n_nodes)
    nx = int((x1 - x0) / spacing_m) + 1
    ny = int((y1 - y0) / spacing_m) + 1
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("requested_nodes") == n_nodes:
            return meta
    to_wgs84 = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    xs = x0 + spacing_m * np.arange(nx)
    start = time.perf_counter()
    if path.exists():
        path.unlink()
    n_ways = 0
    with osmium.SimpleWriter(str(path)) as writer:
        for row in range(ny):
            lon, lat = to_wgs84.transform(xs, np.full(nx, y0 + spacing_m * row))
            base = row * nx + 1
            for col, (x, y) in enumerate(zip(lon.tolist(), lat.tolist())):
                node_id = base + col
                tags = {}
                if node_id % FACILITY_EVERY == 0:
                    tags = ({"amenity": "school", "isced:level": "1"} if node_id % 2
                            else {"shop": "supermarket"})
                writer.add_node(mutable.Node(id=node_id, location=(x, y), tags=tags))
        way_id = 1
        step = NODES_PER_WAY - 1
        # rows, then columns, each cut into ways sharing their end nodes
        for row in range(ny):
            for c in range(0, nx - 1, step):
                refs = [row * nx + k + 1 for k in range(c, min(c + NODES_PER_WAY, nx))]
                writer.add_way(mutable.Way(id=way_id, nodes=refs,
                                           tags={"highway": "residential"}))
                way_id += 1
        for col in range(nx):
            for r in range(0, ny - 1, step):
                refs = [k * nx + col + 1 for k in range(r, min(r + NODES_PER_WAY, ny))]
                writer.add_way(mutable.Way(id=way_id, nodes=refs,
                                           tags={"highway": "tertiary"}))
                way_id += 1
        n_ways = way_id - 1
    meta = {"requested_nodes": n_nodes, "nodes": nx * ny, "ways": n_ways,
            "spacing_m": round(spacing_m, 1), "bytes": path.stat().st_size,
            "generate_s": round(time.perf_counter() - start, 1)}
    meta_path.write_text(json.dumps(meta))
    return meta


def region_areas(boundaries: Path | None) -> dict[str, shapely.Geometry]:
    """The eleven regions: polygons from ``boundaries`` when given, else approximate boxes."""
    if boundaries is None:
        return {name: shapely.box(*(1000.0 * v for v in box))
                for name, box in NPVR_BOXES_KM.items()}
    # only needed with real boundaries
    from bereikbaarheid.config import Settings
    from bereikbaarheid.sources import boundaries as boundary_files
    from bereikbaarheid.sources import regions

    settings = Settings()
    municipalities = boundary_files.read_municipalities(boundaries, settings)
    return {region_id: regions.resolve_region(spec, municipalities, settings,
                                              strict=False).area
            for region_id, spec in regions.read_registry().items()}


def run_child(spec: dict) -> dict:
    """Run one case in a fresh interpreter; its wall time and peak RSS."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(spec)],
                          capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall_s
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bereikbaarheid-clip-bench"))
    parser.add_argument("--boundaries", type=Path, default=None,
                        help="municipality boundaries: clip to real region polygons")
    parser.add_argument("--with-read", action="store_true",
                        help="also measure read_osm on the whole file (the thing clipping avoids)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    src = args.workdir / f"lattice-{args.nodes}.osm.pbf"
    meta = lattice_pbf(src, args.nodes)
    print(f"input {src}: {meta['nodes']:,} nodes, {meta['ways']:,} ways, "
          f"{meta['bytes'] / 2**20:.1f} MB (spacing {meta['spacing_m']} m)")
    regions = region_areas(args.boundaries)
    one = ONE_REGION if ONE_REGION in regions else next(iter(regions))
    cases = {
        "one region": {one: regions[one]},
        "eleven regions": regions,
    }
    rows = []
    for label, areas in cases.items():
        spec = {"kind": "clip", "src": str(src),
                "areas": {k: shapely.to_wkt(v) for k, v in areas.items()},
                "outputs": {k: str(args.workdir / f"{k}.osm.pbf") for k in areas}}
        out = run_child(spec)
        result = out["result"]
        nodes_out = sum(r["nodes"] for r in result.values())
        rows.append({"case": label, "areas": len(areas), "output_nodes": nodes_out,
                     "output_ways": sum(r["ways"] for r in result.values()),
                     "output_bytes": sum(r["bytes"] for r in result.values()),
                     "seconds": round(out["seconds"], 2), "wall_s": round(out["wall_s"], 2),
                     "peak_rss_mb": round(out["peak_rss_mb"], 1),
                     "input_nodes_per_s": round(meta["nodes"] / out["seconds"]),
                     "passes_s": next(iter(result.values()))["seconds"]})
    if args.with_read:
        out = run_child({"kind": "read", "src": str(src)})
        rows.append({"case": "read_osm whole file", "areas": 0,
                     "output_nodes": out["result"]["nodes"], "output_ways": out["result"]["ways"],
                     "output_bytes": 0, "seconds": round(out["seconds"], 2),
                     "wall_s": round(out["wall_s"], 2), "peak_rss_mb": round(out["peak_rss_mb"], 1),
                     "input_nodes_per_s": round(meta["nodes"] / out["seconds"]), "passes_s": {}})

    print(f"{'case':<22}{'areas':>6}{'out nodes':>12}{'out ways':>10}{'s':>9}"
          f"{'peak RSS MB':>13}{'nodes/s':>12}  passes")
    for r in rows:
        print(f"{r['case']:<22}{r['areas']:>6}{r['output_nodes']:>12,}{r['output_ways']:>10,}"
              f"{r['seconds']:>9.1f}{r['peak_rss_mb']:>13.0f}{r['input_nodes_per_s']:>12,}  "
              f"{r['passes_s']}")
    if args.json:
        args.json.write_text(json.dumps({"input": {**meta, "path": str(src)}, "cases": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
