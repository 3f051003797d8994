"""On-disk cache of built networks and OSM facilities, keyed by input digests."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _io, _progress
from ..config import Settings
from ..errors import InputError
from ..sources import gtfs as gtfs_source, osm as osm_source
from ..kernels import ch, csr, dijkstra
from . import _way_rules, build, graph, link, timetable, transit
from .graph import RoadNetwork

logger = logging.getLogger(__name__)

# Bump when the stored layout or the meaning of an array changes.
CACHE_FORMAT_VERSION = 3  # 2: nodes in Z-order; 3: a folder of .npy arrays, memory-mapped

# Settings that change a built network of each mode, and those that change
# OSM facilities; a change rebuilds only what depends on it.
_COMMON_NETWORK_SETTINGS: tuple[str, ...] = (
    "crs", "allowed_highways", "unlinkable_highways", "ferry_speed_kmh",
    "keep_largest_component",
)
NETWORK_SETTINGS: dict[str, tuple[str, ...]] = {
    "walk": (*_COMMON_NETWORK_SETTINGS, "walk_speed_kmh"),
    "bike": (*_COMMON_NETWORK_SETTINGS, "bike_speed_kmh"),
    "car": (*_COMMON_NETWORK_SETTINGS, "car_speeds_kmh", "use_maxspeed"),
}
FACILITY_SETTINGS: tuple[str, ...] = ("crs", "facility_types", "facility_tags")

_ARRAY_DTYPES: dict[str, str] = {
    "node_x": "float64", "node_y": "float64", "node_osm_id": "int64",
    "indptr": "int64", "indices": "int32", "edge_time_s": "float64",
    "edge_length_m": "float64", "edge_linkable": "bool", "edge_ferry": "bool",
}
_HIERARCHY_DTYPES: dict[str, str] = {
    "n": "int64", "rank": "int32", "order": "int32",
    "up_indptr": "int64", "up_indices": "int32", "up_cost": "float64", "up_length": "float64",
    "down_indptr": "int64", "down_indices": "int32", "down_cost": "float64",
    "down_length": "float64", "shortcuts": "int64", "build_s": "float64",
}


def _package_version() -> str:
    """Package version plus a digest of the code that builds networks, so a
    change to a tag rule invalidates the cache even between releases."""
    try:
        version = metadata.version("bereikbaarheid")
    except metadata.PackageNotFoundError:
        version = "unknown"
    h = hashlib.sha256()
    for module in (osm_source, build, _way_rules, graph):
        h.update(Path(module.__file__).read_bytes())
    return f"{version}+{h.hexdigest()[:16]}"


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load_or_build(
    pbf_path: str | Path, settings: Settings, cache_dir: str | Path = "network_cache",
    modes: tuple[str, ...] | None = None,
) -> tuple[dict[str, RoadNetwork], gpd.GeoDataFrame, dict[str, Any]]:
    """Networks of every road mode in ``settings.road_modes`` and the OSM facilities,
    from the cache when valid, else built from one pass over the PBF.

    A cached entry is used only when its key (cache format, package version
    with a digest of the network-building code,
    SHA-256 of the PBF bytes and the relevant settings) matches and its
    arrays verify (SHA-256 of every stored array file, shapes, dtypes,
    ``RoadNetwork.validate``). Anything else is rebuilt and overwritten, and
    the report says why.

    A network is stored as a folder ``{stem}.{mode}.arrays`` of ``.npy`` files
    beside a JSON sidecar ``{stem}.{mode}.json``. A reused network's arrays
    are copy-on-write memory maps of those files: they load in the time it
    takes to verify them, pages are shared with the operating system's file
    cache, and a consumer that writes into an array changes its own copy,
    never the cache.

    Runs sharing a cache folder build an entry once: the building run holds
    a lock on it (:func:`_entry_lock`), a run needing the same entry waits
    and then reuses it; different entries build in parallel. A damaged
    entry (a file replaced by a folder or the reverse, a truncated file,
    garbage) reads as "verification failed" and is replaced. Temporary files
    of killed runs are removed (:func:`bereikbaarheid._io.clean_stale`).

    Parameters
    ----------
    pbf_path
        OpenStreetMap ``.osm.pbf`` extract.
    settings
        Run settings.
    cache_dir
        Folder of the cache files (created when missing).
    modes
        The road modes to build (default ``settings.road_modes``); a mode
        whose network comes from elsewhere (an OSMnx graph) is left out.

    Returns
    -------
    networks
        ``{mode: RoadNetwork}``.
    facilities
        GeoDataFrame as from :func:`bereikbaarheid.sources.osm.read_osm`.
    report
        Per mode and for ``"facilities"``: ``{"status": "reused"}`` or
        ``{"status": "built", "reason": ...}`` (modes also carry the build
        ``"stats"``), reason one of ``"no cache"``,
        ``"input changed"``, ``"settings changed"``, ``"version changed"``,
        ``"verification failed: ..."``; ``"osm"`` holds the reader's report
        when the PBF was read.
    """
    pbf_path = Path(pbf_path)
    if not pbf_path.is_file():
        raise InputError(pbf_path, "file not found; expected an OpenStreetMap .osm.pbf extract")
    cache_dir = Path(cache_dir)
    modes = settings.road_modes if modes is None else modes
    input_digest = _io.file_digest(pbf_path)
    version = f"{CACHE_FORMAT_VERSION}/{_package_version()}"
    stem = pbf_path.name.removesuffix(".pbf").removesuffix(".osm")

    identity = {mode: {
        "version": version,
        "input_sha256": input_digest,
        "settings_sha256": settings.digest(*NETWORK_SETTINGS[mode]),
        "mode": mode,
    } for mode in modes}
    facility_identity = {
        "version": version,
        "input_sha256": input_digest,
        "settings_sha256": settings.digest(*FACILITY_SETTINGS),
    }

    _io.clean_stale(cache_dir)
    networks: dict[str, RoadNetwork] = {}
    report: dict[str, Any] = {}
    facilities_path, facilities_sidecar = _facility_paths(cache_dir, stem)

    def load(mode_list: Iterable[str], load_facilities: bool) -> gpd.GeoDataFrame | None:
        """Load what verifies into ``networks``, reporting each entry."""
        for mode in mode_list:
            folder, sidecar = _mode_paths(cache_dir, stem, mode)
            network, reason = _load_network(folder, sidecar, identity[mode])
            if network is None:
                report[mode] = {"status": "built", "reason": reason}
            else:
                logger.info(f"reusing cached {mode} network from {folder}")
                networks[mode] = network
                report[mode] = {"status": "reused"}
        if not load_facilities:
            return None
        found, reason = _load_facilities(facilities_path, facilities_sidecar, facility_identity)
        report["facilities"] = (
            {"status": "reused"} if found is not None else {"status": "built", "reason": reason}
        )
        return found

    facilities = load(modes, True)
    missing = [mode for mode in modes if mode not in networks]
    if missing or facilities is None:
        sidecars = [_mode_paths(cache_dir, stem, mode)[1] for mode in missing]
        if facilities is None:
            sidecars.append(facilities_sidecar)
        with _entry_locks(sidecars):
            # A run that held a lock may have stored the entries meanwhile.
            found = load(missing, facilities is None)
            facilities = found if facilities is None else facilities
            missing = [mode for mode in missing if mode not in networks]
            for mode in missing:
                if report[mode]["reason"] != "no cache":
                    logger.info(f"cached {mode} network not used ({report[mode]['reason']}); "
                                "rebuilding")
            if missing or facilities is None:
                osm = osm_source.read_osm(pbf_path, settings)
                report["osm"] = osm.report
                for mode in missing:
                    network = build.build_network(osm, mode, settings)
                    folder, sidecar = _mode_paths(cache_dir, stem, mode)
                    _store_network(network, folder, sidecar, identity[mode])
                    networks[mode] = network
                if facilities is None:
                    facilities = osm.facilities
                    _store_facilities(facilities, facilities_path, facilities_sidecar,
                                      facility_identity)
    for mode in modes:
        report[mode]["stats"] = networks[mode].stats
    return {mode: networks[mode] for mode in modes}, facilities, report


@contextmanager
def _entry_lock(sidecar: Path) -> Iterator[None]:
    """Hold the lock of the cache entry whose sidecar is ``sidecar``: the
    file ``.{entry}.lock`` beside it."""
    _io.make_dirs(sidecar.parent)
    with _io.locked(sidecar.with_name(f".{sidecar.stem}.lock")):
        yield


@contextmanager
def _entry_locks(sidecars: Iterable[Path]) -> Iterator[None]:
    """Hold the locks of several entries, taken in name order so that two
    runs needing overlapping sets never wait for each other in a circle."""
    with ExitStack() as stack:
        for sidecar in sorted(set(sidecars)):
            stack.enter_context(_entry_lock(sidecar))
        yield


def _mode_paths(cache_dir: Path, stem: str, mode: str) -> tuple[Path, Path]:
    return cache_dir / f"{stem}.{mode}.arrays", cache_dir / f"{stem}.{mode}.json"


def _facility_paths(cache_dir: Path, stem: str) -> tuple[Path, Path]:
    return cache_dir / f"{stem}.facilities.parquet", cache_dir / f"{stem}.facilities.json"


def _identity_mismatch(stored: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """Why a stored entry does not belong to the wanted inputs, or None."""
    if stored.get("format_version") != CACHE_FORMAT_VERSION or stored.get("version") != wanted["version"]:
        return "version changed"
    if stored.get("input_sha256") != wanted["input_sha256"]:
        return "input changed"
    if stored.get("settings_sha256") != wanted["settings_sha256"]:
        return "settings changed"
    if stored.get("key") != _key(*(str(wanted[k]) for k in sorted(wanted))):
        return "settings changed"
    return None


def _read_sidecar(sidecar: Path) -> dict[str, Any] | str:
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, ValueError) as exc:
        return f"verification failed: unreadable sidecar ({exc})"
    if not isinstance(meta, dict):
        return "verification failed: unreadable sidecar (not a JSON object)"
    return meta


def _matching_sidecar(sidecar: Path, wanted: dict[str, Any]
                      ) -> tuple[dict[str, Any] | None, str]:
    """The readable sidecar of a cache entry whose identity matches, or why not."""
    if not sidecar.exists():
        return None, "no cache"
    meta = _read_sidecar(sidecar)
    if isinstance(meta, str):
        return None, meta
    mismatch = _identity_mismatch(meta, wanted)
    if mismatch:
        return None, mismatch
    return meta, "ok"


def _verified_sidecar(path: Path, sidecar: Path, wanted: dict[str, Any], what: str
                      ) -> tuple[dict[str, Any] | None, str]:
    """The sidecar of a one-file cache entry whose identity and checksum match,
    or why not."""
    if not os.path.lexists(path):
        return None, "no cache"
    meta, reason = _matching_sidecar(sidecar, wanted)
    if meta is None:
        return None, reason
    try:
        digest = _io.file_digest(path)
    except OSError as exc:
        return None, f"verification failed: unreadable {what} ({exc})"
    if digest != meta.get("sha256"):
        return None, f"verification failed: stored {what} do not match their checksum"
    return meta, reason


def _array_digests(folder: Path, names: Sequence[str]) -> dict[str, str]:
    """SHA-256 of each array file, hashed in parallel threads (hashlib and
    file reads release the GIL, so verifying costs disk/hash bandwidth over
    all cores rather than one)."""
    paths = [folder / f"{name}.npy" for name in names]
    with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 1)) as pool:
        return dict(zip(names, pool.map(_io.file_digest, paths)))


def _entry_digest(digests: dict[str, str]) -> str:
    """One digest of an entry: of its array names and their digests."""
    return _key(*(f"{name}:{digests[name]}" for name in sorted(digests)))


def _load_network(folder: Path, sidecar: Path, wanted: dict[str, Any]
                  ) -> tuple[RoadNetwork | None, str]:
    """The network stored in ``folder`` (one ``.npy`` file per array) when its
    identity and arrays verify, else None and why."""
    arrays, meta, reason = _load_arrays(folder, sidecar, wanted, _ARRAY_DTYPES)
    if arrays is None:
        return None, reason
    try:
        network = RoadNetwork(mode=meta["mode"], crs=meta["crs"], stats=meta["stats"], **arrays)
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"verification failed: incomplete sidecar ({exc!r})"
    try:
        network.validate()
    except ValueError as exc:
        return None, f"verification failed: {exc}"
    return network, "reused"


def _load_arrays(folder: Path, sidecar: Path, wanted: dict[str, Any], dtypes: dict[str, str]
                 ) -> tuple[dict[str, np.ndarray] | None, dict[str, Any], str]:
    """The arrays ``dtypes`` names, stored in ``folder`` by :func:`_store_arrays`,
    when the entry's identity, every file's SHA-256, shape and dtype verify;
    else None and why. Returns ``(arrays, sidecar, reason)``."""
    meta, reason = _matching_sidecar(sidecar, wanted)
    if meta is None:
        return None, {}, reason
    names = list(dtypes)
    missing = [name for name in names if not (folder / f"{name}.npy").is_file()]
    if missing:
        # A folder (or anything else) standing where an array file belongs.
        others = [name for name in missing if os.path.lexists(folder / f"{name}.npy")]
        if others:
            return None, meta, ("verification failed: not a file: "
                                f"{', '.join(f'{name}.npy' for name in others)}")
        return None, meta, f"verification failed: array file(s) missing: {', '.join(missing)}"
    try:
        digests = _array_digests(folder, names)
    except OSError as exc:
        return None, meta, f"verification failed: unreadable arrays ({exc})"
    try:
        stored = meta["array_sha256"]
        damaged = [name for name in names if digests[name] != stored[name]]
    except (KeyError, TypeError) as exc:
        return None, meta, f"verification failed: incomplete sidecar ({exc!r})"
    if damaged or _entry_digest(digests) != meta.get("sha256"):
        return None, meta, (f"verification failed: stored arrays do not match their checksum "
                            f"({', '.join(damaged) or 'entry'})")
    try:
        # Copy-on-write maps: no reading up front, and a writing consumer
        # gets private pages; np.asarray drops the memmap subclass so numpy
        # results and Numba see ordinary arrays.
        arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="c",
                                           allow_pickle=False))
                  for name in names}
    except (OSError, ValueError) as exc:
        return None, meta, f"verification failed: unreadable arrays ({exc})"
    try:
        for name, array in arrays.items():
            shape, dtype = meta["arrays"][name]
            expected = (shape, dtype, dtypes[name])
            if (list(array.shape), str(array.dtype), str(array.dtype)) != expected:
                return None, meta, (f"verification failed: array {name} has the wrong shape "
                                    "or dtype")
    except (KeyError, TypeError, ValueError) as exc:
        return None, meta, f"verification failed: incomplete sidecar ({exc!r})"
    return arrays, meta, "reused"


def _store_network(network: RoadNetwork, folder: Path, sidecar: Path,
                   identity: dict[str, Any]) -> None:
    """Write ``network`` with :func:`_store_arrays`."""
    _store_arrays({name: getattr(network, name) for name in RoadNetwork.ARRAYS}, folder,
                  sidecar, identity, mode=network.mode, crs=network.crs, stats=network.stats)
    # A cache of format 2 kept the same network as one .npz; it is dead weight now.
    _io.remove(folder.with_suffix(".npz"))


def _store_arrays(arrays: dict[str, np.ndarray], folder: Path, sidecar: Path,
                  identity: dict[str, Any], **extra: Any) -> None:
    """Write ``arrays`` as a folder of ``.npy`` files and then their sidecar.

    Each file is replaced atomically, so a process that has the old one
    mapped keeps reading it intact; the sidecar comes last and holds every
    file's digest, so an interrupted write reads as damaged, not as valid.
    """
    # np.asarray keeps 0-d arrays 0-d (np.ascontiguousarray makes them 1-d).
    arrays = {name: np.asarray(a, order="C") for name, a in arrays.items()}
    _io.make_way(folder, directory=True)
    _io.clean_stale(folder)
    digests = {}
    for name, array in arrays.items():
        _io.make_way(folder / f"{name}.npy")
        with _io.atomic_path(folder / f"{name}.npy") as tmp:
            with open(tmp, "wb") as f:
                np.save(f, array, allow_pickle=False)
            digests[name] = _io.file_digest(tmp)
    meta = _sidecar_meta(identity, sha256=_entry_digest(digests))
    meta.update(extra, arrays={name: [list(a.shape), str(a.dtype)] for name, a in arrays.items()},
                array_sha256=digests)
    _io.make_way(sidecar)
    with _io.atomic_open(sidecar, "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


def load_or_build_hierarchy(network: RoadNetwork, cache_dir: str | Path
                            ) -> tuple[ch.Hierarchy, dict[str, Any]]:
    """The contraction hierarchy of a network's reversed graph, the graph the
    travel-time searches run on (from the facilities to the cells), in whole
    milliseconds and millimetres; from the cache when valid, else built and
    stored.

    The entry ``hierarchy.{mode}.{digest}.arrays`` is keyed by the SHA-256 of
    the graph's arrays (so any change to the network builds a new one) and
    the layout version :data:`bereikbaarheid.kernels.ch.HIERARCHY_FORMAT`,
    and verified like a network (every array file's SHA-256, shapes, dtypes,
    then the hierarchy's own consistency checks); runs sharing the cache
    build it once, as :func:`load_or_build` does.

    Returns
    -------
    hierarchy
        :class:`bereikbaarheid.kernels.ch.Hierarchy` (arrays memory-mapped when reused).
    report
        ``{"status": "reused"}`` or ``{"status": "built", "reason": ..., "build_s": ...}``,
        with ``"shortcuts"`` in both.
    """
    rev = _search_graph(network)
    digest = _arrays_digest(*rev)
    # Any hierarchy of this very graph answers exactly, whatever contraction
    # order built it, so the key is the graph and the stored layout, not the
    # contraction code (a better order arrives with the next network change).
    identity = {"version": f"{CACHE_FORMAT_VERSION}/hierarchy-{ch.HIERARCHY_FORMAT}",
                "input_sha256": digest, "settings_sha256": "", "mode": network.mode}
    folder = Path(cache_dir) / f"hierarchy.{network.mode}.{digest[:16]}.arrays"
    sidecar = folder.with_suffix(".json")
    dtypes = {name: str(dtype) for name, dtype in _HIERARCHY_DTYPES.items()}
    _io.clean_stale(Path(cache_dir))
    h, reason = _load_hierarchy(folder, sidecar, identity, dtypes, network.n_nodes)
    if h is not None:
        return h, {"status": "reused", "shortcuts": h.shortcuts}
    with _entry_lock(sidecar):
        # A run that held the lock may have stored it meanwhile.
        h, reason = _load_hierarchy(folder, sidecar, identity, dtypes, network.n_nodes)
        if h is not None:
            return h, {"status": "reused", "shortcuts": h.shortcuts}
        logger.info(f"contraction hierarchy of the {network.mode} network "
                    f"({network.n_nodes:,} nodes)")
        h = _progress.watch(lambda counter: ch.build_hierarchy(*rev, progress=counter),
                            desc=f"contraction hierarchy ({network.mode})",
                            total=network.n_nodes, unit=" nodes")
        _store_arrays(h.to_arrays(), folder, sidecar, identity, mode=network.mode)
    report = {"status": "built", "reason": reason, "build_s": round(h.build_s, 1),
              "shortcuts": h.shortcuts}
    # Continue on the memory-mapped files, as a reusing run would: the pages a
    # query never touches (the lengths, for counts) then take no memory.
    arrays, _, _ = _load_arrays(folder, sidecar, identity, dtypes)
    return (h if arrays is None else ch.Hierarchy.from_arrays(arrays)), report


_LOCATION_DTYPES: dict[str, str] = {"segment": "int64", "fraction": "float64",
                                     "connector_m": "float64"}


def locate_points_cached(
    network: RoadNetwork,
    point_sets: Sequence[tuple[str, np.ndarray, np.ndarray]],
    max_link_distance_m: float,
    cache_dir: str | Path | None,
    segments: tuple[np.ndarray, ...] | None = None,
) -> tuple[list[link.PointLocations], dict[str, dict[str, str]]]:
    """:func:`bereikbaarheid.networks.link.locate_points` of each point set,
    from the cache when valid; the sets not found are located together (one
    spatial index over the network) and stored.

    A set ``(name, x, y)`` is stored in ``locations.{mode}.{name}.{key}.arrays``,
    keyed by the SHA-256 of the network's geometry and topology, of the
    points' coordinates, of the maximum link distance and of the linking
    code (``link.py`` and ``kernels/csr.py``, which numbers the segments);
    it is verified like a network (every array's SHA-256, shape and dtype,
    then that every location lies on one of the network's segments).
    The cells of a region keep their entry while the facilities change, so
    a scenario only locates its facilities again. With ``cache_dir`` None
    nothing is read or stored.

    Returns the locations in the order of ``point_sets`` and, per set name,
    ``{"status": "reused"}``, ``{"status": "stored", "reason": ...}`` (why
    the entry could not be used) or ``{"status": "not cached"}``.
    """
    segments = segments or link.network_segments(network)
    n_segments = len(segments[0])
    found: dict[int, link.PointLocations] = {}
    report: dict[str, dict[str, str]] = {}
    entries = {}
    reasons = {}
    if cache_dir is not None:
        network_digest = _arrays_digest(network.node_x, network.node_y, network.indptr,
                                        network.indices, network.edge_linkable)
        # The linking code, and the kernel that numbers the segments.
        code = hashlib.sha256(b"".join(Path(m.__file__).read_bytes()
                                       for m in (link, csr))).hexdigest()[:16]
        for i, (name, x, y) in enumerate(point_sets):
            x = np.asarray(x, np.float64)
            y = np.asarray(y, np.float64)
            identity = {"version": f"{CACHE_FORMAT_VERSION}/locations-{code}",
                        "input_sha256": _key(network_digest, _arrays_digest(x, y)),
                        "settings_sha256": repr(float(max_link_distance_m)),
                        "mode": network.mode}
            key = _key(*(str(identity[k]) for k in sorted(identity)))
            folder = Path(cache_dir) / f"locations.{network.mode}.{name}.{key[:16]}.arrays"
            entries[i] = (folder, folder.with_suffix(".json"), identity)
            located, reason = _load_locations(*entries[i], len(x), n_segments)
            if located is not None:
                found[i] = located
                report[name] = {"status": "reused"}
            else:
                reasons[i] = reason
    missing = [i for i in range(len(point_sets)) if i not in found]
    if missing:
        sizes = [len(point_sets[i][1]) for i in missing]
        located = link.locate_points(
            network, np.concatenate([np.asarray(point_sets[i][1], np.float64) for i in missing]),
            np.concatenate([np.asarray(point_sets[i][2], np.float64) for i in missing]),
            max_link_distance_m, segments)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        for k, i in enumerate(missing):
            found[i] = located.take(np.arange(starts[k], starts[k + 1]))
            name = point_sets[i][0]
            if i in entries:
                folder, sidecar, identity = entries[i]
                with _entry_lock(sidecar):
                    _store_arrays({a: getattr(found[i], a) for a in _LOCATION_DTYPES},
                                  folder, sidecar, identity, mode=network.mode)
                report[name] = {"status": "stored", "reason": reasons[i]}
            else:
                report[name] = {"status": "not cached"}
    return [found[i] for i in range(len(point_sets))], dict(sorted(report.items()))


def _load_locations(folder: Path, sidecar: Path, identity: dict[str, Any], n_points: int,
                    n_segments: int) -> tuple[link.PointLocations | None, str]:
    """Stored locations of ``n_points`` points when they verify, else None and why."""
    arrays, _, reason = _load_arrays(folder, sidecar, identity, _LOCATION_DTYPES)
    if arrays is None:
        return None, reason
    # Read into memory: they are small, and the split copies them anyway.
    located = link.PointLocations(*(np.array(arrays[a]) for a in _LOCATION_DTYPES))
    seg, frac, dist = located.segment, located.fraction, located.connector_m
    if not (seg.ndim == frac.ndim == dist.ndim == 1
            and len(seg) == len(frac) == len(dist) == n_points):
        return None, "verification failed: point count differs"
    on = seg >= 0
    if (np.any(seg < -1) or np.any(seg >= n_segments)
            or not np.all((frac[on] >= 0.0) & (frac[on] <= 1.0))
            or not np.all(dist[on] >= 0.0)
            or not (np.all(np.isnan(frac[~on])) and np.all(np.isnan(dist[~on])))):
        return None, "verification failed: a location lies off the network's segments"
    return located, "reused"


def _load_hierarchy(folder: Path, sidecar: Path, identity: dict[str, Any],
                    dtypes: dict[str, str], n_nodes: int) -> tuple[ch.Hierarchy | None, str]:
    """The stored hierarchy when it verifies and has ``n_nodes`` nodes, else None and why."""
    arrays, _, reason = _load_arrays(folder, sidecar, identity, dtypes)
    if arrays is None:
        return None, reason
    try:
        h = ch.Hierarchy.from_arrays(arrays)
    except ValueError as exc:
        return None, f"verification failed: {exc}"
    if h.n != n_nodes:
        return None, "verification failed: node count differs"
    return h, "reused"


def _search_graph(network: RoadNetwork) -> tuple[np.ndarray, ...]:
    """The reversed network in whole ms and mm, as the linked search graphs
    of :mod:`bereikbaarheid.measures.access` have it between network nodes."""
    return dijkstra.reverse_csr(network.indptr, network.indices, link.network_time_ms(network),
                                link.network_length_mm(network))


def _sidecar_meta(identity: dict[str, Any], sha256: str) -> dict[str, Any]:
    return dict(
        identity,
        format_version=CACHE_FORMAT_VERSION,
        key=_key(*(str(identity[k]) for k in sorted(identity))),
        sha256=sha256,
    )


def _load_facilities(path: Path, sidecar: Path, wanted: dict[str, Any]
                     ) -> tuple[gpd.GeoDataFrame | None, str]:
    meta, reason = _verified_sidecar(path, sidecar, wanted, "facilities")
    if meta is None:
        return None, reason
    try:
        facilities = gpd.read_parquet(path)
    except (OSError, ValueError) as exc:
        return None, f"verification failed: unreadable facilities ({exc})"
    if list(facilities.columns) != list(osm_source.FACILITY_COLUMNS):
        return None, "verification failed: facility columns differ"
    return facilities, "reused"


def _store_facilities(facilities: gpd.GeoDataFrame, path: Path, sidecar: Path,
                      identity: dict[str, Any]) -> None:
    _io.make_way(path)
    with _io.atomic_path(path) as tmp:
        facilities.to_parquet(tmp, index=False)
        digest = _io.file_digest(tmp)
    _io.make_way(sidecar)
    with _io.atomic_open(sidecar, "w") as f:
        json.dump(_sidecar_meta(identity, sha256=digest), f, indent=1, sort_keys=True)


# Settings that change a built transit network (beside the walk network itself).
TRANSIT_SETTINGS: tuple[str, ...] = (
    "crs", "pt_date", "pt_window", "pt_max_time_min", "pt_transfer_max_m", "pt_min_change_s",
    "walk_speed_kmh", "connector_speed_kmh", "max_link_distance_m",
)


def load_or_build_timetable(
    gtfs_paths: Sequence[str | Path],
    walk: RoadNetwork,
    settings: Settings,
    cache_dir: str | Path = "network_cache",
    area=None,
) -> tuple[timetable.Timetable, dict[str, Any]]:
    """The public-transport timetable of ``settings.pt_date`` with walking
    transfers, from the cache when valid, else built by
    :func:`bereikbaarheid.networks.transit.build_transit`.

    The key holds the SHA-256 of every feed, a digest of the walk network's
    arrays, the transit settings, the clipping area and the code that builds
    timetables; a stored entry is also checked against its own checksum and
    :meth:`Timetable.validate`. Each analysis date has its own entry. Runs
    sharing the cache build it once, as :func:`load_or_build` does.

    Returns
    -------
    timetable
        RAPTOR arrays.
    report
        As from ``build_transit`` (validation issues, feed period, stats),
        plus ``status`` ("reused" / "built") and, when built, ``reason``.
    """
    paths = [Path(p) for p in gtfs_paths]
    for p in paths:
        if not p.exists():
            raise InputError(p, "GTFS feed not found; expected a .zip file or a folder of .txt files")
    code = hashlib.sha256()
    for module in (gtfs_source, gtfs_source._gtfs_text, gtfs_source._gtfs_parse, timetable, transit):
        code.update(Path(module.__file__).read_bytes())
    identity = {
        "version": f"{CACHE_FORMAT_VERSION}/{_package_version()}+{code.hexdigest()[:16]}",
        "input_sha256": [_feed_digest(p) for p in paths],
        "walk_sha256": _arrays_digest(walk.indptr, walk.indices, walk.edge_time_s,
                                      walk.node_x, walk.node_y),
        "settings_sha256": settings.digest(*TRANSIT_SETTINGS),
        "area_sha256": hashlib.sha256(b"" if area is None else area.wkb).hexdigest(),
    }
    stem = "+".join(p.name.removesuffix(".zip") for p in paths)
    npz = Path(cache_dir) / f"{stem}.pt-{settings.pt_date}.npz"
    sidecar = npz.with_suffix(".json")
    _io.clean_stale(Path(cache_dir))
    loaded, reason = _load_timetable(npz, sidecar, identity)
    if loaded is None:
        with _entry_lock(sidecar):
            # A run that held the lock may have stored it meanwhile.
            loaded, reason = _load_timetable(npz, sidecar, identity)
            if loaded is None:
                return _build_timetable(paths, walk, settings, area, npz, sidecar, identity,
                                        reason)
    logger.info(f"reusing cached timetable from {npz}")
    return loaded[0], dict(loaded[1], status="reused")


def _build_timetable(paths: list[Path], walk: RoadNetwork, settings: Settings, area,
                     npz: Path, sidecar: Path, identity: dict[str, Any], reason: str
                     ) -> tuple[timetable.Timetable, dict[str, Any]]:
    """Build the timetable and store it as ``npz`` with its sidecar."""
    if reason != "no cache":
        logger.info(f"cached timetable not used ({reason}); rebuilding")
    tt, report = transit.build_transit(paths, walk, settings, area=area)
    arrays = {name: getattr(tt, name) for name in timetable.Timetable.ARRAYS}
    arrays.update({name: np.asarray(getattr(tt, name), dtype=str)
                   for name in timetable.Timetable.LABELS})
    _io.make_way(npz)
    with _io.atomic_path(npz) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        digest = _io.file_digest(tmp)
    stored = _sidecar_meta(identity, sha256=digest)
    stored.update(service_date=tt.service_date, stats=tt.stats, report=_jsonable(report))
    _io.make_way(sidecar)
    with _io.atomic_open(sidecar, "w") as f:
        json.dump(stored, f, indent=1, sort_keys=True)
    return tt, dict(report, status="built", reason=reason)


def _load_timetable(npz: Path, sidecar: Path, identity: dict[str, Any]
                    ) -> tuple[tuple[timetable.Timetable, dict[str, Any]] | None, str]:
    """The stored timetable and its build report when the entry verifies,
    else None and why."""
    meta, reason = _verified_sidecar(npz, sidecar, identity, "timetable")
    if meta is None:
        return None, reason
    names = (*timetable.Timetable.ARRAYS, *timetable.Timetable.LABELS)
    try:
        with np.load(npz, allow_pickle=False) as data:
            arrays = {name: data[name] for name in names}
    except (OSError, ValueError, KeyError) as exc:
        return None, f"verification failed: unreadable arrays ({exc})"
    for name in timetable.Timetable.LABELS:
        arrays[name] = arrays[name].astype(object)
    try:
        tt = timetable.Timetable(service_date=meta["service_date"], stats=meta["stats"], **arrays)
        tt.validate()
        report = dict(meta["report"])
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"verification failed: {exc}"
    return (tt, report), "reused"


def _feed_digest(path: Path) -> str:
    """SHA-256 of a feed: the zip's bytes, or a folder's .txt files by name."""
    if path.is_file():
        return _io.file_digest(path)
    h = hashlib.sha256()
    for txt in sorted(path.glob("*.txt")):
        h.update(txt.name.encode() + b"\0" + _io.file_digest(txt).encode())
    return h.hexdigest()


def _arrays_digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).view(np.uint8).data)
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    """Plain JSON types (numpy scalars and NaN become numbers and None)."""
    return json.loads(pd.Series([value]).to_json(orient="values"))[0]
