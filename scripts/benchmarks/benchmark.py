"""Time our kernels and the peers side by side on generated regions of three sizes.

Usage::

    python scripts/benchmarks/benchmark.py --sizes small,medium --json bench.json
    python scripts/benchmarks/benchmark.py --sizes 4 --repeat 1          # a demo scale instead of a name

For every size the demo region is generated (or reused) in ``--workdir`` and
its road networks are built with :func:`bereikbaarheid.networks.cache.load_or_build`
on a cold cache, then loaded from the warm one. On the car network, with
whole-millisecond edge times as the engine uses them
(:func:`bereikbaarheid.networks.link.network_time_ms`), and in one process,
it times:

1. one-to-all from a single node: ours against scipy, igraph and (smallest
   size only) networkx; pandana has no one-to-all query;
2. the nearest facility of every node (all GP, school and supermarket nodes
   as sources, on the reversed graph): ours against scipy ``min_only`` and
   pandana ``nearest_pois``;
3. per facility type, the number of facilities within 30 minutes of every
   cell (facilities search the reversed graph, as the engine does): ours
   against scipy with ``limit`` (chunked; beyond ``--scipy-sources`` sources
   a subset is timed and scaled up, which the table says) and pandana
   ``nearest_pois`` with as many POIs as the busiest cell reaches;
4. a full road profile (3 types x walk, bike, car) in a child process, run
   twice: the first builds the contraction hierarchies the cache lacks, the
   second is timed as the warm run (wall time, steps, peak memory).

Cells and facilities sit on the nearest car node (the engine splits edges
instead; the searches are the same). Our kernels are compiled before timing,
each timing is the best of ``--repeat`` runs (``--bounded-repeat`` for query
3), and every peer's result is checked against ours before the table is
printed: exactly for scipy, igraph and networkx, within pandana's
millisecond-truncated float precision for pandana.

Another fast kernel joins as one more entry of the ``variants`` dicts of
:func:`one_to_all_variants` and :func:`nearest_variants`; ``kernels.ch`` (a
contraction hierarchy) is picked up when it can be imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import numba
import numpy as np
import pandas as pd
import scipy.sparse
import scipy.sparse.csgraph
import scipy.spatial

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark_kernels  # noqa: E402  (best_time: one timing rule for every benchmark)

from bereikbaarheid import pipeline  # noqa: E402
from bereikbaarheid.demo import generate  # noqa: E402
from bereikbaarheid.kernels import dijkstra  # noqa: E402
from bereikbaarheid.networks import cache, link  # noqa: E402

try:
    from bereikbaarheid.kernels import ch
except ImportError:  # the contraction hierarchy is not there yet
    ch = None

# Demo scales measured to give about 100k, 1M and 3M car-network nodes
# (scale 4: 109k, scale 36: 1.06M; car nodes are ~85-90 % of road nodes).
SIZES = {"small": 4.0, "medium": 36.0, "large": 105.0}
NETWORKX_MAX_NODES = 200_000   # networkx runs on the smallest size only
CUTOFF_MS = 30 * 60_000.0
ROAD_MODES = ("walk", "bike", "car")
# Memory for one chunk of scipy's dense (sources x nodes) result.
SCIPY_CHUNK_BYTES = 256 * 2**20
# pandana's dense (nodes x POIs) result of one nearest_pois call.
PANDANA_MAX_BYTES = 4 * 2**30
# pandana stores weights as whole thousandths, truncated: seconds plus a
# hair keep every millisecond whole, and its float results differ from the
# exact sums by well under this.
PANDANA_ATOL_S = 2e-3


@dataclasses.dataclass
class Graph:
    """The car network as the kernels see it, with cells and facilities on nodes."""

    indptr: np.ndarray
    indices: np.ndarray
    time_ms: np.ndarray
    length_mm: np.ndarray
    rev: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    node_x: np.ndarray
    node_y: np.ndarray
    cell_node: np.ndarray
    facility_node: dict[str, np.ndarray]
    use_ch: bool = True

    @property
    def n_nodes(self) -> int:
        return int(self.indptr.shape[0] - 1)

    def matrix(self, reverse: bool = False) -> scipy.sparse.csr_matrix:
        indptr, indices, time_ms = self.rev[:3] if reverse else (
            self.indptr, self.indices, self.time_ms)
        return scipy.sparse.csr_matrix((time_ms, indices, indptr),
                                       shape=(self.n_nodes, self.n_nodes))


class Table:
    """Rows of (query, ours variant, ours s, peer, peer s) and preprocessing times."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.preprocessing_s: dict[str, float] = {}

    def add(self, query: str, variant: str, ours_s: float, peer: str, peer_s: float | None,
            note: str = "") -> None:
        self.rows.append({"query": query, "ours": variant, "ours_s": ours_s, "peer": peer,
                          "peer_s": peer_s,
                          "ratio": None if peer_s is None else peer_s / ours_s,
                          "note": note})
        # Shown as it comes, so a long run that is stopped still has its figures.
        print(f"  {query}: ours {variant} {ours_s:.3f} s, {peer} "
              f"{'n/a' if peer_s is None else f'{peer_s:.3f} s'}", flush=True)

    def print(self, title: str) -> None:
        print(f"\n{title}")
        print(f"{'query':<34} {'ours':<16} {'ours s':>9} {'peer':<18} {'peer s':>9} "
              f"{'peer/ours':>9}")
        for r in self.rows:
            peer_s = "n/a" if r["peer_s"] is None else f"{r['peer_s']:.3f}"
            ratio = "" if r["ratio"] is None else f"{r['ratio']:.1f}"
            print(f"{r['query']:<34} {r['ours']:<16} {r['ours_s']:>9.3f} {r['peer']:<18} "
                  f"{peer_s:>9} {ratio:>9}  {r['note']}".rstrip())
        for name, seconds in self.preprocessing_s.items():
            print(f"  preprocessing: {name} {seconds:.2f} s")


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


