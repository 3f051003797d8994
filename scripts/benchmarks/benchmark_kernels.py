"""Benchmark the Dijkstra kernels against scipy.sparse.csgraph and networkx.

Usage::

    python scripts/benchmarks/benchmark_kernels.py --nodes 100000 --sources 1000
    python scripts/benchmarks/benchmark_kernels.py --demo-scale 33 --mode car --sources 1000

The first builds one road-like graph from a seed (a perturbed grid with some
edges and diagonals, both directions, arterial lines at a higher speed); the
second generates the demo region at that scale and builds the mode's network
from its PBF through the engine's own readers (a real OSM road graph, one-way
streets included). Then it times, in one process and on the same graph: one-to-all from a single source,
multi-source nearest, and bounded searches from many sources (listing the pairs
reached, and counting the sources that reach each node). Last, on the graph in
whole milliseconds and millimetres, the nearest on the contraction hierarchy
(PHAST) against our Dijkstra: from sources on nodes, and from sources on split
roads (``kernels.ch.nearest_source_split``, as the profile runs it); both must
agree bit for bit. Our kernels are compiled before timing; every timing is the
best of ``--repeat`` runs. Results are checked to agree before the table is
printed.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time

import networkx as nx
import numba
import numpy as np
import scipy
import scipy.sparse
import scipy.sparse.csgraph

from bereikbaarheid.config import Settings
from bereikbaarheid.kernels import ch, dijkstra

SPACING_M = 200.0
ARTERIAL_EVERY = 10          # every 10th grid line is an arterial road
ARTERIAL_SPEED_KMH = 80.0
LOCAL_SPEEDS_KMH = (30.0, 50.0)


def road_like_graph(n_nodes: int, seed: int):
    """CSR arrays ``(indptr, indices, time_s, length_m)`` of a perturbed grid."""
    rng = np.random.default_rng(seed)
    rows = max(1, int(math.sqrt(n_nodes)))
    cols = math.ceil(n_nodes / rows)
    r, c = np.divmod(np.arange(rows * cols), cols)
    x = c * SPACING_M + rng.uniform(-0.3, 0.3, r.size) * SPACING_M
    y = r * SPACING_M + rng.uniform(-0.3, 0.3, r.size) * SPACING_M
    node = np.arange(rows * cols).reshape(rows, cols)
    pairs = [
        (node[:, :-1].ravel(), node[:, 1:].ravel(), 0.97),    # east
        (node[:-1, :].ravel(), node[1:, :].ravel(), 0.97),    # north
        (node[:-1, :-1].ravel(), node[1:, 1:].ravel(), 0.25),  # diagonals
    ]
    tails, heads = [], []
    for a, b, keep in pairs:
        kept = rng.random(a.size) < keep
        tails.append(a[kept])
        heads.append(b[kept])
    a = np.concatenate(tails)
    b = np.concatenate(heads)
    length_m = np.hypot(x[a] - x[b], y[a] - y[b])
    arterial = ((r[a] % ARTERIAL_EVERY == 0) & (r[a] == r[b])) | (
        (c[a] % ARTERIAL_EVERY == 0) & (c[a] == c[b]))
    speed_kmh = np.where(arterial, ARTERIAL_SPEED_KMH, rng.choice(LOCAL_SPEEDS_KMH, a.size))
    time_s = length_m / (speed_kmh / 3.6)
    # Both directions, CSR sorted by (tail, head).
    tail = np.concatenate([a, b])
    head = np.concatenate([b, a])
    time_s = np.concatenate([time_s, time_s])
    length_m = np.concatenate([length_m, length_m])
    order = np.lexsort((head, tail))
    n = rows * cols
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return indptr, head[order].astype(np.int32), time_s[order], length_m[order]


def demo_graph(scale: float, mode: str, seed: int):
    """CSR arrays of the demo region's network for ``mode``, built from its PBF."""
    import tempfile

    from bereikbaarheid.demo import generate
    from bereikbaarheid.networks import build
    from bereikbaarheid.sources import osm

    with tempfile.TemporaryDirectory() as folder:
        region = generate.generate_demo(folder, seed=seed, scale=scale)
        net = build.build_network(osm.read_osm(region.osm, Settings()), mode, Settings())
    return net.indptr, net.indices, net.edge_time_s, net.edge_length_m


