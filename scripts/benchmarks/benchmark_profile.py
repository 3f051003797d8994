"""Time a whole profile (road modes and public transport) on a generated region of a given size.

Usage::

    python scripts/benchmarks/benchmark_profile.py --scale 33      # about 1M road nodes

Generates the demo region at ``--scale`` (through the public API), runs the
profile twice (the first run builds the network cache and compiles nothing
new if the kernels are cached; the second reuses the cache) and prints the
time of every step and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from bereikbaarheid import RunConfig, generate_demo, run_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=33.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        start = time.perf_counter()
        region = generate_demo(work / "region", seed=args.seed, scale=args.scale)
        generate_s = time.perf_counter() - start
        print(f"demo region scale {args.scale:g}: {region.n_road_nodes:,} road nodes, "
              f"{region.n_cells:,} cells, {region.population:,} inhabitants "
              f"(generated in {generate_s:.1f} s)")
        config = RunConfig.from_toml(region.config, output_dir=work / "profiles",
                                     cache_dir=work / "cache")
        runs = {}
        for label in ("first run (builds the cache)", "second run (reuses it)"):
            start = time.perf_counter()
            result = run_profile(config)
            total = time.perf_counter() - start
            runs[label] = {"total_s": round(total, 2), **result.manifest["timings_s"]}
            steps = ", ".join(f"{k} {v:.1f}s" for k, v in result.manifest["timings_s"].items())
            print(f"{label}: {total:.1f} s ({steps})")
        nodes = {m: result.manifest["networks"][m]["stats"]["nodes"]
                 for m in ("walk", "bike", "car")}
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
        print(f"network nodes per mode: {nodes}")
        print(f"peak memory (max RSS): {peak_gb:.2f} GB")
        if args.json:
            Path(args.json).write_text(json.dumps({
                "scale": args.scale, "road_nodes": region.n_road_nodes,
                "cells": region.n_cells, "generate_s": round(generate_s, 2),
                "runs": runs, "peak_rss_gb": round(peak_gb, 2)}, indent=2))


if __name__ == "__main__":
    main()