# --------------------------------------------------------------------------
# Regions and networks
# --------------------------------------------------------------------------

def region(workdir: Path, scale: float, seed: int) -> tuple[Path, dict]:
    """The demo region at ``scale`` (generated unless already there), and its counts."""
    folder = workdir / f"scale-{scale:g}-seed-{seed}"
    marker = folder / "benchmark-region.json"
    if marker.is_file():
        return folder / "run.toml", json.loads(marker.read_text())
    generate_s, demo = timed(lambda: generate.generate_demo(folder, seed=seed, scale=scale))
    counts = {"scale": scale, "seed": seed, "road_nodes": demo.n_road_nodes,
              "cells": demo.n_cells, "population": demo.population,
              "generate_s": round(generate_s, 2)}
    marker.write_text(json.dumps(counts))
    return demo.config, counts


def networks(config_path: Path) -> tuple[dict, gpd.GeoDataFrame, dict]:
    """Every road network built on a cold cache and loaded from the warm one, timed."""
    config = pipeline.RunConfig.from_toml(config_path)
    cache_dir = config_path.parent / "cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    cold_s, _ = timed(lambda: cache.load_or_build(config.osm, config.settings, cache_dir,
                                                  modes=ROAD_MODES))
    report: dict = {"cold_build_all_modes_s": round(cold_s, 2)}
    nets = {}
    for mode in ROAD_MODES:
        warm_s, (built, facilities, _) = timed(lambda: cache.load_or_build(
            config.osm, config.settings, cache_dir, modes=(mode,)))
        nets[mode] = built[mode]
        report[mode] = {"nodes": built[mode].n_nodes, "edges": built[mode].n_edges,
                        "warm_load_s": round(warm_s, 3)}
    return nets, facilities, report