def split_edges(indptr, indices, cost, length, k: int, rng):
    """The graph (whole numbers) with ``k`` two-way roads split at a random
    point each, as the linking splits them: split node ``n + i`` on road
    ``i``, each direction a chain of two pieces summing exactly to its edge.
    Returns the split graph's CSR and the split nodes."""
    n = indptr.shape[0] - 1
    tails = np.repeat(np.arange(n), np.diff(indptr))
    forward = np.flatnonzero(tails < indices)
    key = tails * n + indices
    order = np.argsort(key)
    back_key = indices[forward].astype(np.int64) * n + tails[forward]
    pos = np.minimum(np.searchsorted(key[order], back_key), key.size - 1)
    two_way = forward[key[order][pos] == back_key]
    k = min(k, two_way.size)
    chosen = rng.choice(two_way, k, replace=False)
    back = order[np.searchsorted(key[order], indices[chosen].astype(np.int64) * n
                                 + tails[chosen])]
    fraction = rng.uniform(0.05, 0.95, k)
    split = n + np.arange(k)
    keep = np.ones(indices.size, bool)
    keep[chosen] = keep[back] = False
    u, v, c, l = [tails[keep]], [indices[keep].astype(np.int64)], [cost[keep]], [length[keep]]
    for e, a, b, f in ((chosen, tails[chosen], indices[chosen], fraction),
                       (back, indices[chosen], tails[chosen], 1.0 - fraction)):
        first_c, first_l = np.round(cost[e] * f), np.round(length[e] * f)
        u += [a, split]
        v += [split, b]
        c += [first_c, cost[e] - first_c]
        l += [first_l, length[e] - first_l]
    u, v, c, l = (np.concatenate(x) for x in (u, v, c, l))
    order = np.lexsort((v, u))
    new_indptr = np.zeros(n + k + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n + k), out=new_indptr[1:])
    return (new_indptr, v[order].astype(np.int32), c[order], l[order]), split


