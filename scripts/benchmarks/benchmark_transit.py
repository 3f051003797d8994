"""Benchmark the Numba range-RAPTOR against pyraptor on the same feed and query.

Usage::

    python scripts/benchmarks/benchmark_transit.py --scale 1 --json transit_bench.json
    python scripts/benchmarks/benchmark_transit.py --scale 4 --origins 3 --window 07:00 09:00

In one run, on the demo region's GTFS feed (generated at ``--scale``):

1. The feed is read once for the analysis date (``sources.gtfs.read_gtfs``:
   calendar, frequencies expanded, trips of the neighbouring service days
   shifted). The same trips are written as a GTFS folder that pyraptor can
   read (one service on the analysis date, every frequency copy a trip of its
   own, every platform given a parent station, times from 00:00) and turned
   into our RAPTOR arrays (``networks.timetable.build_timetable``).
2. Both engines answer the same query: from a stop area (pyraptor's
   "station": every stop of one name) depart at any time of the window, ride
   at most ``--rides`` vehicles (pyraptor: rounds), change at one stop in 0 s
   and between the stops of one name in 120 s (pyraptor's only transfer
   model, mirrored as footpaths on our side). pyraptor runs its range query
   (``query_range_raptor.run_range_raptor``) for ``--origins`` stop areas in a
   separate interpreter when it cannot share this one (it pins pandas < 2);
   ours runs ``kernels.raptor.range_raptor_minutes`` for every stop area and
   for pyraptor's sample alone (each repeated to at least ``--our-origins``
   origins) with one thread and with ``--threads``; the ratio compares the
   same origins on one core.
3. Agreement: every journey pyraptor's range query returns (departure,
   arrival) must match our travel time at that departure minute, and
   pyraptor's single-departure RAPTOR must match ``kernels.raptor.earliest_arrival``
   at every stop area.
4. The profile query of the pipeline: every cell of the demo region, the
   window's first 60 minutes, median only, walking access, egress and
   transfers over the walk network, through ``measures.transit.compute_transit``
   on the arrays the pipeline builds (the cached networks and timetable).

Differences between the engines, which the check accounts for: pyraptor
ignores pickup/drop-off types and transfers.txt (so the feed is given without
them); it leaves the rounds after one that improves nothing empty, so its
range query then finds no journey (the worker fills them in; see
``pyraptor_worker``); and its labels may gain a second ride within one round (a route scanned
later in the round boards at a stop improved earlier in that round), so with
a ride limit that binds it can be faster than an exact limit; those cases are
counted separately.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TRANSFER_S = 120        # pyraptor.util.TRANSFER_COST: between stops of one name
DEFAULT_PYRAPTOR_PYTHON = "/tmp/venvpyraptor/bin/python"


# --------------------------------------------------------------------------
# pyraptor side (runs in the interpreter that has pyraptor; stdlib + pyraptor only)
# --------------------------------------------------------------------------

def pyraptor_worker(spec_path: str) -> None:
    """Build pyraptor's timetable and time its queries; write the results as JSON."""
    from loguru import logger
    from pyraptor.gtfs import timetable as pr_timetable
    from pyraptor.model.raptor import RaptorAlgorithm
    from pyraptor.query_range_raptor import run_range_raptor

    logger.remove()  # pyraptor logs every departure; printing is not routing

    # pyraptor stops when a round marks no stop but leaves the later rounds'
    # labels empty, and its queries read the last round: without this fill a
    # query that settles early finds no journey at all. The fill copies
    # references, so it costs pyraptor nothing measurable.
    unfilled_run = RaptorAlgorithm.run

    def run(self, from_stops, dep_secs, rounds):
        bag = unfilled_run(self, from_stops, dep_secs, rounds)
        for k in range(1, rounds + 1):
            if not any(label.earliest_arrival_time < 2147483647 for label in bag[k].values()):
                bag[k] = bag[k - 1]
        return bag

    RaptorAlgorithm.run = run
    spec = json.loads(Path(spec_path).read_text())
    started = time.perf_counter()
    gtfs = pr_timetable.read_gtfs_timetable(spec["gtfs"], spec["date"], spec["agencies"])
    timetable = pr_timetable.gtfs_to_pyraptor_timetable(gtfs)
    build_s = time.perf_counter() - started
    out = {"version": importlib.metadata.version("pyraptor"), "build_s": build_s,
           "python": sys.version.split()[0], "origins": []}
    for name in spec["origins"]:
        started = time.perf_counter()
        journeys = run_range_raptor(timetable, name, spec["start_s"], spec["end_s"],
                                    spec["rounds"])
        range_s = time.perf_counter() - started
        found = []
        for dest, items in journeys.items():
            for j in items:
                legs = [leg for leg in j.legs if leg.trip is not None]
                if legs:
                    found.append([dest, int(legs[0].dep), int(legs[-1].arr), len(legs)])
        # One departure, plain RAPTOR: earliest arrival per stop area.
        started = time.perf_counter()
        bag = RaptorAlgorithm(timetable).run(timetable.stations.get(name).stops,
                                             spec["single_s"], spec["rounds"])
        single_s = time.perf_counter() - started
        best = {}
        for station in timetable.stations:
            t = min(bag[spec["rounds"]][s].earliest_arrival_time for s in station.stops)
            if t < 2147483647 and station.name != name:
                best[station.name] = int(t)
        out["origins"].append({"name": name, "range_s": range_s, "single_s": single_s,
                               "departures": len({j[1] for j in found}),
                               "journeys": found, "earliest": best})
    Path(spec["out"]).write_text(json.dumps(out))