def car_graph(network, facilities: gpd.GeoDataFrame, grid: Path) -> Graph:
    """The car network with integer-millisecond weights, cells and facilities on nodes."""
    time_ms = link.network_time_ms(network)
    length_mm = link.network_length_mm(network)
    tree = scipy.spatial.cKDTree(np.column_stack([network.node_x, network.node_y]))
    cells = gpd.read_file(grid, columns=[]).to_crs(network.crs).geometry.centroid
    _, cell_node = tree.query(np.column_stack([cells.x, cells.y]))
    points = facilities.to_crs(network.crs).geometry.centroid
    _, fac_node = tree.query(np.column_stack([points.x, points.y]))
    types = facilities["type"].to_numpy(object)
    return Graph(
        indptr=network.indptr, indices=network.indices, time_ms=time_ms, length_mm=length_mm,
        rev=dijkstra.reverse_csr(network.indptr, network.indices, time_ms, length_mm),
        node_x=network.node_x, node_y=network.node_y, cell_node=cell_node.astype(np.int64),
        facility_node={t: fac_node[types == t].astype(np.int32)
                       for t in sorted(set(types))})


# --------------------------------------------------------------------------
# Engine variants ("ours"): add a kernel here to give it its own rows
# --------------------------------------------------------------------------

def one_to_all_variants(g: Graph, table: Table) -> dict[str, Callable[[int], np.ndarray]]:
    """Cost from one node to every node, per engine variant (forward graph)."""
    variants = {"dijkstra": lambda s: dijkstra.one_to_all(g.indptr, g.indices, g.time_ms, s)}
    if ch is not None and g.use_ch:
        build_s, h = timed(lambda: ch.build_hierarchy(g.indptr, g.indices, g.time_ms,
                                                      g.length_mm))
        table.preprocessing_s["ours ch build (forward graph)"] = build_s
        variants["ch"] = lambda s: ch.one_to_all(h, s)
    return variants


def nearest_variants(g: Graph, table: Table
                     ) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Cost from every node to its nearest source node, per engine variant (reversed graph)."""
    def ours(nodes):
        k = nodes.shape[0]
        return dijkstra.nearest_source(*g.rev, nodes, np.zeros(k), np.arange(k))[0]

    variants = {"dijkstra": ours}
    if ch is not None and g.use_ch:
        build_s, h = timed(lambda: ch.build_hierarchy(*g.rev))
        table.preprocessing_s["ours ch build (reversed graph)"] = build_s

        def ours_ch(nodes):
            k = nodes.shape[0]
            result = ch.nearest_source(h, nodes, np.zeros(k), np.arange(k))
            return result[0] if isinstance(result, tuple) else result

        variants["ch"] = ours_ch
    return variants


def count_variants(g: Graph, table: Table, cell_order: np.ndarray, target_indptr: np.ndarray
                   ) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Facilities within 30 min of every cell (in ``cell_order``), per engine variant."""
    zeros = np.zeros(cell_order.shape[0])
    rindptr, rindices, rtime, _ = g.rev

    def counts(nodes):
        return dijkstra.count_within(rindptr, rindices, rtime, nodes, np.zeros(nodes.shape[0]),
                                     [CUTOFF_MS], target_indptr, zeros)[:, 0]

    cell_nodes, cell_group = np.unique(g.cell_node, return_inverse=True)
    target_of_node = np.full(g.n_nodes, -1, np.int32)
    target_of_node[cell_nodes] = np.arange(cell_nodes.shape[0])

    def pairs(nodes):
        _, target, _ = dijkstra.sources_within_cutoff(rindptr, rindices, rtime, nodes,
                                                      CUTOFF_MS, target_of_node)
        return np.bincount(target, minlength=cell_nodes.shape[0])[cell_group][cell_order]

    variants = {"dijkstra count": counts, "dijkstra pairs": pairs}
    if ch is not None and g.use_ch:
        build_s, h = timed(lambda: ch.build_hierarchy(*g.rev))
        table.preprocessing_s["ours ch build (reversed graph, counts)"] = build_s
        n_cells = cell_order.shape[0]
        cell_node = g.cell_node[cell_order]

        def ch_counts(nodes):
            # Nodes are numbered along a Z-order curve: sorted, the sources of
            # a batch lie close together (the counts do not depend on the order).
            k = nodes.shape[0]
            return ch.count_within(h, np.arange(k + 1), np.sort(nodes), np.zeros(k),
                                   [CUTOFF_MS], np.arange(n_cells + 1), cell_node,
                                   zeros)[:, 0]

        variants["ch count"] = ch_counts
    return variants