def best_time(function, repeat: int):
    """``(best seconds, result of the last run)``."""
    best = math.inf
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000,
                        help="size of the synthetic grid graph")
    parser.add_argument("--demo-scale", type=float, default=None,
                        help="use the demo region's road network at this scale instead")
    parser.add_argument("--mode", default="car", choices=("walk", "bike", "car"),
                        help="network mode with --demo-scale")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--cutoff-s", type=float, default=600.0,
                        help="cost limit of the bounded searches (seconds)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    if args.demo_scale is not None:
        indptr, indices, time_s, length_m = demo_graph(args.demo_scale, args.mode, args.seed)
        graph_name = f"demo region scale {args.demo_scale:g}, {args.mode} network"
    else:
        indptr, indices, time_s, length_m = road_like_graph(args.nodes, args.seed)
        graph_name = "synthetic road-like grid"
    n = indptr.shape[0] - 1
    rng = np.random.default_rng(args.seed + 1)
    single = int(rng.integers(n))
    sources = rng.choice(n, size=min(args.sources, n), replace=False).astype(np.int32)
    k = sources.shape[0]
    matrix = scipy.sparse.csr_matrix((time_s, indices, indptr), shape=(n, n))
    every_node = np.arange(n, dtype=np.int32)
    threads = numba.get_num_threads()
    print(f"graph: {graph_name}: {n} nodes, {indices.shape[0]} directed edges; {k} sources; "
          f"cutoff {args.cutoff_s:g} s; numba threads {threads}")

    def ours_single():
        return dijkstra.one_to_all(indptr, indices, time_s, single)

    def ours_nearest():
        return dijkstra.nearest_source(indptr, indices, time_s, length_m, sources,
                                       np.zeros(k), np.arange(k))

    def ours_bounded():
        return dijkstra.sources_within_cutoff(indptr, indices, time_s, sources,
                                              args.cutoff_s, every_node)

    every_node_targets = np.arange(n + 1, dtype=np.int64)

    def ours_count():
        return dijkstra.count_within(indptr, indices, time_s, sources, np.zeros(k),
                                     [args.cutoff_s], every_node_targets, np.zeros(n))

    for warm_up in (ours_single, ours_nearest, ours_bounded, ours_count):
        warm_up()

    rows = []

    def record(task, ours_s, peer, peer_s):
        rows.append({"task": task, "ours_s": ours_s, "peer": peer, "peer_s": peer_s,
                     "ratio": peer_s / ours_s})

    # One to all.
    ours_s, ours = best_time(ours_single, args.repeat)
    peer_s, peer = best_time(
        lambda: scipy.sparse.csgraph.dijkstra(matrix, indices=single), args.repeat)
    np.testing.assert_allclose(ours, peer, rtol=0, atol=1e-6)
    record("one-to-all", ours_s, "scipy", peer_s)
    if n <= 200_000:
        tails = np.repeat(np.arange(n), np.diff(indptr))
        graph = nx.DiGraph()
        graph.add_weighted_edges_from(zip(tails.tolist(), indices.tolist(), time_s.tolist()))
        peer_s, peer = best_time(
            lambda: nx.single_source_dijkstra_path_length(graph, single), args.repeat)
        nx_cost = np.full(n, np.inf)
        nx_cost[list(peer)] = list(peer.values())
        np.testing.assert_allclose(ours, nx_cost, rtol=0, atol=1e-6)
        record("one-to-all", ours_s, "networkx", peer_s)

    # Multi-source nearest.
    ours_s, (cost, _, _) = best_time(ours_nearest, args.repeat)
    peer_s, peer = best_time(
        lambda: scipy.sparse.csgraph.dijkstra(matrix, indices=sources, min_only=True),
        args.repeat)
    np.testing.assert_allclose(cost, peer, rtol=0, atol=1e-6)
    record(f"nearest of {k}", ours_s, "scipy min_only", peer_s)

    # Bounded searches from every source.
    ours_s, (pair_source, pair_target, pair_cost) = best_time(ours_bounded, args.repeat)
    peer_s, peer = best_time(
        lambda: scipy.sparse.csgraph.dijkstra(matrix, indices=sources, limit=args.cutoff_s),
        args.repeat)
    reached = np.isfinite(peer)
    assert reached.sum() == pair_source.shape[0], "bounded searches reach different pairs"
    np.testing.assert_allclose(pair_cost, peer[pair_source, pair_target], rtol=0, atol=1e-6)
    del peer
    record(f"{k} searches <= {args.cutoff_s:g} s", ours_s, "scipy limit", peer_s)

    # The same searches, counting the sources within the cutoff of every node.
    count_s, counts = best_time(ours_count, args.repeat)
    np.testing.assert_array_equal(counts[:, 0], reached.sum(axis=0))
    del reached
    record(f"{k} counts <= {args.cutoff_s:g} s", count_s, "scipy limit", peer_s)
    numba.set_num_threads(1)
    one_thread_s, _ = best_time(ours_bounded, args.repeat)
    numba.set_num_threads(threads)
    record(f"{k} searches <= {args.cutoff_s:g} s, 1 thread", one_thread_s, "scipy limit",
           peer_s)
    print(f"bounded searches reach {pair_source.shape[0] / k:.0f} nodes per source on average")

    # Nearest on the hierarchy, as the profile runs it: whole milliseconds and
    # millimetres, facilities on split roads entering with their connector.
    cost_ms, length_mm = np.round(time_s * 1000.0), np.round(length_m * 1000.0)
    start = time.perf_counter()
    h = ch.build_hierarchy(indptr, indices, cost_ms, length_mm)
    print(f"hierarchy: {h.shortcuts} shortcuts, built in {time.perf_counter() - start:.1f} s")
    plain = (sources, np.zeros(k), np.arange(k))
    phast_s, phast = best_time(lambda: ch.nearest_source(h, *plain), args.repeat)
    dijkstra_s, reference = best_time(
        lambda: dijkstra.nearest_source(indptr, indices, cost_ms, length_mm, *plain),
        args.repeat)
    for a, b in zip(phast, reference):
        assert a.tobytes() == b.tobytes(), "PHAST and Dijkstra nearest differ"
    record(f"nearest of {k}, PHAST", phast_s, "our Dijkstra", dijkstra_s)
    split_graph, split_nodes = split_edges(indptr, indices, cost_ms, length_mm, k, rng)
    on_roads = (split_nodes, rng.integers(0, 60_000, split_nodes.size).astype(float),
                np.arange(split_nodes.size))
    phast_s, phast = best_time(lambda: ch.nearest_source_split(h, *split_graph, *on_roads),
                               args.repeat)
    dijkstra_s, reference = best_time(
        lambda: dijkstra.nearest_source(*split_graph, *on_roads), args.repeat)
    for a, b in zip(phast, reference):
        assert a.tobytes() == b.tobytes(), "PHAST and Dijkstra nearest on split roads differ"
    record(f"nearest of {split_nodes.size} split, PHAST", phast_s,
           "our Dijkstra", dijkstra_s)

    print()
    print(f"{'task':<32} {'ours (s)':>10} {'peer':<16} {'peer (s)':>10} {'peer/ours':>10}")
    for row in rows:
        print(f"{row['task']:<32} {row['ours_s']:>10.4f} {row['peer']:<16} "
              f"{row['peer_s']:>10.4f} {row['ratio']:>10.1f}")

    if args.json:
        meta = {"graph": graph_name, "nodes": n, "edges": int(indices.shape[0]), "sources": k,
                "cutoff_s": args.cutoff_s, "repeat": args.repeat, "seed": args.seed,
                "numba_threads": threads, "numba": numba.__version__,
                "scipy": scipy.__version__, "networkx": nx.__version__,
                "python": platform.python_version(), "machine": platform.machine()}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
