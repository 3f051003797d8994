"""Hand-made RoadNetworks for tests."""

from __future__ import annotations

import numpy as np

from bereikbaarheid.networks.graph import RoadNetwork


def make_network(coords, edges, *, speed_ms: float = 1.0, mode: str = "walk",
                 linkable=None) -> RoadNetwork:
    """Network from node coordinates and directed edges ``(u, v)``.

    Edge lengths are the straight-line distances; times are length / speed.
    """
    coords = np.asarray(coords, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges = edges[order]
    n = len(coords)
    length = np.hypot(*(coords[edges[:, 1]] - coords[edges[:, 0]]).T)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(edges[:, 0], minlength=n), out=indptr[1:])
    link_ok = np.ones(len(edges), bool) if linkable is None else np.asarray(linkable, bool)[order]
    net = RoadNetwork(
        mode=mode, crs="EPSG:28992",
        node_x=coords[:, 0].copy(), node_y=coords[:, 1].copy(),
        node_osm_id=np.arange(n, dtype=np.int64),
        indptr=indptr, indices=edges[:, 1].astype(np.int32),
        # As the builder does: a zero-length edge still takes a millisecond.
        edge_time_s=np.maximum(length / speed_ms, 1e-3), edge_length_m=length,
        edge_linkable=link_ok, edge_ferry=np.zeros(len(edges), bool),
    )
    net.validate()
    return net


def both_ways(pairs):
    """Directed edges in both directions for each undirected pair."""
    return [(u, v) for u, v in pairs] + [(v, u) for u, v in pairs]


def street_grid(rng, k: int, jitter_m: float):
    """A k x k street lattice 100 m apart, nodes jittered by up to ``jitter_m``
    (0 gives exact distances, hence ties), some streets one-way either way.

    Returns node coordinates and directed edges for :func:`make_network`.
    """
    coords = [(i * 100.0 + rng.uniform(-jitter_m, jitter_m),
               j * 100.0 + rng.uniform(-jitter_m, jitter_m))
              for i in range(k) for j in range(k)]
    pairs = [(i * k + j, i * k + j + 1) for i in range(k) for j in range(k - 1)]
    pairs += [(i * k + j, (i + 1) * k + j) for i in range(k - 1) for j in range(k)]
    edges = []
    for u, v in pairs:
        r = rng.uniform()
        edges += [(u, v)] if r < 0.2 else [(v, u)] if r < 0.4 else [(u, v), (v, u)]
    return coords, edges


def bus_line(service_date: str):
    """A 6 km road on y = 0 (walking and cycling both ways, 1 and 5 m/s);
    stop S0 at x = 100, S1 at x = 5900; a bus S0 -> S1 every 10 minutes from
    07:05, riding 5 minutes. Returns the timetable and the networks."""
    import pandas as pd

    from bereikbaarheid.networks import timetable

    walk = make_network([(0, 0), (6000, 0)], both_ways([(0, 1)]), speed_ms=1.0)
    bike = make_network([(0, 0), (6000, 0)], both_ways([(0, 1)]), speed_ms=5.0, mode="bike")
    stops = pd.DataFrame({"stop_id": ["S0", "S1"], "stop_name": ["Dorp", "Stad"],
                          "station_id": ["", ""], "x": [100.0, 5900.0], "y": [0.0, 0.0]})
    departures = [7 * 3600 + 300 + 600 * k for k in range(4)]
    trips = pd.DataFrame({"trip_id": [f"bus{k}" for k in range(4)], "route_id": "1",
                          "route_type": 3})
    rows = [(k, s, d + 300 * s, d + 300 * s, True, True)
            for k, d in enumerate(departures) for s in (0, 1)]
    stop_times = pd.DataFrame(rows, columns=["trip", "stop", "arrival_s", "departure_s",
                                             "pickup", "dropoff"])
    tt = timetable.build_timetable(stops, trips, stop_times, service_date=service_date)
    return tt, {"walk": walk, "bike": bike}