# --------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------

def time_ours(variants: dict, arg, repeat: int, what: str) -> tuple[dict, np.ndarray]:
    """Best time and result of each of our variants (compiled first), checked
    to agree with the Dijkstra kernel; returns them and the reference result."""
    for run in variants.values():
        run(arg)  # compile
    ours = {name: benchmark_kernels.best_time(lambda: run(arg), repeat)
            for name, run in variants.items()}
    reference = ours["dijkstra"][1]
    for name, (_, cost) in ours.items():
        np.testing.assert_array_equal(cost, reference, err_msg=f"ours {name} {what}")
    return ours, reference


def query_one_to_all(g: Graph, table: Table, source: int, repeat: int) -> None:
    ours, reference = time_ours(one_to_all_variants(g, table), source, repeat, "one-to-all")
    matrix = g.matrix()
    peers: dict[str, float | None] = {}
    peer_s, cost = benchmark_kernels.best_time(
        lambda: scipy.sparse.csgraph.dijkstra(matrix, indices=source), repeat)
    np.testing.assert_array_equal(cost, reference, err_msg="scipy one-to-all")
    peers["scipy"] = peer_s

    import igraph
    tails = np.repeat(np.arange(g.n_nodes, dtype=np.int64), np.diff(g.indptr))
    build_s, graph = timed(lambda: igraph.Graph(
        n=g.n_nodes, edges=np.column_stack([tails, g.indices]).tolist(), directed=True,
        edge_attrs={"weight": g.time_ms.tolist()}))
    table.preprocessing_s["igraph graph"] = build_s
    peer_s, cost = benchmark_kernels.best_time(
        lambda: np.asarray(graph.distances(source=source, weights="weight")[0]), repeat)
    np.testing.assert_array_equal(cost, reference, err_msg="igraph one-to-all")
    peers["igraph"] = peer_s
    del graph

    if g.n_nodes <= NETWORKX_MAX_NODES:
        import networkx as nx
        build_s, graph = timed(lambda: _networkx_graph(nx, tails, g))
        table.preprocessing_s["networkx graph"] = build_s
        peer_s, lengths = benchmark_kernels.best_time(
            lambda: nx.single_source_dijkstra_path_length(graph, source), repeat)
        cost = np.full(g.n_nodes, np.inf)
        cost[list(lengths)] = list(lengths.values())
        np.testing.assert_array_equal(cost, reference, err_msg="networkx one-to-all")
        peers["networkx"] = peer_s
    peers["pandana"] = None
    for name, (ours_s, _) in ours.items():
        for peer, peer_s in peers.items():
            table.add("one-to-all", name, ours_s, peer, peer_s,
                      "no one-to-all query" if peer_s is None else "")


def _networkx_graph(nx, tails, g: Graph):
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(tails.tolist(), g.indices.tolist(), g.time_ms.tolist()))
    return graph


def pandana_network(g: Graph, table: Table):
    """pandana's network of the car graph (contraction hierarchy built here), weights in s."""
    import pandana
    tails = np.repeat(np.arange(g.n_nodes, dtype=np.int64), np.diff(g.indptr))
    build_s, net = timed(lambda: pandana.Network(
        pd.Series(g.node_x), pd.Series(g.node_y), pd.Series(tails),
        pd.Series(g.indices.astype(np.int64)),
        pd.DataFrame({"time_s": (g.time_ms + 1e-4) / 1000.0}), twoway=False))
    table.preprocessing_s["pandana network (CH)"] = build_s
    return net


