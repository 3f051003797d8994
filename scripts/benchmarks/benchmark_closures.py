"""Benchmark: the impact of each closure against a scenario per closure, side by side.

Usage::

    python scripts/benchmarks/benchmark_closures.py                      # demo scale 1: its 23 GPs
    python scripts/benchmarks/benchmark_closures.py --scale 8
    python scripts/benchmarks/benchmark_closures.py --scale 160 --modes car --sample 3   # national size

Generates the demo region at ``--scale`` (the default seed), prepares it and
measures the baseline once, keeping its road searches. Then, in one run:

- ``closure_base``: what every closure starts from (public transport's
  nearest facility per departure; once);
- ``impact_rows`` for every GP (best of ``--repeat``), and per GP;
- the peer: a scenario closing one GP applied to the same baseline in memory
  (``scenario.apply``: incremental road update, public transport and capacity
  measured again, differences), for ``--sample`` GPs, per GP.

The rows of the sampled GPs are checked against their scenarios (residents
pushed beyond the norm per mode) before the figures are printed. Prints the
figures, the peak memory, and the ratio scenario / closure row. Say what
else ran on the machine when quoting them.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--modes", default=None,
                        help='comma-separated modes (default: the demo\'s walk,bike,car,pt)')
    parser.add_argument("--sample", type=int, default=5, help="GPs run as scenarios (peer)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None,
                        help="time impact_rows for this many GPs only (national size)")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    from bereikbaarheid import RunConfig, closures, scenario
    from bereikbaarheid.config import Settings
    from bereikbaarheid.demo import generate
    from bereikbaarheid.sources import scenario as scenario_source

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bereikbaarheid-closures-"))
    region = generate.generate_demo(work / "region", seed=args.seed, scale=args.scale)
    config = RunConfig.from_toml(region.config, output_dir=work / "out",
                                 cache_dir=work / "cache", catalog=False)
    if args.modes:
        settings = config.settings.to_dict()
        settings["modes"] = args.modes.split(",")
        config = RunConfig.from_toml(region.config, output_dir=work / "out",
                                     cache_dir=work / "cache", catalog=False,
                                     settings=Settings.from_dict(settings),
                                     gtfs=() if "pt" not in settings["modes"] else None)
    figures: dict = {"scale": args.scale, "modes": list(config.settings.modes)}
    started = time.perf_counter()
    base_run = scenario.baseline(config)
    figures["baseline_s"] = time.perf_counter() - started
    figures["cells"] = len(base_run.inputs.cells)
    figures["car_nodes"] = base_run.inputs.networks["car"].n_nodes

    started = time.perf_counter()
    base = closures.closure_base(base_run.inputs, base_run.measured, types=["gp"])
    figures["closure_base_s"] = time.perf_counter() - started
    gps = closures.candidates(base, "gp")
    timed = gps[:args.limit] if args.limit else gps
    figures["gps"], figures["gps_timed"] = len(gps), len(timed)
    best = np.inf
    for _ in range(args.repeat):
        started = time.perf_counter()
        rows = closures.impact_rows(base, timed)
        best = min(best, time.perf_counter() - started)
    figures["impact_rows_s"] = best
    figures["per_gp_ms"] = best / len(timed) * 1000

    # The peer: one scenario per closure, on the same baseline.
    sample = timed[:: max(1, len(timed) // args.sample)][:args.sample]
    per = []
    for facility_id in sample:
        what = scenario_source.Scenario(path=region.config, name="close", description="",
                                        close=(facility_id,))
        started = time.perf_counter()
        applied = scenario.apply(base_run, what, keep_state=False)
        per.append(time.perf_counter() - started)
        # The row equals the scenario: residents pushed beyond the norm, per mode.
        row = rows[rows["facility_id"] == facility_id].iloc[0]
        before, after = base_run.measured.cells, applied.measured.cells
        norm_s = config.settings.norm_min["gp"] * 60.0
        population = before["aantal_inwoners"].to_numpy(np.float64)
        for mode in config.settings.modes:
            tb = np.nan_to_num(before[f"gp_{mode}_time_s"].to_numpy(np.float64), nan=np.inf)
            ta = np.nan_to_num(after[f"gp_{mode}_time_s"].to_numpy(np.float64), nan=np.inf)
            pushed = np.nansum(population[(tb <= norm_s) & (ta > norm_s)])
            assert abs(row[f"{mode}_population_pushed_beyond_norm"] - pushed) < 1e-6, \
                (facility_id, mode)
    figures["scenario_per_gp_s"] = float(np.median(per))
    figures["ratio"] = figures["scenario_per_gp_s"] * 1000 / figures["per_gp_ms"]
    figures["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6

    print(f"demo scale {args.scale:g}: {figures['cells']:,} cells, {figures['car_nodes']:,} car "
          f"nodes, {len(gps)} GPs, modes {','.join(figures['modes'])}")
    print(f"baseline (prepare + measure, searches kept): {figures['baseline_s']:.1f} s")
    print(f"closure_base (once):                          {figures['closure_base_s']:.2f} s")
    print(f"impact_rows, {len(timed)} GPs (best of {args.repeat}):       "
          f"{best:.2f} s, {figures['per_gp_ms']:.0f} ms per GP")
    print(f"a scenario closing one GP (median of {len(per)}):  {figures['scenario_per_gp_s']:.2f} s "
          f"-> a closure row is {figures['ratio']:.0f}x cheaper (rows checked against them)")
    print(f"peak memory {figures['peak_rss_gb']:.1f} GB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
