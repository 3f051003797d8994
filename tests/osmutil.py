"""Hand-made OpenStreetMap PBF files for tests, laid out in RD New metres."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import osmium
import pyproj
from osmium.osm import mutable

# Origin of the test layouts: a field near Utrecht, in RD New (EPSG:28992).
ORIGIN_X, ORIGIN_Y = 136000.0, 455000.0
_TO_WGS84 = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def write_pbf(
    path: Path,
    nodes: Mapping[int, tuple],
    ways: Iterable[tuple[int, list[int], dict[str, str]]] = (),
    relations: Iterable[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = (),
) -> Path:
    """Write a PBF; nodes are ``id: (x_m, y_m)`` or ``id: (x_m, y_m, tags)``
    with x, y metres east and north of ``(ORIGIN_X, ORIGIN_Y)``."""
    path = Path(path)
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    try:
        for node_id in sorted(nodes):
            x, y, *rest = nodes[node_id]
            lon, lat = _TO_WGS84.transform(ORIGIN_X + x, ORIGIN_Y + y)
            writer.add_node(mutable.Node(id=node_id, location=(lon, lat),
                                         tags=rest[0] if rest else {}))
        for way_id, refs, tags in sorted(ways, key=lambda w: w[0]):
            writer.add_way(mutable.Way(id=way_id, nodes=refs, tags=tags))
        for rel_id, members, tags in sorted(relations, key=lambda r: r[0]):
            writer.add_relation(mutable.Relation(id=rel_id, members=members, tags=tags))
    finally:
        writer.close()
    return path


def rd(x: float, y: float) -> tuple[float, float]:
    """RD New coordinates of a layout point."""
    return ORIGIN_X + x, ORIGIN_Y + y
