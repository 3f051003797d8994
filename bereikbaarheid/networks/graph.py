"""RoadNetwork: a directed road graph of one mode as compact CSR arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class RoadNetwork:
    """Directed graph of one travel mode, in a projected CRS (metres).

    Edges are stored in CSR order: the edges leaving node ``u`` are
    ``indptr[u]:indptr[u+1]``, sorted by head node. Every edge is a straight
    segment between its two nodes (OSM nodes are kept, not simplified away), so
    a point can be linked exactly to the nearest point on an edge.

    Attributes
    ----------
    mode
        ``"walk"``, ``"bike"`` or ``"car"``.
    crs
        CRS of ``node_x``/``node_y`` (e.g. ``"EPSG:28992"``).
    node_x, node_y
        float64 coordinates per node.
    node_osm_id
        int64 OSM node id per node.
    indptr
        int64, length ``n_nodes + 1``.
    indices
        int32 head node per edge.
    edge_time_s
        float64 travel time per edge in seconds (> 0).
    edge_length_m
        float64 length per edge in metres (>= 0).
    edge_linkable
        bool per edge: may cells and facilities be linked to it (not a
        motorway, trunk or ferry).
    edge_ferry
        bool per edge: part of a ``route=ferry``.
    stats
        Build report: ``nodes_before_scc``, ``nodes``, ``edges``,
        ``share_nodes_dropped`` (largest-SCC filter), ``ways_used``,
        ``ways_cut_at_extract_edge`` and similar counts.
    """

    mode: str
    crs: str
    node_x: np.ndarray
    node_y: np.ndarray
    node_osm_id: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    edge_time_s: np.ndarray
    edge_length_m: np.ndarray
    edge_linkable: np.ndarray
    edge_ferry: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    ARRAYS = (
        "node_x", "node_y", "node_osm_id", "indptr", "indices",
        "edge_time_s", "edge_length_m", "edge_linkable", "edge_ferry",
    )

    @property
    def n_nodes(self) -> int:
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.indices.shape[0])

    def edge_tails(self) -> np.ndarray:
        """int32 tail node of every edge (expands ``indptr``)."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.indptr))

    def validate(self) -> None:
        """Raise ValueError if the arrays are inconsistent."""
        n, m = self.n_nodes, self.n_edges
        if self.indptr.shape != (n + 1,) or self.indptr[0] != 0 or self.indptr[-1] != m:
            raise ValueError("indptr does not match the node and edge counts")
        if np.any(np.diff(self.indptr) < 0):
            raise ValueError("indptr is not non-decreasing")
        for name in ("node_y", "node_osm_id"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} has the wrong length")
        for name in ("edge_time_s", "edge_length_m", "edge_linkable", "edge_ferry"):
            if getattr(self, name).shape != (m,):
                raise ValueError(f"{name} has the wrong length")
        if m and (self.indices.min() < 0 or self.indices.max() >= n):
            raise ValueError("edge head out of range")
        if m and not np.all(self.edge_time_s > 0):
            raise ValueError("edge times must be positive")
