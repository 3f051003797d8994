"""Time and size a full road profile (walk, bike, car) on a generated national-size region.

Usage::

    python scripts/benchmarks/benchmark_national.py                 # scale 160, /tmp/bereikbaarheid-national
    python scripts/benchmarks/benchmark_national.py --scale 10 --json national.json
    python scripts/benchmarks/benchmark_national.py --pt --scale 4 --json pt.json

Generates the demo region at ``--scale`` into ``--workdir`` (the default
scale gives >= 5M walk nodes, >= 2M car nodes and >= 400k cells; every count
grows linearly with the scale), then runs
:func:`bereikbaarheid.pipeline.run_profile` with the modes walk, bike and car
in a child process twice: cold (the network cache is emptied first, so the
networks and their contraction hierarchies are built) and warm (the cached
networks and hierarchies are verified and memory-mapped; ``--warm-only``
keeps the cache and runs this one alone). A last child times loading the cache alone, with and
without the SHA-256 verification. Each child runs alone, so its peak RSS is
its own; a sampler thread in the child records the peak RSS of every step.

With ``--pt`` it times the profile's public transport instead, warm (a first
child fills the cache): every cell by the backward profile search, then
``--sample`` cells chosen at random by the per-cell range-RAPTOR in the same
child, whose time scaled to every cell is the per-cell estimate (an
extrapolation), and whether the sample's times agree exactly. The JSON's
``pt`` holds ``cells``, ``stops``, ``trips``, ``stop_times`` (of the routed
timetable: the window plus ``pt_max_time_min``), ``profile_s``,
``per_cell_sample_cells``, ``per_cell_sample_s``, ``per_cell_estimate_s``,
``peak_gb`` and ``sample_equal``.

Each child first applies the process memory settings the command applies
(:func:`bereikbaarheid._process.tune_memory`; ``memory_settings`` in its
figures); ``BEREIKBAARHEID_SYSTEM_MEMORY=1`` runs the children without them.

The parent kills a child whose RSS passes ``--max-rss-gb`` (the machine is
shared) and reports the step it was in. Prints the figures and, with
``--json``, writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

_PAGE = os.sysconf("SC_PAGE_SIZE")
_SAMPLE_S = 0.2
MODES = ("walk", "bike", "car")


def _rss_gb(pid: int | str = "self") -> float:
    """Resident set size of a process now, in GB (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _rss_parts_gb() -> tuple[float, float]:
    """This process's resident memory split into anonymous (heap, arrays) and
    file-backed pages (the memory-mapped cache files: clean, so the kernel
    can drop them under pressure and read them again), in GB."""
    parts = {"RssAnon:": 0.0, "RssFile:": 0.0, "RssShmem:": 0.0}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key = line.split(maxsplit=1)[0]
                if key in parts:
                    parts[key] = int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return parts["RssAnon:"], parts["RssFile:"] + parts["RssShmem:"]


def _peak_self_gb() -> float:
    """This process's peak resident memory (``VmHWM``; not ``ru_maxrss``, which
    Linux carries over an exec from the forked parent), in GB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


class _StepSampler:
    """Samples this process's RSS in a thread and keeps the peak per step.

    Steps are the pipeline's own (``_progress.Timings.step``), so the figures
    line up with the manifest's ``timings_s``; the current step, the peaks and
    the finished steps' times are also written to ``progress`` so a killed
    child still tells where it was.
    """

    def __init__(self, progress: Path) -> None:
        self.progress = progress
        self.step = "setup"
        self.peaks: dict[str, float] = {}
        # At each step's highest RSS: its anonymous and file-backed parts.
        self.parts: dict[str, tuple[float, float]] = {}
        self.timings: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last_write = 0.0
        while not self._stop.wait(_SAMPLE_S):
            rss = _rss_gb()
            if rss > self.peaks.get(self.step, 0.0):
                self.peaks[self.step] = rss
                self.parts[self.step] = _rss_parts_gb()
            if time.monotonic() - last_write > 2.0:
                last_write = time.monotonic()
                self.progress.write_text(json.dumps(
                    {"step": self.step, "rss_gb": round(rss, 2),
                     "step_peak_rss_gb": {k: round(v, 2) for k, v in self.peaks.items()},
                     "finished_steps_s": dict(self.timings)}))

    def __enter__(self) -> Self:
        from bereikbaarheid import _progress

        sampler, step = self, _progress.Timings.step

        @contextmanager
        def sampled_step(timings, name: str) -> Iterator[None]:
            sampler.step, sampler.timings = name, timings
            try:
                with step(timings, name):
                    yield
            finally:
                sampler.peaks[name] = max(sampler.peaks.get(name, 0.0), _rss_gb())
                sampler.step = "between steps"

        _progress.Timings.step = sampled_step
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------- children


def _child_generate(args: argparse.Namespace) -> dict[str, Any]:
    from bereikbaarheid.demo import generate

    region_dir = Path(args.workdir) / "region"
    if region_dir.exists():
        shutil.rmtree(region_dir)
    start = time.perf_counter()
    region = generate.generate_demo(region_dir, seed=args.seed, scale=args.scale)
    return {"generate_s": round(time.perf_counter() - start, 1),
            "road_nodes_in_osm": region.n_road_nodes, "cells_in_grid": region.n_cells,
            "osm_pbf_mb": round(region.osm.stat().st_size / 1e6, 1),
            "peak_rss_gb": round(_peak_self_gb(), 2)}


def _run_config(args: argparse.Namespace):
    import dataclasses

    from bereikbaarheid import pipeline

    work = Path(args.workdir)
    config = pipeline.RunConfig.from_toml(work / "region" / "run.toml",
                                          output_dir=work / "profiles", cache_dir=work / "cache")
    config.settings = dataclasses.replace(config.settings, modes=MODES)
    return config


def _child_profile(args: argparse.Namespace) -> dict[str, Any]:
    from bereikbaarheid import pipeline

    config = _run_config(args)
    with _StepSampler(Path(args.workdir) / f"progress-{args.child}.json") as sampler:
        start = time.perf_counter()
        result = pipeline.run_profile(config)
        total_s = time.perf_counter() - start
    manifest = result.manifest
    networks = manifest["networks"]
    return {
        "total_s": round(total_s, 1),
        "timings_s": manifest["timings_s"],
        "write_s": round(total_s - sum(manifest["timings_s"].values()), 1),
        "nodes": {m: networks[m]["stats"]["nodes"] for m in MODES},
        "edges": {m: networks[m]["stats"]["edges"] for m in MODES},
        "cache": {m: networks[m].get("reason", networks[m]["status"]) for m in MODES},
        "cells": len(result.cells),
        "step_peak_rss_gb": {k: round(v, 2) for k, v in sampler.peaks.items()},
        "step_peak_anon_file_gb": {k: [round(a, 2), round(b, 2)]
                                   for k, (a, b) in sampler.parts.items()},
        "peak_rss_gb": round(_peak_self_gb(), 2),
    }


def _child_load(args: argparse.Namespace) -> dict[str, Any]:
    """Cache load alone: the whole call, then its parts, with and without
    verification (page cache warm: the profiles just read the files)."""
    import numpy as np

    from bereikbaarheid import _io
    from bereikbaarheid.networks import cache
    from bereikbaarheid.networks.graph import RoadNetwork

    config = _run_config(args)
    start = time.perf_counter()
    networks, _, report = cache.load_or_build(config.osm, config.settings, config.cache_dir)
    load_s = time.perf_counter() - start
    statuses = {m: report[m]["status"] for m in MODES}
    start = time.perf_counter()
    _io.file_digest(config.osm)
    pbf_digest_s = time.perf_counter() - start
    stem = Path(config.osm).name.removesuffix(".pbf").removesuffix(".osm")
    parts: dict[str, dict[str, float]] = {}
    for mode in MODES:
        folder, _ = cache._mode_paths(Path(config.cache_dir), stem, mode)
        start = time.perf_counter()
        cache._array_digests(folder, RoadNetwork.ARRAYS)
        digest_s = time.perf_counter() - start
        start = time.perf_counter()
        arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="c"))
                  for name in RoadNetwork.ARRAYS}
        RoadNetwork(mode=mode, crs="", **arrays).validate()
        open_validate_s = time.perf_counter() - start
        start = time.perf_counter()
        for name in RoadNetwork.ARRAYS:
            np.load(folder / f"{name}.npy")
        read_s = time.perf_counter() - start
        parts[mode] = {
            "mb": round(sum(p.stat().st_size for p in folder.iterdir()) / 1e6, 1),
            "array_sha256_s": round(digest_s, 2),
            "mmap_and_validate_s": round(open_validate_s, 2),
            "full_read_s": round(read_s, 2),
        }
    verify_s = sum(p["array_sha256_s"] for p in parts.values())
    return {"load_or_build_s": round(load_s, 2), "status": statuses,
            "pbf_sha256_s": round(pbf_digest_s, 2), "per_mode": parts,
            "without_array_verification_s": round(load_s - verify_s, 2),
            "peak_rss_gb": round(_peak_self_gb(), 2),
            "nodes": {m: networks[m].n_nodes for m in MODES}}


def _pt_config(args: argparse.Namespace):
    import dataclasses

    config = _run_config(args)
    config.settings = dataclasses.replace(config.settings, modes=("walk", "pt"))
    return config


def _child_pt_cache(args: argparse.Namespace) -> dict[str, Any]:
    """Fill the cache the public-transport run reads: walk network, timetable."""
    from bereikbaarheid import pipeline

    start = time.perf_counter()
    inputs = pipeline.prepare(_pt_config(args))
    return {"prepare_s": round(time.perf_counter() - start, 1),
            "transit": inputs.transit_report.get("status"),
            "peak_rss_gb": round(_peak_self_gb(), 2)}


def _child_pt(args: argparse.Namespace) -> dict[str, Any]:
    """The profile's public transport, warm: every cell by the backward
    profile search, then a sample of cells by the per-cell range-RAPTOR, side
    by side, and whether the sample's times agree exactly."""
    import dataclasses

    import numpy as np

    from bereikbaarheid import pipeline
    from bereikbaarheid.measures import transit

    config = _pt_config(args)
    start = time.perf_counter()
    inputs = pipeline.prepare(config)
    prepare_s = time.perf_counter() - start
    settings = dataclasses.replace(config.settings, pt_method="profile")
    tt, fac = inputs.timetable, inputs.facilities
    x, y = inputs.cells["x"].to_numpy(), inputs.cells["y"].to_numpy()
    before_gb = _rss_gb()
    with _StepSampler(Path(args.workdir) / f"progress-{args.child}.json") as sampler:
        sampler.step = "profile"
        start = time.perf_counter()
        whole = transit.compute_transit(tt, inputs.networks, x, y, fac, settings)
        profile_s = time.perf_counter() - start
        sampler.step = "per-cell sample"
        rng = np.random.default_rng(args.seed)
        n = min(args.sample, len(x))
        sample = np.sort(rng.choice(len(x), n, replace=False))
        per_cell = dataclasses.replace(settings, pt_method="per-cell")
        start = time.perf_counter()
        part = transit.compute_transit(tt, inputs.networks, x[sample], y[sample], fac, per_cell)
        sample_s = time.perf_counter() - start
    times = [c for c in whole.table.columns if "_pt_time" in c]
    equal = bool(whole.table.loc[sample, times].reset_index(drop=True).equals(part.table[times]))
    routing = part.report["raptor_s"]
    cells = len(x)
    return {
        "cells": cells, "stops": tt.n_stops, "trips": tt.n_trips,
        "stop_times": int(tt.stats["stop_times"]), "facilities": len(fac),
        "departures": len(settings.pt_departures_s()),
        "prepare_s": round(prepare_s, 1),
        "profile_s": round(profile_s, 1),
        "profile_report": whole.report,
        "per_cell_sample_cells": int(n),
        "per_cell_sample_s": round(sample_s, 2),
        "per_cell_sample_routing_s": routing,
        # Legs as the profile's run measured them (the same searches), plus
        # the sample's routing scaled to every cell: an extrapolation.
        "per_cell_estimate_s": round(whole.report["legs_s"] + routing * cells / max(n, 1), 1),
        "sample_equal": equal,
        "per_cell_all_cells": bool(n == cells),
        "rss_before_gb": round(before_gb, 2),
        "step_peak_rss_gb": {k: round(v, 2) for k, v in sampler.peaks.items()},
        "peak_gb": round(_peak_self_gb(), 2),
        "threads": int(__import__("numba").get_num_threads()),
    }


_CHILDREN = {"generate": _child_generate, "cold": _child_profile, "warm": _child_profile,
             "load": _child_load, "pt-cache": _child_pt_cache, "pt": _child_pt}


# ------------------------------------------------------------------- parent


def _spawn(args: argparse.Namespace, child: str) -> dict[str, Any]:
    """Run one child, watching its RSS; its result, or why it stopped."""
    out = Path(args.workdir) / f"result-{child}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--child", child, "--scale", str(args.scale),
           "--seed", str(args.seed), "--workdir", str(args.workdir),
           "--sample", str(args.sample)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak, killed = 0.0, None
    while proc.poll() is None:
        rss = _rss_gb(proc.pid)
        peak = max(peak, rss)
        if rss > args.max_rss_gb:
            proc.kill()
            killed = f"killed at {rss:.1f} GB RSS (over --max-rss-gb {args.max_rss_gb:g})"
        time.sleep(_SAMPLE_S)
    wall_s = time.perf_counter() - start
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    if out.exists() and proc.returncode == 0:
        result = json.loads(out.read_text())
    else:
        progress = Path(args.workdir) / f"progress-{child}.json"
        result = {"failed": killed or f"exit status {proc.returncode}",
                  "last_progress": json.loads(progress.read_text()) if progress.exists() else None}
    result.update(wall_s=round(wall_s, 1), sampled_peak_rss_gb=round(peak, 2),
                  children_max_rss_gb_so_far=round(children_peak, 2))
    print(f"{child}: {json.dumps(result)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=160.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workdir", default="/tmp/bereikbaarheid-national")
    parser.add_argument("--reuse-region", action="store_true",
                        help="keep a region already generated at this scale and seed")
    parser.add_argument("--max-rss-gb", type=float, default=14.0,
                        help="kill a child passing this RSS (the machine is shared)")
    parser.add_argument("--warm-only", action="store_true",
                        help="keep the cache and run only the warm profile (and the load)")
    parser.add_argument("--pt", action="store_true",
                        help="public transport instead of the roads: every cell by the "
                             "backward profile search, a sample by the per-cell range-RAPTOR")
    parser.add_argument("--sample", type=int, default=300,
                        help="cells the per-cell method runs on with --pt (default 300)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", choices=sorted(_CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    if args.child:
        # The command's memory settings, so a child times what the command does.
        from bereikbaarheid import _process

        memory = _process.tune_memory()
        result = _CHILDREN[args.child](args)
        result["memory_settings"] = memory
        (work / f"result-{args.child}.json").write_text(json.dumps(result, indent=1))
        return

    stamp = work / "region.json"
    wanted = {"scale": args.scale, "seed": args.seed}
    figures: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "cpus": os.cpu_count()}
    if args.reuse_region and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        figures["generate"] = "reused"
    else:
        stamp.unlink(missing_ok=True)
        figures["generate"] = _spawn(args, "generate")
        if "failed" in figures["generate"]:
            return _finish(args, figures)
        stamp.write_text(json.dumps(wanted))
    if args.pt:
        # Warm: a first child fills the cache (walk network, timetable).
        figures["pt_cache"] = _spawn(args, "pt-cache")
        if "failed" not in figures["pt_cache"]:
            figures["pt"] = _spawn(args, "pt")
        return _finish(args, figures)
    if not args.warm_only:
        shutil.rmtree(work / "cache", ignore_errors=True)
        figures["cold"] = _spawn(args, "cold")
    # A cold run stopped after its networks step has still filled the cache.
    if "failed" not in figures.get("cold", {}):
        figures["warm"] = _spawn(args, "warm")
    figures["load"] = _spawn(args, "load")
    _finish(args, figures)


def _finish(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    print(_summary(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


def _summary(f: dict[str, Any]) -> str:
    lines = [f"scale {f['scale']:g} (seed {f['seed']}), {f['cpus']} CPUs"]
    gen = f.get("generate")
    if isinstance(gen, dict) and "failed" not in gen:
        lines.append(f"generate: {gen['generate_s']} s, peak RSS {gen['peak_rss_gb']} GB, "
                     f"{gen['road_nodes_in_osm']:,} road nodes in OSM, {gen['osm_pbf_mb']} MB PBF")
    for run in ("cold", "warm"):
        r = f.get(run)
        if not r:
            continue
        if "failed" in r:
            lines.append(f"{run}: FAILED ({r['failed']}); last progress {r['last_progress']}")
            continue
        nodes = ", ".join(f"{m} {n:,}" for m, n in r["nodes"].items())
        lines.append(f"{run}: total {r['total_s']} s, peak RSS {r['peak_rss_gb']} GB; "
                     f"nodes {nodes}; cells {r['cells']:,}; cache {r['cache']}")
        for step, s in r["timings_s"].items():
            anon, file = r.get("step_peak_anon_file_gb", {}).get(step, (float("nan"),) * 2)
            lines.append(f"    {step:<14} {s:8.1f} s   peak RSS "
                         f"{r['step_peak_rss_gb'].get(step, float('nan')):.2f} GB "
                         f"(anonymous {anon:.2f}, file-backed {file:.2f})")
        lines.append(f"    {'write':<14} {r['write_s']:8.1f} s")
    pt = f.get("pt")
    if pt and "failed" in pt:
        lines.append(f"pt: FAILED ({pt['failed']}); last progress {pt['last_progress']}")
    elif pt:
        r = pt["profile_report"]
        lines.append(
            f"pt: {pt['cells']:,} cells, {pt['facilities']:,} facilities, {pt['departures']} "
            f"departures; timetable (window + max time) {pt['stops']:,} stops, "
            f"{pt['trips']:,} trips, {pt['stop_times']:,} stop times; {pt['threads']} threads")
        lines.append(f"    backward profile search, every cell: {pt['profile_s']} s (legs "
                     f"{r['legs_s']} s, scans {r['profile_s']} s over {r['connections']:,} "
                     f"connections, cells {r['cells_s']} s); peak RSS {pt['peak_gb']} GB")
        what = "every cell (measured)" if pt.get("per_cell_all_cells") else "extrapolated to every cell"
        lines.append(f"    per-cell range-RAPTOR, {pt['per_cell_sample_cells']} sampled cells: "
                     f"{pt['per_cell_sample_s']} s ({pt['per_cell_sample_routing_s']} s "
                     f"routing); {what} (legs + routing x cells / "
                     f"sample): {pt['per_cell_estimate_s']:,} s = "
                     f"{pt['per_cell_estimate_s'] / max(pt['profile_s'], 1e-9):,.0f} x the "
                     f"profile search")
        lines.append(f"    sample equal: {pt['sample_equal']}")
    load = f.get("load")
    if load and "failed" not in load:
        lines.append(f"cache load: {load['load_or_build_s']} s with verification, "
                     f"{load['without_array_verification_s']} s without the array SHA-256 "
                     f"(PBF SHA-256 {load['pbf_sha256_s']} s); per mode {load['per_mode']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