# --------------------------------------------------------------------------
# Our side
# --------------------------------------------------------------------------

def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def write_pyraptor_gtfs(feed, folder: Path, agencies: list[str]):
    """Write the feed's trips of the analysis day as a GTFS folder pyraptor reads.

    Returns the stop-times actually written (trips with a time before the
    analysis day's midnight are left out: pyraptor cannot express them, and
    they end before any morning window).
    """
    import numpy as np
    import pandas as pd

    st = feed.stop_times
    first = st.groupby("trip")[["arrival_s", "departure_s"]].min().min(axis=1)
    keep_trips = first.index[first.to_numpy() >= 0]
    st = st[st["trip"].isin(keep_trips)]
    trips = feed.trips.loc[keep_trips]
    folder.mkdir(parents=True, exist_ok=True)
    agency_id = "BENCH"
    pd.DataFrame({"agency_id": [agency_id], "agency_name": [agencies[0]],
                  "agency_url": ["https://example.org"],
                  "agency_timezone": ["Europe/Amsterdam"]}).to_csv(folder / "agency.txt",
                                                                    index=False)
    routes = trips.drop_duplicates("route_id")
    pd.DataFrame({"route_id": routes["route_id"], "agency_id": agency_id,
                  "route_short_name": routes["route_short_name"],
                  "route_long_name": routes["route_id"],
                  "route_type": routes["route_type"]}).to_csv(folder / "routes.txt", index=False)
    # pyraptor casts trip_short_name to an integer (a train number).
    pd.DataFrame({"route_id": trips["route_id"], "service_id": "DAY",
                  "trip_id": [f"t{i}" for i in trips.index],
                  "trip_short_name": np.arange(1, len(trips) + 1),
                  "trip_long_name": trips["route_id"]}).to_csv(folder / "trips.txt", index=False)
    date = feed.service_date.replace("-", "")
    pd.DataFrame({"service_id": ["DAY"], "date": [date], "exception_type": [1]}).to_csv(
        folder / "calendar_dates.txt", index=False)
    seq = st.groupby("trip").cumcount() + 1
    pd.DataFrame({"trip_id": "t" + st["trip"].astype(str), "stop_sequence": seq,
                  "stop_id": "s" + st["stop"].astype(str),
                  "arrival_time": [_clock(int(v)) for v in st["arrival_s"]],
                  "departure_time": [_clock(int(v)) for v in st["departure_s"]]}).to_csv(
        folder / "stop_times.txt", index=False)
    # pyraptor drops stops without a parent station and groups stops by name.
    stops = feed.stops
    platforms = pd.DataFrame({"stop_id": "s" + stops.index.astype(str),
                              "stop_name": stops["stop_name"],
                              "parent_station": "p" + stops.index.astype(str),
                              "platform_code": "1", "stop_code": "s" + stops.index.astype(str),
                              "stop_lat": stops["lat"], "stop_lon": stops["lon"],
                              "location_type": 0})
    parents = platforms.assign(stop_id=platforms["parent_station"], parent_station="",
                               location_type=1)
    pd.concat([platforms, parents]).to_csv(folder / "stops.txt", index=False)
    return st


