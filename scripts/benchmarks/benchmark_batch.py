"""Benchmark: a batch serially, on 1 and on 2 local Dask workers, side by side.

Usage::

    python scripts/benchmarks/benchmark_batch.py                  # demo scale 4
    python scripts/benchmarks/benchmark_batch.py --scale 8 --json batch.json

Generates the demo region at ``--scale`` and a batch of one region per
municipality, each with the example village-GP closure and the demo
projection to 2030 and 2040 (so 4 tasks per region, the baseline measured
once). The network cache is built first by a warm-up run, so that the timed
runs measure the work itself; each timed run writes a fresh output folder
(no report, no catalogue) through the command line, as a user would:

- ``serial``: one process, the compiled kernels on every core;
- ``--workers 1``: one worker process (its kernels on every core);
- ``--workers 2``: two worker processes, their kernels on half the cores each.

Wall time includes starting the local cluster (seconds). The outputs of the
three runs are checked to be byte-identical before the ratios are printed.
Say what else ran on the machine when quoting the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"
            and not p.name.endswith(".lock")}


def _run(batch: Path, out: Path, cache: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    command = Path(sys.executable).with_name("bereikbaarheid")
    subprocess.run([str(command), "batch", str(batch), "--output",
                    str(out), "--cache", str(cache), "--no-report", "--no-catalog", "-q",
                    *extra], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    import geopandas as gpd

    from bereikbaarheid.demo import generate

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bereikbaarheid-batch-"))
    region = generate.generate_demo(work / "region", seed=args.seed, scale=args.scale)
    codes = sorted(gpd.read_file(region.municipalities)["gemeentecode"])
    scenario = ROOT / "examples" / "scenarios" / "close-village-gp.toml"
    regions = "".join(f'\n[[region]]\nname = "{c.lower()}"\nmunicipalities = ["{c}"]\n'
                      for c in codes)
    batch = work / "batch.toml"
    batch.write_text(f'[batch]\nconfig = "{region.config}"\nscenarios = ["{scenario}"]\n'
                     f'projection = "{region.projection}"\nyears = [2030, 2040]\n' + regions,
                     encoding="utf-8")
    # The example scenario closes a GP of the scale-1 demo; at other scales
    # it may not exist: the projections alone then.
    cache = work / "cache"
    print(f"demo scale {args.scale:g}: {len(codes)} region(s); warming the network cache",
          flush=True)
    try:
        _run(batch, work / "warm", cache, [])
    except subprocess.CalledProcessError:
        batch.write_text(batch.read_text().replace(f'scenarios = ["{scenario}"]\n', ""))
        _run(batch, work / "warm", cache, [])
    runs = {"serial": [], "1 worker": ["--workers", "1"], "2 workers": ["--workers", "2"]}
    seconds, outputs = {}, {}
    for name, extra in runs.items():
        out = work / name.replace(" ", "-")
        seconds[name] = _run(batch, out, cache, extra)
        outputs[name] = _digests(out)
        print(f"{name:<10}{seconds[name]:>8.1f} s", flush=True)
    identical = all(o == outputs["serial"] for o in outputs.values())
    if not identical:
        raise SystemExit("error: the runs wrote different files")
    from bereikbaarheid import batch as batches

    tasks = sum(t.counted for t in batches.plan_batch(batches.read_batch(batch), lang=None))
    print(f"{tasks} tasks")
    print(f"outputs byte-identical (manifests aside); cores: {os.cpu_count()}")
    print(f"speed-up 2 workers vs 1 worker: {seconds['1 worker'] / seconds['2 workers']:.2f}x; "
          f"vs serial: {seconds['serial'] / seconds['2 workers']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"scale": args.scale, "regions": len(codes),
                                               "tasks": tasks, "seconds": seconds,
                                               "cores": os.cpu_count()}, indent=1))


if __name__ == "__main__":
    main()