def pandana_pois(net, table: Table, g: Graph, category: str, nodes: np.ndarray,
                 maxdist_s: float, maxitems: int) -> None:
    set_s, _ = timed(lambda: net.set_pois(category, maxdist_s, maxitems,
                                          pd.Series(g.node_x[nodes]),
                                          pd.Series(g.node_y[nodes])))
    table.preprocessing_s[f"pandana set_pois {category}"] = set_s


def query_nearest(g: Graph, table: Table, net, repeat: int) -> None:
    nodes = np.concatenate(list(g.facility_node.values()))
    query = f"nearest of {nodes.shape[0]} facilities"
    ours, reference = time_ours(nearest_variants(g, table), nodes, repeat, "nearest")
    matrix = g.matrix(reverse=True)
    peers = {}
    peer_s, cost = benchmark_kernels.best_time(
        lambda: scipy.sparse.csgraph.dijkstra(matrix, indices=nodes, min_only=True,
                                              return_predecessors=False), repeat)
    np.testing.assert_array_equal(cost, reference, err_msg="scipy min_only")
    peers["scipy min_only"] = peer_s
    # pandana needs a search radius: the farthest node's cost, plus a margin.
    radius_s = float(reference[np.isfinite(reference)].max()) / 1000.0 + 1.0
    pandana_pois(net, table, g, "nearest", nodes, radius_s, 1)
    peer_s, frame = benchmark_kernels.best_time(
        lambda: net.nearest_pois(radius_s, "nearest", num_pois=1, max_distance=np.inf),
        repeat)
    np.testing.assert_allclose(frame[1].to_numpy(), reference / 1000.0, rtol=0,
                               atol=PANDANA_ATOL_S, err_msg="pandana nearest_pois")
    peers["pandana"] = peer_s
    for name, (ours_s, _) in ours.items():
        for peer, peer_s in peers.items():
            table.add(query, name, ours_s, peer, peer_s)


def query_within(g: Graph, table: Table, net, repeat: int, scipy_sources: int,
                 seed: int) -> None:
    """Per type, the facilities within 30 min of every cell; times summed over types."""
    cell_order = np.argsort(g.cell_node, kind="stable")
    target_indptr = np.zeros(g.n_nodes + 1, np.int64)
    np.cumsum(np.bincount(g.cell_node, minlength=g.n_nodes), out=target_indptr[1:])
    variants = count_variants(g, table, cell_order, target_indptr)
    n_fac = sum(n.shape[0] for n in g.facility_node.values())
    query = f"{g.cell_node.shape[0]} cells x {n_fac} fac <= 30 min"
    small = next(iter(g.facility_node.values()))[:2]
    for run in variants.values():
        run(small)  # compile
    ours_s = dict.fromkeys(variants, 0.0)
    counts = {}
    for ftype, nodes in g.facility_node.items():
        results = {}
        for name, run in variants.items():
            seconds, results[name] = benchmark_kernels.best_time(lambda: run(nodes), repeat)
            ours_s[name] += seconds
        for name, result in results.items():
            np.testing.assert_array_equal(result, results["dijkstra count"],
                                          err_msg=f"ours {name} counts of {ftype}")
        counts[ftype] = results["dijkstra count"]

    rng = np.random.default_rng(seed)
    scipy_s, timed_sources = _scipy_within(g, cell_order, target_indptr, variants,
                                           scipy_sources, rng)
    note = ("" if timed_sources == n_fac else
            f"scipy: {timed_sources} of {n_fac} sources timed, scaled up")
    pandana_s = 0.0
    for ftype, nodes in g.facility_node.items():
        # As many POIs as the busiest cell reaches, so every cell's count is whole.
        k = max(1, int(counts[ftype].max()))
        if g.n_nodes * k * 8 > PANDANA_MAX_BYTES:
            pandana_s = None
            break
        pandana_pois(net, table, g, f"within {ftype}", nodes, CUTOFF_MS / 1000.0, k)
        seconds, frame = benchmark_kernels.best_time(
            lambda: net.nearest_pois(CUTOFF_MS / 1000.0, f"within {ftype}", num_pois=k,
                                     max_distance=np.inf), repeat)
        pandana_s += seconds
        reached = np.isfinite(frame.to_numpy()).sum(axis=1)[g.cell_node[cell_order]]
        _check_pandana_counts(reached, counts[ftype], ftype)
    for name, seconds in ours_s.items():
        table.add(query, name, seconds, "scipy limit", scipy_s, note)
        table.add(query, name, seconds, "pandana nearest_pois", pandana_s,
                  "n/a: result too large" if pandana_s is None else "")


