"""Road network of the demo region: lattice rasters of road classes, cut into OSM ways.

Every road but the motorway, its links, the roundabout and the cycle path
beside the trunk road runs along the 100 m lattice. Each lattice edge carries
nodes at 0, 10, 50 and 90 m; ways meeting at a lattice point share its node,
and the side path, 10 m off its road, meets every crossing road in that road's
10 m node. Nodes are identified by their integer lattice coordinates, so any
two ways through the same point share the node. The motorway lies between
lattice rows on points no lattice road has: it crosses them on bridges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _frame, _settlements
from ._frame import STEP_M

# Road classes on the lattice, in increasing priority.
TRACK, PATH, FOOTWAY, CYCLEWAY, SERVICE, LIVING_STREET, RESIDENTIAL = 1, 2, 3, 4, 5, 6, 7
UNCLASSIFIED, TERTIARY, SECONDARY, PRIMARY, TRUNK, FERRY = 8, 9, 10, 11, 12, 13
HIGHWAY: dict[int, str] = {
    TRACK: "track", PATH: "path", FOOTWAY: "footway", CYCLEWAY: "cycleway",
    SERVICE: "service", LIVING_STREET: "living_street", RESIDENTIAL: "residential",
    UNCLASSIFIED: "unclassified", TERTIARY: "tertiary", SECONDARY: "secondary",
    PRIMARY: "primary", TRUNK: "trunk",
}

# Variants: extra tags a lattice edge carries; a way is a run of edges with
# one class and one variant.
(PLAIN, URBAN, ZONE30, RURAL80, RURAL_NL, RURAL60, ONEWAY, ONEWAY_BIKE_BOTH,
 ONEWAY_REVERSE, DESTINATION, NO_MOTOR, BUS_ONLY, PRIVATE, BICYCLE_OK, BRIDGE,
 FERRY_CAR, FERRY_FOOT) = range(17)
VARIANT_TAGS: dict[int, dict[str, str]] = {
    PLAIN: {},
    URBAN: {"maxspeed": "50"},
    ZONE30: {"maxspeed": "30"},
    RURAL80: {"maxspeed": "80"},
    RURAL_NL: {"maxspeed": "NL:rural"},
    RURAL60: {"maxspeed": "60"},
    ONEWAY: {"oneway": "yes"},
    ONEWAY_BIKE_BOTH: {"oneway": "yes", "oneway:bicycle": "no"},
    ONEWAY_REVERSE: {"oneway": "-1"},
    DESTINATION: {"access": "destination"},
    NO_MOTOR: {"motor_vehicle": "no"},
    BUS_ONLY: {"access": "no", "bus": "yes"},
    PRIVATE: {"access": "private"},
    BICYCLE_OK: {"bicycle": "yes"},
    BRIDGE: {"bridge": "yes", "layer": "1"},
    FERRY_CAR: {"route": "ferry", "duration": "00:15", "foot": "yes", "bicycle": "yes",
                "motor_vehicle": "yes", "name": "Veerdienst Zandhove - Overkant"},
    FERRY_FOOT: {"route": "ferry", "foot": "yes", "bicycle": "yes", "motor_vehicle": "no",
                 "name": "Fiets- en voetveer"},
}
CLASS_TAGS: dict[int, dict[str, str]] = {
    TRUNK: {"ref": "N62", "maxspeed": "100", "motorroad": "yes"},
    PRIMARY: {"ref": "N61"},
    SECONDARY: {"ref": "N252"},
}
STREET_NAMES: tuple[str, ...] = (
    "Kerkstraat", "Dorpsstraat", "Molenstraat", "Schoolstraat", "Havenstraat",
    "Noordstraat", "Zuidstraat", "Marktstraat", "Lindenlaan", "Beukenlaan",
    "Kastanjelaan", "Wilhelminastraat", "Julianastraat", "Stationsstraat",
    "Nieuwstraat", "Weststraat", "Ooststraat", "Dijkstraat", "Vlasstraat",
    "Korenbloemstraat",
)
RURAL_NAMES: tuple[str, ...] = (
    "Polderweg", "Kreekweg", "Zeedijk", "Molenweg", "Schorreweg", "Oude Weg",
    "Zandweg", "Hoekweg", "Kapelweg", "Graafjansdijk", "Nieuwlandseweg", "Vlaswaaier",
)
OFFSETS_M = np.array([0, 10, 50, 90])  # node offsets along every lattice edge
SIDE_PATH_OFFSET_M = 10
ROUNDABOUT_RADIUS_M = 20
RAMP_REACH_M = 475
MOTORWAY_TAGS = {"highway": "motorway", "oneway": "yes", "maxspeed": "100", "ref": "A58",
                 "lanes": "2"}
LINK_TAGS = {"highway": "motorway_link", "oneway": "yes"}


@dataclass
class Roads:
    """Road ways (lattice-metre point arrays with tags), where rural households live, streets.

    ``street_h[i, j]`` / ``street_v[i, j]`` say whether lattice edge
    ``(i, j)-(i+1, j)`` / ``(i, j)-(i, j+1)`` is a street cars may use (living
    street up to trunk road): facilities stand in the blocks these enclose.
    """

    ways: list[tuple[np.ndarray, dict[str, str]]]
    roadside_points: np.ndarray  # (n, 2) lattice metres along rural roads
    farm_points: np.ndarray  # (n, 2) lattice metres: ends of farm drives
    street_h: np.ndarray
    street_v: np.ndarray


def build_roads(frame: _frame.Frame, seed: int, scale: float, lines: _settlements.Lines,
                settlements: list[_settlements.Settlement]) -> Roads:
    """Lay out every road of the region and cut it into ways."""
    rng = _frame.rng_for(seed, "roads")
    n_i, n_j = frame.n_i, frame.n_j
    # h[i, j]: edge (i, j)-(i+1, j); v[i, j]: edge (i, j)-(i, j+1).
    hc = np.zeros((n_i - 1, n_j), np.int8)
    vc = np.zeros((n_i, n_j - 1), np.int8)
    hv = np.zeros_like(hc)
    vv = np.zeros_like(vc)
    cols, rows = lines.farm_cols, lines.farm_rows

    _farm_grid(rng, hc, hv, cols, rows)
    _farm_grid(rng, vc.T, vv.T, rows, cols)
    farm_points = _spurs(rng, scale, hc, hv, vc, vv, lines, frame)

    inside_h = np.zeros(hc.shape, np.int8)  # 0 rural, 1 village/hamlet, 2 town
    inside_v = np.zeros(vc.shape, np.int8)
    for s in settlements:
        _settlement_streets(s, hc, vc, inside_h, inside_v)

    _main_roads(hc, vc, lines, settlements)
    for c, var, inside in ((hc, hv, inside_h), (vc, vv, inside_v)):
        var[c != UNCLASSIFIED] = PLAIN
        var[(c == PRIMARY) | (c == SECONDARY)] = RURAL80
        var[c == TERTIARY] = RURAL_NL
        urban = (inside > 0) & np.isin(c, (UNCLASSIFIED, TERTIARY, SECONDARY, PRIMARY))
        var[urban] = URBAN
        var[(inside == 2) & (c == RESIDENTIAL)] = ZONE30
    if farm_points.size:
        _mark_private_drive(farm_points[0], vc, vv, hc, hv)
    _special_streets(settlements, lines, hc, hv, vc, vv)
    _mask_water_and_reserve(frame, hc, vc)
    _shore_and_ferries(frame, lines, hc, hv, vc, vv)

    jm = lines.motorway_row
    vv[(vc[:, jm] > 0).nonzero()[0], jm] = BRIDGE
    # The links reach 475 m along the motorway: no lattice road may cross them.
    for ic in lines.primary_cols:
        for d in range(-4, 5):
            if d and 0 <= ic + d < n_i:
                vc[ic + d, jm] = 0

    cut = np.zeros((n_i, n_j), bool)
    cut[np.ix_(cols, rows)] = True
    cut[list(lines.primary_cols), jm] = True
    cut[list(lines.primary_cols), jm + 1] = True

    ways = _lattice_ways(hc, hv, cut, horizontal=True) + _lattice_ways(vc, vv, cut, horizontal=False)
    town = next((s for s in settlements if s.kind == "town"), None)
    if town is not None:
        ways = _roundabout(ways, lines.primary_cols[0], town.j)
    ways += _motorway(frame, lines)
    ways += _side_path(hc, lines)

    # Houses stand at the nodes of rural roads and half way along their edges.
    rural_h = (hc >= UNCLASSIFIED) & (hc <= PRIMARY) & (inside_h == 0)
    rural_v = (vc >= UNCLASSIFIED) & (vc <= PRIMARY) & (inside_v == 0)
    rural = np.zeros((n_i, n_j), bool)
    rural[:-1, :] |= rural_h
    rural[1:, :] |= rural_h
    rural[:, :-1] |= rural_v
    rural[:, 1:] |= rural_v
    roadside = np.concatenate([np.argwhere(rural) * STEP_M,
                               np.argwhere(rural_h) * STEP_M + (STEP_M // 2, 0),
                               np.argwhere(rural_v) * STEP_M + (0, STEP_M // 2)])
    street_h = (hc >= LIVING_STREET) & (hc <= TRUNK)
    street_v = (vc >= LIVING_STREET) & (vc <= TRUNK)
    return Roads(ways, roadside, farm_points, street_h, street_v)


def _farm_grid(rng, c, var, lines_across, lines_along) -> None:
    """Farm roads along ``lines_along`` (second axis of ``c``), cut at ``lines_across``.

    Each link between two crossings is kept (unclassified), becomes a track
    or is missing; each line gets one speed-limit variant.
    """
    link = np.searchsorted(lines_across, np.arange(c.shape[0]), side="right")
    fate = rng.random((len(lines_along), len(lines_across) + 1))[:, link].T
    c[:, lines_along] = np.where(fate < 0.07, 0, np.where(fate < 0.22, TRACK, UNCLASSIFIED))
    speed = rng.choice([PLAIN, RURAL_NL, RURAL60, RURAL80], size=len(lines_along),
                       p=[0.4, 0.3, 0.15, 0.15])
    var[:, lines_along] = speed[None, :]


def _spurs(rng, scale, hc, hv, vc, vv, lines, frame) -> np.ndarray:
    """Dead-end tracks into the fields and service drives to farms; farm points."""
    n_i, n_j = frame.n_i, frame.n_j
    ri0, ri1, rj0, rj1 = frame.reserve_steps
    farms = []
    n_tracks = int(round(60 * scale))
    n_farms = int(round(300 * scale))
    for k in range(n_tracks + n_farms):
        is_farm = k >= n_tracks
        length = int(rng.integers(1, 3) if is_farm else rng.integers(2, 6))
        sign = 1 if rng.random() < 0.5 else -1
        if rng.random() < 0.5:  # north or south from a farm row
            j0 = int(rng.choice(lines.farm_rows))
            i = int(rng.integers(1, n_i - 1))
            lo, hi = (j0, j0 + length) if sign > 0 else (j0 - length, j0)
            if lo < 0 or hi > n_j - 1:
                continue
            seg = vc[i, lo:hi]
            seg[seg == 0] = SERVICE if is_farm else TRACK
            end = (i, j0 + sign * length)
        else:  # east or west from a farm column
            i0 = int(rng.choice(lines.farm_cols))
            j = int(rng.integers(1, n_j - 1))
            lo, hi = (i0, i0 + length) if sign > 0 else (i0 - length, i0)
            if lo < 0 or hi > n_i - 1:
                continue
            seg = hc[lo:hi, j]
            seg[seg == 0] = SERVICE if is_farm else TRACK
            end = (i0 + sign * length, j)
        in_reserve = ri0 <= end[0] <= ri1 and rj0 <= end[1] <= rj1
        if is_farm and not in_reserve:
            farms.append(end)
    return np.array(farms, dtype=np.int64).reshape(-1, 2) * STEP_M


def _mark_private_drive(end: np.ndarray, vc, vv, hc, hv) -> None:
    """The first farm's drive is private (``access=private``)."""
    i, j = (end // STEP_M).tolist()
    for c, var, idx in ((vc, vv, (i, j - 1)), (vc, vv, (i, j)), (hc, hv, (i - 1, j)), (hc, hv, (i, j))):
        if 0 <= idx[0] < c.shape[0] and 0 <= idx[1] < c.shape[1] and c[idx] == SERVICE:
            var[idx] = PRIVATE


def _settlement_streets(s, hc, vc, inside_h, inside_v) -> None:
    """Residential street grid: every lattice edge within the settlement's radius."""
    r = s.radius_steps
    level = 2 if s.kind == "town" else 1
    i0, j0 = s.i - r, s.j - r
    di, dj = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1), indexing="ij")
    node_in = di ** 2 + dj ** 2 <= r ** 2
    h_in = node_in[:-1, :] & node_in[1:, :]
    v_in = node_in[:, :-1] & node_in[:, 1:]
    hs = (slice(i0, i0 + 2 * r), slice(j0, j0 + 2 * r + 1))
    vs = (slice(i0, i0 + 2 * r + 1), slice(j0, j0 + 2 * r))
    hc[hs] = np.where(h_in, np.maximum(hc[hs], RESIDENTIAL), hc[hs])
    vc[vs] = np.where(v_in, np.maximum(vc[vs], RESIDENTIAL), vc[vs])
    inside_h[hs] = np.where(h_in, level, inside_h[hs])
    inside_v[vs] = np.where(v_in, level, inside_v[vs])


