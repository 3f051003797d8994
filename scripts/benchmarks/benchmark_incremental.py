"""Benchmark: a scenario's road travel times updated incrementally against a full rerun.

Usage::

    python scripts/benchmarks/benchmark_incremental.py --scale 1
    python scripts/benchmarks/benchmark_incremental.py --scale 8 --repeat 3

Generates the demo region at ``--scale``, computes every road measure once
(``measures.access.compute_access``: nearest facility, distance and counts
within thresholds for 3 types x 3 modes, plus the CBS distance), then, side
by side in one run, for the GP serving the fewest cells and for a new school:

- closing it: ``access.close_facilities`` (only the nodes it served are
  searched again) against ``compute_access`` on the facilities without it;
- adding it: ``access.add_facilities`` (one search from the new facility)
  against ``compute_access`` with it.

Each incremental table is checked to equal the full rerun exactly before
the times are printed (best of ``--repeat``), with the ratio full / incremental.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from bereikbaarheid.config import Settings
from bereikbaarheid.demo import generate
from bereikbaarheid.measures import access
from bereikbaarheid.networks import cache
from bereikbaarheid.sources import grid


def _best(repeat: int, run):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    settings = Settings(modes=("walk", "bike", "car"))

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        region = generate.generate_demo(work / "region", scale=args.scale)
        networks, _, _ = cache.load_or_build(region.osm, settings, work / "cache")
        cells = grid.read_grid(region.grid_100m, settings).cells
        x, y = cells["x"].to_numpy(), cells["y"].to_numpy()
        fac = pd.read_csv(region.facilities_csv)[["facility_id", "type", "x", "y"]]
        fac["domestic"] = True
        print(f"demo scale {args.scale:g}: {len(x):,} cells, {len(fac)} facilities, nodes "
              + ", ".join(f"{m} {n.n_nodes:,}" for m, n in networks.items()))
        access.compute_access(networks, x, y, fac.iloc[:5], settings)  # compile
        full_s, base = _best(args.repeat, lambda: access.compute_access(
            networks, x, y, fac, settings))

        served = base.table["gp_car_facility_id"].value_counts()
        gp = served.index[-1]
        rest = fac[fac["facility_id"] != gp].reset_index(drop=True)
        close_s, closed = _best(args.repeat, lambda: access.close_facilities(base.state, [gp]))
        close_full_s, ref = _best(args.repeat, lambda: access.compute_access(
            networks, x, y, rest, settings))
        pd.testing.assert_frame_equal(closed.table, ref.table, check_exact=True)

        school = fac[fac["type"] == "school"].iloc[[0]].copy()
        school["facility_id"] = "new:school"
        school[["x", "y"]] += 250.0
        grown = pd.concat([fac, school], ignore_index=True)
        add_s, added = _best(args.repeat, lambda: access.add_facilities(base.state, school))
        add_full_s, ref = _best(args.repeat, lambda: access.compute_access(
            networks, x, y, grown, settings))
        pd.testing.assert_frame_equal(added.table, ref.table, check_exact=True)

    rows = [("close a GP", gp, close_s, close_full_s), ("add a school", "new:school", add_s,
                                                        add_full_s)]
    print(f"full compute_access: {full_s:.2f} s (best of {args.repeat})")
    print(f"{'change':<14}{'facility':<16}{'incremental s':>14}{'full rerun s':>14}{'ratio':>8}"
          "  tables")
    for what, fid, inc, full in rows:
        print(f"{what:<14}{fid:<16}{inc:>14.3f}{full:>14.3f}{full / inc:>8.1f}  identical")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "scale": args.scale, "cells": int(len(x)), "facilities": int(len(fac)),
            "compute_access_s": full_s,
            "changes": [{"change": w, "facility": f, "incremental_s": i, "full_s": fl,
                         "ratio": fl / i} for w, f, i, fl in rows]}, indent=2))


if __name__ == "__main__":
    main()