def _scipy_within(g: Graph, cell_order, target_indptr, variants, max_sources: int, rng
                  ) -> tuple[float, int]:
    """scipy's time for every type's bounded searches (scaled up from a subset when
    there are more than ``max_sources``), its counts checked against ours."""
    matrix = g.matrix(reverse=True)
    chunk = max(1, SCIPY_CHUNK_BYTES // (8 * g.n_nodes))
    cells = g.cell_node[cell_order]
    total_s = 0.0
    n_all = sum(n.shape[0] for n in g.facility_node.values())
    timed_sources = 0
    for nodes in g.facility_node.values():
        share = nodes.shape[0] if n_all <= max_sources else max(
            1, round(max_sources * nodes.shape[0] / n_all))
        subset = nodes if share >= nodes.shape[0] else np.sort(
            rng.choice(nodes, size=share, replace=False))
        count = np.zeros(cells.shape[0], np.int64)
        start = time.perf_counter()
        for first in range(0, subset.shape[0], chunk):
            dist = scipy.sparse.csgraph.dijkstra(matrix, indices=subset[first:first + chunk],
                                                 limit=CUTOFF_MS, return_predecessors=False)
            count += np.isfinite(dist[:, cells]).sum(axis=0)
        total_s += (time.perf_counter() - start) * nodes.shape[0] / subset.shape[0]
        timed_sources += subset.shape[0]
        np.testing.assert_array_equal(count, variants["dijkstra count"](subset),
                                      err_msg="scipy limit counts")
    return total_s, timed_sources


def _check_pandana_counts(reached: np.ndarray, ours: np.ndarray, ftype: str) -> None:
    """pandana's counts equal ours but where a facility lies within float
    precision of the cutoff (pandana truncates to thousandths and sums floats)."""
    differ = np.flatnonzero(reached != ours)
    if differ.shape[0] > max(1, ours.shape[0] // 10_000):
        raise AssertionError(f"pandana counts of {ftype} differ from ours for "
                             f"{differ.shape[0]} of {ours.shape[0]} cells")


# --------------------------------------------------------------------------
# Full profile in a child process
# --------------------------------------------------------------------------

def profile_child(config_path: str, output_dir: str, result_path: str) -> None:
    """Run the road profile (walk, bike, car; no pt) twice and write its timings:
    the first run builds what the cache lacks (the contraction hierarchies),
    the second is the warm run a planner repeats."""
    config = pipeline.RunConfig.from_toml(config_path, output_dir=output_dir,
                                          cache_dir=Path(config_path).parent / "cache",
                                          gtfs=())
    config.settings = dataclasses.replace(config.settings, modes=ROAD_MODES)
    first_s, first = timed(lambda: pipeline.run_profile(config))
    wall_s, result = timed(lambda: pipeline.run_profile(config))
    Path(result_path).write_text(json.dumps({
        "wall_s": round(wall_s, 2), "first_run_s": round(first_s, 2),
        "first_run_steps_s": first.manifest.get("timings_s", {}),
        "peak_rss_gb": round(_high_water_gb(), 3),
        "steps_s": result.manifest.get("timings_s", {})}))


def _high_water_gb() -> float:
    """This process's peak resident memory (``VmHWM``), in GB.

    Not ``ru_maxrss``: Linux carries that over an exec from the forked
    parent, so a child of this (large) benchmark process would report the
    parent's memory as its own.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def profile(config_path: Path) -> dict:
    """Wall time and peak memory of the full road profile, run in a child process."""
    out = config_path.parent / "profile"
    result_path = out / "benchmark-profile.json"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--profile-child", str(config_path), str(out),
                    str(result_path)], check=True)
    result = json.loads(result_path.read_text())
    result["child_process_s"] = round(time.perf_counter() - start, 2)
    return result


# --------------------------------------------------------------------------

def run_size(name: str, scale: float, args) -> dict:
    print(f"\n=== {name}: demo scale {scale:g} ===", flush=True)
    config_path, counts = region(args.workdir, scale, args.seed)
    print(f"region: {counts}", flush=True)
    nets, facilities, net_report = networks(config_path)
    print(f"networks: {net_report}", flush=True)
    g = car_graph(nets["car"], facilities, config_path.parent / "grid_100m.gpkg")
    g.use_ch = not args.no_ch
    del nets
    table = Table()
    source = int(np.random.default_rng(args.seed).integers(g.n_nodes))
    print(f"car graph: {g.n_nodes:,} nodes, {g.indices.shape[0]:,} edges; "
          f"{g.cell_node.shape[0]:,} cells; facilities "
          f"{ {t: n.shape[0] for t, n in g.facility_node.items()} }", flush=True)
    query_one_to_all(g, table, source, args.repeat)
    print("one-to-all done", flush=True)
    net = pandana_network(g, table)
    query_nearest(g, table, net, args.repeat)
    print("nearest done", flush=True)
    query_within(g, table, net, args.bounded_repeat, args.scipy_sources, args.seed)
    del net
    print("within done", flush=True)
    result = {"size": name, "scale": scale, "region": counts, "networks": net_report,
              "car_graph": {"nodes": g.n_nodes, "edges": int(g.indices.shape[0]),
                            "cells": int(g.cell_node.shape[0]),
                            "facilities": {t: int(n.shape[0])
                                           for t, n in g.facility_node.items()}}}
    del g
    if not args.no_profile:
        result["profile"] = profile(config_path)
        print(f"profile: {result['profile']}", flush=True)
    table.print(f"{name} (scale {scale:g}): car graph {result['car_graph']['nodes']:,} nodes, "
                f"{numba.get_num_threads()} numba threads, best of {args.repeat} "
                f"({args.bounded_repeat} for the 30-min query)")
    result["rows"] = table.rows
    result["preprocessing_s"] = table.preprocessing_s
    return result


def machine() -> dict:
    versions = {}
    for package in ("bereikbaarheid", "numpy", "scipy", "numba", "igraph", "networkx",
                    "pandana"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu_count": os.cpu_count(), "numba_threads": numba.get_num_threads(),
            "platform": platform.platform(), "processor": platform.processor(),
            "python": platform.python_version(), "versions": versions,
            "ch_importable": ch is not None}


def parse_sizes(text: str) -> list[tuple[str, float]]:
    sizes = []
    for item in text.split(","):
        item = item.strip()
        sizes.append((item, SIZES[item]) if item in SIZES else (f"scale {item}", float(item)))
    return sizes


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--profile-child":
        profile_child(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large",
                        help=f"comma-separated names {list(SIZES)} or demo scales")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bereikbaarheid-bench"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bounded-repeat", type=int, default=1,
                        help="runs of the 30-minute query (the slowest)")
    parser.add_argument("--scipy-sources", type=int, default=300,
                        help="most sources scipy runs in the 30-minute query; "
                             "with more, a subset is timed and scaled up")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the full-profile run")
    parser.add_argument("--no-ch", action="store_true",
                        help="leave out the contraction-hierarchy variant (kernels.ch)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"machine: {info}", flush=True)
    results = [run_size(name, scale, args) for name, scale in parse_sizes(args.sizes)]
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "sizes": results}, indent=2,
                                        default=float))


if __name__ == "__main__":
    main()