def _main_roads(hc, vc, lines, settlements) -> None:
    """Primary, trunk, secondary (through towns), tertiary (to villages), a cycle path."""
    for ic in lines.primary_cols:
        vc[ic, :] = np.maximum(vc[ic, :], PRIMARY)
    hc[:, lines.trunk_row] = np.maximum(hc[:, lines.trunk_row], TRUNK)
    primary = np.array(lines.primary_cols)
    for s in settlements:
        if s.kind == "town":
            hc[:, s.j] = np.maximum(hc[:, s.j], SECONDARY)
            vc[s.i, :] = np.maximum(vc[s.i, :], TERTIARY)
        elif s.kind == "village" and s.i not in lines.primary_cols:
            ic = int(primary[np.argmin(np.abs(primary - s.i))])
            lo, hi = sorted((s.i, ic))
            hc[lo:hi, s.j] = np.maximum(hc[lo:hi, s.j], TERTIARY)
    town = next((s for s in settlements if s.kind == "town"), None)
    if town is not None:
        # "Fietspad" across the fields from the trunk road towards the town.
        east = lines.farm_cols[lines.farm_cols > primary[0]]
        col = (primary[0] + east[0]) // 2 if east.size else primary[0] - 3
        lo, hi = sorted((lines.trunk_row, town.j))
        vc[col, lo:hi] = np.maximum(vc[col, lo:hi], CYCLEWAY)