def _build_ours(feed, stop_times):
    """Our timetable of the same trips, with pyraptor's transfer model."""
    import numpy as np

    from bereikbaarheid.networks import timetable

    names = feed.stops["stop_name"].astype(str).to_numpy()
    a, b = np.nonzero(names[:, None] == names[None, :])
    pair = a != b
    footpaths = (a[pair], b[pair], np.full(int(pair.sum()), TRANSFER_S))
    stops = feed.stops.assign(station_id="")  # stop areas are named, as in pyraptor
    return timetable.build_timetable(stops, feed.trips, stop_times, None,
                                     service_date=feed.service_date, min_change_s=0,
                                     footpaths=footpaths)


def _area_query(names):
    """Access, egress and direct CSRs: origins and destinations are stop areas."""
    import numpy as np

    areas, area_of_stop = np.unique(names, return_inverse=True)
    order = np.argsort(area_of_stop, kind="stable")
    indptr = np.zeros(len(areas) + 1, np.int64)
    np.cumsum(np.bincount(area_of_stop, minlength=len(areas)), out=indptr[1:])
    access = (indptr, order.astype(np.int32), np.zeros(len(order), np.int32))
    n_stops = len(names)
    egress = (np.arange(n_stops + 1, dtype=np.int64), area_of_stop.astype(np.int32),
              np.zeros(n_stops, np.int32))
    n_areas = len(areas)
    direct = (np.arange(n_areas + 1, dtype=np.int64), np.arange(n_areas, dtype=np.int32),
              np.zeros(n_areas, np.int32))
    return areas, access, egress, direct


def _tile(csr, times: int, rows=None):
    """The CSR's ``rows`` (default all) repeated ``times``: more origins, same work each."""
    import numpy as np

    indptr, col, val = csr
    if rows is not None:
        take = np.concatenate([np.arange(indptr[r], indptr[r + 1]) for r in rows])
        counts = np.array([indptr[r + 1] - indptr[r] for r in rows], np.int64)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        col, val = col[take], val[take]
    n = indptr[-1]
    starts = (indptr[:-1][None, :] + n * np.arange(times)[:, None]).ravel()
    return (np.append(starts, n * times).astype(np.int64), np.tile(col, times),
            np.tile(val, times))


def _time_ours(tt, departures, access, egress, direct, n_dest, rides, max_time_s, threads,
               min_seconds: float = 1.0):
    """Best wall time of range_raptor_minutes over repeats lasting ``min_seconds``."""
    import numba

    from bereikbaarheid.kernels import raptor

    numba.set_num_threads(threads)
    best = float("inf")
    spent, result = 0.0, None
    while spent < min_seconds or result is None:
        started = time.perf_counter()
        result = raptor.range_raptor_minutes(tt, departures, access, egress, direct, n_dest,
                                             max_rides=rides, max_time_s=max_time_s)
        elapsed = time.perf_counter() - started
        best, spent = min(best, elapsed), spent + elapsed
    return best, result