def _special_streets(settlements, lines, hc, hv, vc, vv) -> None:
    """One-way streets, a shopping street, a bus lane, a park and living streets."""

    def restyle(c, var, sl, cls=None, variant=None):
        hit = np.isin(c[sl], (RESIDENTIAL, LIVING_STREET))
        if cls is not None:
            c[sl] = np.where(hit, cls, c[sl])
        if variant is not None:
            var[sl] = np.where(hit, variant, var[sl])

    town = next((s for s in settlements if s.kind == "town"), None)
    if town is not None:
        i, j = town.i, town.j
        restyle(hc, hv, (slice(i - 4, i), j + 1), variant=ONEWAY_BIKE_BOTH)
        restyle(hc, hv, (slice(i, i + 4), j + 1), variant=ONEWAY)
        restyle(hc, hv, (slice(i - 4, i + 4), j - 1), variant=ONEWAY_REVERSE)
        restyle(vc, vv, (i + 2, slice(j + 2, j + 6)), variant=ONEWAY)
        restyle(vc, vv, (i - 1, slice(j - 3, j - 1)), variant=NO_MOTOR)
        restyle(hc, hv, (slice(i - 3, i + 3), j + 3), cls=LIVING_STREET, variant=PLAIN)
        restyle(vc, vv, (i + 4, slice(j - 5, j - 3)), variant=BUS_ONLY)
        # A park south-west of the centre: footways, one open to cyclists.
        restyle(hc, hv, (slice(i - 5, i - 3), slice(j - 6, j - 3)), cls=FOOTWAY, variant=PLAIN)
        restyle(vc, vv, (slice(i - 5, i - 2), slice(j - 6, j - 4)), cls=FOOTWAY, variant=PLAIN)
        shared = (slice(i - 5, i - 3), j - 5)
        hv[shared] = np.where(hc[shared] == FOOTWAY, BICYCLE_OK, hv[shared])
    for s in settlements:
        if s.kind == "village" and s.radius_steps >= 3:
            restyle(hc, hv, (slice(s.i - 1, s.i + 1), s.j + 1), cls=LIVING_STREET, variant=PLAIN)
    # A country lane for local traffic only, north of the trunk road.
    lanes = lines.farm_cols[~np.isin(lines.farm_cols, lines.primary_cols)]
    col = int(lanes[len(lanes) // 2])
    span = slice(lines.trunk_row + 1, lines.trunk_row + 12)
    vv[col, span] = np.where(vc[col, span] == UNCLASSIFIED, DESTINATION, vv[col, span])


def _mask_water_and_reserve(frame, hc, vc) -> None:
    """No roads in the estuary or the nature reserve."""
    n_i, n_j = frame.n_i, frame.n_j
    bad = np.zeros((n_i, n_j), bool)
    bad[:, frame.water_j0 + 1:frame.water_j1] = True
    ri0, ri1, rj0, rj1 = frame.reserve_steps
    bad[ri0:ri1 + 1, rj0:rj1 + 1] = True
    hc[bad[:-1, :] | bad[1:, :]] = 0
    vc[bad[:, :-1] | bad[:, 1:]] = 0


def _shore_and_ferries(frame, lines, hc, hv, vc, vv) -> None:
    """Dike path on the south shore, a car ferry and a foot/bike ferry across the estuary."""
    j0, j1 = frame.water_j0, frame.water_j1
    ri1 = frame.reserve_steps[1]
    hc[ri1 + 1:, j0] = np.maximum(hc[ri1 + 1:, j0], PATH)
    car, foot = lines.primary_cols[0], lines.foot_ferry_col
    vc[car, j0:j1], vv[car, j0:j1] = FERRY, FERRY_CAR
    vc[foot, j0:j1], vv[foot, j0:j1] = FERRY, FERRY_FOOT
    # The north shore road is whole, so the ferries reach all of the north shore.
    north_road = j1 + 3
    if north_road < frame.n_j:
        low = hc[:, north_road] < UNCLASSIFIED
        hc[:, north_road] = np.where(low, UNCLASSIFIED, hc[:, north_road])
        hv[:, north_road] = np.where(low, PLAIN, hv[:, north_road])
    # Roads up to both landings of the foot ferry.
    below = lines.farm_rows[lines.farm_rows < j0]
    south = slice(int(below.max()) if below.size else 0, j0)
    north = slice(j1, frame.n_j - 1)
    for span in (south, north):
        low = vc[foot, span] < UNCLASSIFIED
        vc[foot, span] = np.where(low, UNCLASSIFIED, vc[foot, span])
        vv[foot, span] = np.where(low, PLAIN, vv[foot, span])


def _lattice_ways(c, var, cut, horizontal: bool) -> list[tuple[np.ndarray, dict[str, str]]]:
    """Cut rasters into ways: maximal runs of one class and variant, broken at cut nodes."""
    code = np.where(c > 0, c.astype(np.int16) * 32 + var, 0)
    # Runs along the last axis: one row per lattice line, nodes one longer than edges.
    code, node_cut = (code.T, cut.T) if horizontal else (code, cut)
    n_lines, n_edges = code.shape
    prev = np.full_like(code, -1)
    prev[:, 1:] = code[:, :-1]
    nxt = np.full_like(code, -1)
    nxt[:, :-1] = code[:, 1:]
    on = code != 0
    starts = on & ((prev != code) | node_cut[:, :-1])
    ends = on & ((nxt != code) | node_cut[:, 1:])
    line_s, e0 = np.nonzero(starts)
    _, e1 = np.nonzero(ends)
    e1 = e1 + 1
    n_pts = 4 * (e1 - e0) + 1
    total = int(n_pts.sum())
    first = np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
    k = np.arange(total) - first
    along = np.repeat(e0 * STEP_M, n_pts) + (k // 4) * STEP_M + OFFSETS_M[k % 4]
    across = np.repeat(line_s * STEP_M, n_pts)
    pts = np.column_stack([along, across] if horizontal else [across, along]).astype(np.int64)
    classes = code[line_s, e0] // 32
    variants = code[line_s, e0] % 32
    pieces = np.split(pts, np.cumsum(n_pts)[:-1])
    tag_cache: dict[tuple[int, int, str | None], dict[str, str]] = {}
    ways = []
    for piece, cls, variant, line in zip(pieces, classes.tolist(), variants.tolist(),
                                         line_s.tolist()):
        name = _name_of(cls, line, horizontal)
        key = (cls, variant, name)
        tags = tag_cache.get(key)
        if tags is None:
            tags = {} if cls == FERRY else {"highway": HIGHWAY[cls]}
            tags.update(CLASS_TAGS.get(cls, {}))
            tags.update(VARIANT_TAGS[variant])
            if name:
                tags["name"] = name
            tag_cache[key] = tags
        ways.append((piece, tags))
    return ways


def _name_of(cls: int, line: int, horizontal: bool) -> str | None:
    """Street names, fixed per lattice line (a street keeps its name along its line)."""
    k = line * 7 + (3 if horizontal else 0)
    if cls in (RESIDENTIAL, LIVING_STREET):
        return STREET_NAMES[k % len(STREET_NAMES)]
    if cls in (UNCLASSIFIED, TERTIARY) and k % 3:
        return RURAL_NAMES[k % len(RURAL_NAMES)]
    return None


def _roundabout(ways, ic: int, jc: int):
    """Replace the crossing at lattice point (ic, jc) by a roundabout."""
    q = np.array([ic * STEP_M, jc * STEP_M], np.int64)
    r = ROUNDABOUT_RADIUS_M
    diag = int(round(r / np.sqrt(2)))
    ring = q + np.array([(r, 0), (diag, diag), (0, r), (-diag, diag), (-r, 0),
                         (-diag, -diag), (0, -r), (diag, -diag)], np.int64)
    out = []
    for pts, tags in ways:
        at_start = bool((pts[0] == q).all())
        at_end = bool((pts[-1] == q).all())
        if at_start or at_end:
            keep = np.hypot(*(pts - q).T) > r
            if at_start:
                direction = np.sign(pts[1] - q)
                pts = np.vstack([q + r * direction, pts[keep]])
            else:
                direction = np.sign(pts[-2] - q)
                pts = np.vstack([pts[keep], q + r * direction])
        out.append((pts, tags))
    # Anticlockwise: traffic keeps right.
    out.append((np.vstack([ring, ring[:1]]),
                {"highway": "primary", "junction": "roundabout", "ref": "N61"}))
    return out


def _motorway(frame, lines) -> list[tuple[np.ndarray, dict[str, str]]]:
    """Dual-carriageway motorway between two lattice rows, with an interchange per primary road."""
    base = lines.motorway_row * STEP_M
    east_v, west_v = base + 35, base + 65
    u = np.arange(25, frame.width_m - 24, 50, dtype=np.int64)
    ways = []
    splits = sorted({ic * STEP_M + d for ic in lines.primary_cols for d in (-RAMP_REACH_M, RAMP_REACH_M)})
    for v, forward in ((east_v, True), (west_v, False)):
        pieces = np.split(u, np.searchsorted(u, splits))
        # Ends shared across pieces: each piece starts where the previous ended.
        for idx in range(len(pieces)):
            seg = pieces[idx]
            if idx + 1 < len(pieces) and pieces[idx + 1].size:
                seg = np.append(seg, pieces[idx + 1][0])
            if seg.size < 2:
                continue
            pts = np.column_stack([seg, np.full(seg.size, v)])
            ways.append((pts if forward else pts[::-1], MOTORWAY_TAGS))
    for ic in lines.primary_cols:
        x = ic * STEP_M
        south, north = np.array([x, base]), np.array([x, base + STEP_M])
        for a, b in (((x - RAMP_REACH_M, east_v), south), (south, (x + RAMP_REACH_M, east_v)),
                     ((x + RAMP_REACH_M, west_v), north), (north, (x - RAMP_REACH_M, west_v))):
            a, b = np.asarray(a, float), np.asarray(b, float)
            t = np.linspace(0.0, 1.0, 11)[:, None]
            pts = np.rint(a + t * (b - a)).astype(np.int64)
            ways.append((pts, LINK_TAGS))
    return ways


def _side_path(hc, lines) -> list[tuple[np.ndarray, dict[str, str]]]:
    """Cycle path ("fietspad") beside the trunk road, 10 m north of it.

    It meets each crossing road in that road's 10 m node and rejoins the trunk
    road's junctions at each farm road.
    """
    row = lines.trunk_row
    trunk = hc[:, row] == TRUNK
    v_path = row * STEP_M + SIDE_PATH_OFFSET_M
    v_road = row * STEP_M
    stops = np.union1d(lines.farm_cols, [0, hc.shape[0]])
    ways = []
    tags = {"highway": "cycleway", "name": "Fietspad N62"}
    for ia, ib in zip(stops[:-1], stops[1:]):
        if ib - ia < 2 or not trunk[ia:ib].all():
            continue
        inner = []
        for i in range(ia, ib):
            for off in OFFSETS_M:
                if (i == ia and off < 50) or (i == ib - 1 and off > 50):
                    continue
                inner.append((i * STEP_M + off, v_path))
        pts = np.array([(ia * STEP_M, v_road)] + inner + [(ib * STEP_M, v_road)], np.int64)
        ways.append((pts, tags))
    return ways