def _profile_query(region, window: tuple[str, str], threads_all: int, work: Path):
    """Origins/s of the pipeline's PT query: all cells, 60 min, median."""
    import dataclasses

    import numba

    from bereikbaarheid import pipeline
    from bereikbaarheid.config import parse_clock
    from bereikbaarheid.measures import transit as transit_measures

    config = pipeline.RunConfig.from_toml(region.config, output_dir=work / "profiles",
                                          cache_dir=work / "cache")
    start_s = parse_clock(window[0], "window")
    end = _clock(start_s + 3600)[:5]
    settings = dataclasses.replace(config.settings, pt_window=(window[0], end),
                                   pt_percentiles=(50,), pt_time_percentile=50,
                                   pt_method="per-cell")
    config = dataclasses.replace(config, settings=settings)
    # The pipeline's own preparation: cells, networks, timetable, facilities.
    inputs = pipeline.prepare(config)
    cells, networks, tt, fac = inputs.cells, inputs.networks, inputs.timetable, inputs.facilities
    x, y = cells["x"].to_numpy(), cells["y"].to_numpy()
    out = {"cells": len(cells), "facilities": len(fac), "window": [window[0], end],
           "stops": tt.n_stops, "trips": tt.n_trips, "runs": {}}
    for threads in sorted({1, threads_all}):
        numba.set_num_threads(threads)
        best_kernel, best_total = float("inf"), float("inf")
        for _ in range(3):  # the first call may compile
            started = time.perf_counter()
            res = transit_measures.compute_transit(tt, networks, x, y, fac, settings)
            best_total = min(best_total, time.perf_counter() - started)
            best_kernel = min(best_kernel, res.report["raptor_s"])
        out["runs"][threads] = {
            "raptor_s": best_kernel, "compute_transit_s": round(best_total, 3),
            "origins_per_s": len(cells) / best_kernel,
            "origins_per_s_per_core": len(cells) / best_kernel / threads}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="demo region scale")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--window", nargs=2, default=["07:00", "09:00"],
                        metavar=("START", "END"), help="departure window (every minute)")
    parser.add_argument("--origins", type=int, default=4,
                        help="stop areas queried with pyraptor (it is slow)")
    parser.add_argument("--our-origins", type=int, default=2000,
                        help="origins for our timing (stop areas repeated)")
    parser.add_argument("--rides", type=int, default=4, help="max rides = pyraptor rounds")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for the multi-core runs (default: all)")
    parser.add_argument("--pyraptor-python", default=None,
                        help="interpreter with pyraptor installed (default: this one if "
                             f"it has pyraptor, else {DEFAULT_PYRAPTOR_PYTHON})")
    parser.add_argument("--skip-profile", action="store_true",
                        help="leave out the demo profile query")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--pyraptor-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pyraptor_worker:
        pyraptor_worker(args.pyraptor_worker)
        return

    import numba
    import numpy as np
    import pandas as pd

    from bereikbaarheid.config import Settings, parse_clock
    from bereikbaarheid.demo import generate
    from bereikbaarheid.kernels import raptor
    from bereikbaarheid.sources import gtfs as gtfs_source

    threads_all = args.threads or numba.config.NUMBA_NUM_THREADS
    pyraptor_python = args.pyraptor_python
    if pyraptor_python is None:
        pyraptor_python = (sys.executable if importlib.util.find_spec("pyraptor")
                           else DEFAULT_PYRAPTOR_PYTHON)
    if not Path(pyraptor_python).exists():
        sys.exit(f"pyraptor interpreter {pyraptor_python} not found: make a venv with "
                 "'python -m venv /tmp/venvpyraptor && /tmp/venvpyraptor/bin/pip install "
                 "pyraptor \"numpy<2\"', or pass --pyraptor-python")
    start_s, end_s = (parse_clock(t, "--window") for t in args.window)
    departures = np.arange(start_s, end_s, 60, dtype=np.int32)
    max_time_s = 6 * 3600  # no cut-off in pyraptor either: any arrival that day counts

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        started = time.perf_counter()
        region = generate.generate_demo(work / "region", seed=args.seed, scale=args.scale)
        date = generate.DEMO_PT_DATE
        settings = Settings(pt_date=date)
        feed = gtfs_source.read_gtfs(region.gtfs, date, settings, window_s=(start_s, end_s),
                                     horizon_s=max_time_s)
        with zipfile.ZipFile(region.gtfs) as z:
            agencies = pd.read_csv(io.BytesIO(z.read("agency.txt")))["agency_name"].tolist()
        stop_times = write_pyraptor_gtfs(feed, work / "pyraptor_gtfs", agencies)
        tt = _build_ours(feed, stop_times)
        print(f"demo scale {args.scale:g}, {date}: {tt.n_stops} stops, {tt.n_trips} trips "
              f"({int(feed.trips['frequency_based'].sum())} from frequencies), "
              f"{len(stop_times)} stop-times, {tt.n_patterns} patterns "
              f"(prepared in {time.perf_counter() - started:.1f} s)")

        names = tt.stop_name.astype(str)
        areas, access, egress, direct = _area_query(names)
        # pyraptor's sample: the stop areas with the most departures in the window.
        dep_count = np.bincount(
            np.searchsorted(areas, names[stop_times["stop"].to_numpy()]),
            weights=((stop_times["departure_s"] >= start_s) & (stop_times["departure_s"] < end_s)
                     ).to_numpy(float), minlength=len(areas))
        sample = [str(areas[i]) for i in np.argsort(-dep_count, kind="stable")[:args.origins]]

        # pyraptor, in its own interpreter.
        single_s = start_s + 3600
        spec = {"gtfs": str(work / "pyraptor_gtfs"), "date": date.replace("-", ""),
                "agencies": agencies[:1], "origins": sample, "start_s": int(start_s),
                "end_s": int(end_s), "rounds": args.rides, "single_s": int(single_s),
                "out": str(work / "pyraptor.json")}
        (work / "spec.json").write_text(json.dumps(spec))
        print(f"pyraptor ({pyraptor_python}): range query for {len(sample)} stop areas ...",
              flush=True)
        started = time.perf_counter()
        subprocess.run([pyraptor_python, os.path.abspath(__file__), "--pyraptor-worker",
                        str(work / "spec.json")], check=True)
        pr = json.loads((work / "pyraptor.json").read_text())
        print(f"  done in {time.perf_counter() - started:.1f} s "
              f"(timetable build {pr['build_s']:.1f} s)")

        # Ours: warm up (compile), then time.
        raptor.range_raptor_minutes(tt, departures, access, egress, direct, len(areas),
                                    max_rides=args.rides, max_time_s=max_time_s)
        # Every stop area, and pyraptor's sample alone (the ratio's basis).
        sample_rows = [int(np.searchsorted(areas, name)) for name in sample]
        ours = {}
        for label, rows in (("all", None), ("sample", sample_rows)):
            n_rows = len(areas) if rows is None else len(rows)
            times = max(1, -(-args.our_origins // n_rows))
            many = _tile(access, times, rows), _tile(direct, times, rows)
            n_origins = n_rows * times
            for threads in sorted({1, threads_all}):
                best, _ = _time_ours(tt, departures, many[0], egress, many[1], len(areas),
                                     args.rides, max_time_s, threads)
                ours[f"{label}/{threads}"] = {
                    "origins": n_origins, "threads": threads, "seconds": best,
                    "origins_per_s": n_origins / best,
                    "origins_per_s_per_core": n_origins / best / threads}
        numba.set_num_threads(threads_all)
        minutes = raptor.range_raptor_minutes(tt, departures, access, egress, direct,
                                              len(areas), max_rides=args.rides,
                                              max_time_s=max_time_s)

        # Agreement.
        index = {str(a): i for i, a in enumerate(areas)}
        check = {"range_journeys": 0, "range_equal": 0, "range_pyraptor_faster": 0,
                 "range_ours_faster": 0, "earliest_areas": 0, "earliest_equal": 0,
                 "earliest_pyraptor_faster": 0, "earliest_ours_faster": 0, "examples": []}
        for o in pr["origins"]:
            oi = index[o["name"]]
            for dest, dep, arr, _rides in o["journeys"]:
                if not start_s <= dep < end_s or (dep - start_s) % 60:
                    continue
                check["range_journeys"] += 1
                v = minutes[oi, (dep - start_s) // 60, index[dest]]
                ours_arr = dep + v if np.isfinite(v) else np.inf
                key = ("range_equal" if ours_arr == arr else
                       "range_pyraptor_faster" if arr < ours_arr else "range_ours_faster")
                check[key] += 1
                if key != "range_equal" and len(check["examples"]) < 5:
                    check["examples"].append([o["name"], dest, dep, arr, float(ours_arr)])
            stops = access[1][access[0][oi]:access[0][oi + 1]]
            ea = raptor.earliest_arrival(tt, single_s, stops, np.zeros(len(stops), np.int32),
                                         max_rides=args.rides)
            per_area = np.full(len(areas), np.inf)
            np.minimum.at(per_area, egress[1], ea)
            per_area[oi] = np.inf
            for a in range(len(areas)):
                p = o["earliest"].get(str(areas[a]), np.inf)
                if not (np.isfinite(p) or np.isfinite(per_area[a])):
                    continue
                check["earliest_areas"] += 1
                key = ("earliest_equal" if p == per_area[a] else
                       "earliest_pyraptor_faster" if p < per_area[a] else "earliest_ours_faster")
                check[key] += 1

    pr_per_origin = float(np.mean([o["range_s"] for o in pr["origins"]]))
    our1 = ours["sample/1"]
    ratio = pr_per_origin * our1["origins_per_s_per_core"]
    window_txt = f"{args.window[0]}-{args.window[1]} every minute, max {args.rides} rides"
    print(f"\nrange query, {window_txt}, {len(areas)} stop areas")
    print(f"{'engine':<28}{'threads':>8}{'origins':>9}{'origins/s':>12}{'origins/s/core':>16}")
    print(f"{'pyraptor ' + pr['version']:<28}{1:>8}{len(pr['origins']):>9}"
          f"{1 / pr_per_origin:>12.3f}{1 / pr_per_origin:>16.3f}")
    for key, r in ours.items():
        label = "ours, " + ("all stop areas" if key.startswith("all") else "pyraptor's sample")
        print(f"{label:<28}{r['threads']:>8}{r['origins']:>9}"
              f"{r['origins_per_s']:>12.0f}{r['origins_per_s_per_core']:>16.0f}")
    print(f"ratio ours / pyraptor per origin and core: {ratio:,.0f}x "
          f"(pyraptor {pr_per_origin:.2f} s per origin, "
          f"{np.mean([o['departures'] for o in pr['origins']]):.0f} departures each)")
    print(f"agreement, range journeys: {check['range_equal']}/{check['range_journeys']} equal, "
          f"{check['range_pyraptor_faster']} faster in pyraptor, "
          f"{check['range_ours_faster']} faster in ours")
    print(f"agreement, earliest arrival at {_clock(single_s)[:5]}: "
          f"{check['earliest_equal']}/{check['earliest_areas']} stop areas equal, "
          f"{check['earliest_pyraptor_faster']} faster in pyraptor, "
          f"{check['earliest_ours_faster']} faster in ours")
    if check["examples"]:
        print(f"  differing (origin, destination, dep, arr pyraptor, arr ours): "
              f"{check['examples']}")

    profile = None
    if not args.skip_profile:
        with tempfile.TemporaryDirectory() as work:
            work = Path(work)
            region = generate.generate_demo(work / "region", seed=args.seed, scale=args.scale)
            profile = _profile_query(region, tuple(args.window), threads_all, work)
        print(f"\nprofile query (compute_transit): {profile['cells']} cells, "
              f"{profile['window'][0]}-{profile['window'][1]} every minute, median, "
              f"{profile['stops']} stops, {profile['trips']} trips, walking access/egress")
        for threads, r in profile["runs"].items():
            print(f"  {threads} thread(s): range-RAPTOR {r['raptor_s']:.3f} s, "
                  f"{r['origins_per_s']:,.0f} origins/s, "
                  f"{r['origins_per_s_per_core']:,.0f} origins/s/core "
                  f"(compute_transit with legs {r['compute_transit_s']:.2f} s)")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "scale": args.scale, "date": date, "window": args.window, "max_rides": args.rides,
            "machine": {"cpus": os.cpu_count(), "processor": platform.processor(),
                        "python": platform.python_version()},
            "feed": {"stops": tt.n_stops, "stop_areas": len(areas), "trips": tt.n_trips,
                     "patterns": tt.n_patterns},
            "pyraptor": {"version": pr["version"], "python": pyraptor_python,
                         "timetable_build_s": pr["build_s"],
                         "per_origin_s": pr_per_origin,
                         "origins": [{k: o[k] for k in ("name", "range_s", "single_s",
                                                        "departures")}
                                     for o in pr["origins"]]},
            "ours": ours,
            "ratio_per_origin_per_core": ratio,
            "agreement": check,
            "profile": profile,
        }, indent=2, default=float))


if __name__ == "__main__":
    main()
