"""Regions on national inputs: resolve the region, clip the national files to its area (cached)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from . import _io
from .errors import CacheError, ConfigError, InputError
from .run_config import RunConfig
from .sources import clip, regions

logger = logging.getLogger(__name__)

# Bump when the clipping rules change, so cached clipped files are redone.
CLIP_FORMAT_VERSION = "1"
CLIPPED_FOLDER = "clipped"


def region_spec(config: RunConfig, municipalities: gpd.GeoDataFrame) -> regions.RegionSpec:
    """The region a run configuration asks for: an NPVR region of the
    registry, a list of municipality codes, a polygon file, or (none of
    these) every municipality of the boundary file."""
    chosen = [k for k, v in (("id", config.region_id), ("polygon", config.region_polygon),
                             ("municipalities", config.municipality_codes)) if v]
    if len(chosen) > 1:
        raise ConfigError(f"region {config.region!r}: give one of [region] id, polygon or "
                          f"municipalities, not {chosen}")
    if config.region_id:
        return regions.get_region(config.region_id, regions.read_registry(config.registry))
    if config.region_polygon is not None:
        return regions.polygon_region(config.region, config.region_polygon)
    codes = config.municipality_codes or tuple(municipalities["code"])
    return regions.custom_region(config.region, codes)


def resolve(config: RunConfig, municipalities: gpd.GeoDataFrame) -> regions.Region:
    """The region of ``config`` against the boundary file, with its analysis
    area (region plus ``settings.area_buffer_m``); an absent municipality
    code is an error naming it."""
    spec = region_spec(config, municipalities)
    return regions.resolve_region(spec, municipalities, config.settings,
                                  buffer_m=config.settings.area_buffer_m)


def clipped_inputs(
    config: RunConfig, areas: Mapping[str, shapely.Geometry]
) -> dict[str, tuple[Path, tuple[Path, ...], dict[str, Any]]]:
    """The OSM extract and GTFS feeds of ``config`` clipped to each area.

    Clipped files live in ``cache_dir/clipped``, named after the input, the
    region and a key (SHA-256 of the input bytes, the area and the clipping
    version), each with a sidecar holding the output's SHA-256. A valid one is
    reused; the missing ones are clipped together, one streaming read of the
    national PBF (and of each feed) for all areas. Runs sharing the cache
    clip a file once: the clipping run holds the lock of each region it
    clips for, and a run needing a file of that region waits and then
    reuses it. A damaged file (a folder in its place, a wrong checksum) is
    clipped again.

    Parameters
    ----------
    config
        Inputs (``osm``, ``gtfs``) and ``cache_dir``.
    areas
        Region name -> analysis area in ``config.settings.crs``.

    Returns
    -------
    dict
        Region name -> (clipped PBF, clipped feeds, report) where the report
        says per file ``reused`` or ``clipped`` with counts.
    """
    folder = Path(config.cache_dir) / CLIPPED_FOLDER
    _io.make_dirs(folder)
    _io.clean_stale(folder)
    crs = config.settings.crs
    osm_path = Path(config.osm)
    osm_digest = _digest_input(osm_path)
    feed_digests = {Path(f): _digest_input(Path(f)) for f in config.gtfs}

    out: dict[str, tuple[Path, tuple[Path, ...], dict[str, Any]]] = {}
    to_clip: dict[str, tuple[shapely.Geometry, Path, dict[str, Any]]] = {}
    feeds_to_clip: dict[Path, dict[str, tuple[shapely.Geometry, Path, dict[str, Any]]]] = {}
    for name, area in areas.items():
        area_digest = hashlib.sha256(shapely.to_wkb(area, output_dimension=2)).hexdigest()
        report: dict[str, Any] = {}
        target, identity = _target(folder, osm_path, name, osm_digest, area_digest, ".osm.pbf")
        reason = _verify(target, identity)
        if reason is None:
            report["osm"] = {"status": "reused", "path": str(target)}
        else:
            to_clip[name] = (area, target, identity)
            report["osm"] = {"status": "clipped", "reason": reason, "path": str(target)}
        feeds = []
        for feed, digest in feed_digests.items():
            feed_target, feed_identity = _target(folder, feed, name, digest, area_digest, ".zip")
            reason = _verify(feed_target, feed_identity)
            if reason is None:
                report[f"gtfs:{feed.name}"] = {"status": "reused", "path": str(feed_target)}
            else:
                feeds_to_clip.setdefault(feed, {})[name] = (area, feed_target, feed_identity)
                report[f"gtfs:{feed.name}"] = {"status": "clipped", "reason": reason,
                                               "path": str(feed_target)}
            feeds.append(feed_target)
        out[name] = (target, tuple(feeds), report)

    todos = [(f"gtfs:{feed.name}", todo) for feed, todo in feeds_to_clip.items()]
    todos.append(("osm", to_clip))
    with _locks(folder, {name for _, todo in todos for name in todo}):
        for key, todo in todos:
            for name, (_, target, identity) in list(todo.items()):
                # A run that held the lock may have clipped it meanwhile.
                if _verify(target, identity) is None:
                    out[name][2][key] = {"status": "reused", "path": str(target)}
                    del todo[name]
                else:
                    _io.make_way(target)
                    _io.make_way(_sidecar(target))
        for feed, todo in feeds_to_clip.items():
            if not todo:
                continue
            logger.info(f"clipping {feed} to {len(todo)} area(s): {', '.join(todo)}")
            counts = clip.clip_gtfs(feed, {n: a for n, (a, _, _) in todo.items()},
                                    {n: t for n, (_, t, _) in todo.items()}, crs=crs)
            for name, (_, target, identity) in todo.items():
                _store_sidecar(target, identity)
                out[name][2][f"gtfs:{feed.name}"]["counts"] = counts[name]
        if to_clip:
            logger.info(f"clipping {osm_path} to {len(to_clip)} area(s): {', '.join(to_clip)}")
            counts = clip.clip_osm(osm_path, {n: a for n, (a, _, _) in to_clip.items()},
                                   {n: t for n, (_, t, _) in to_clip.items()}, crs=crs)
            for name, (_, target, identity) in to_clip.items():
                _store_sidecar(target, identity)
                out[name][2]["osm"]["counts"] = counts[name]
    return out


@contextmanager
def _locks(folder: Path, regions: Iterable[str]) -> Iterator[None]:
    """Hold the lock ``.{region}.lock`` in ``folder`` of each region (one
    per region, not per file: a batch may clip for hundreds), taken in name
    order so that two runs never wait for each other in a circle."""
    with ExitStack() as stack:
        for region in sorted(regions):
            stack.enter_context(_io.locked(folder / f".{region}.lock"))
        yield


# SHA-256 per (path, size, mtime): a run over all regions hashes the
# national files once.
_DIGESTS: dict[tuple[str, int, int], str] = {}


def _digest_input(path: Path) -> str:
    """SHA-256 of a file, or of a GTFS folder's files (names and bytes)."""
    if path.is_file():
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _DIGESTS:
            logger.info(f"hashing {path}")
            _DIGESTS[key] = _io.file_digest(path)
        return _DIGESTS[key]
    if not path.is_dir():
        raise InputError(path, "GTFS feed not found (expected a zip file or a folder)")
    h = hashlib.sha256()
    for child in sorted(path.glob("*.txt")):
        h.update(child.name.encode())
        h.update(_io.file_digest(child).encode())
    return h.hexdigest()


def _target(folder: Path, source: Path, region: str, source_digest: str, area_digest: str,
            suffix: str) -> tuple[Path, dict[str, Any]]:
    identity = {"format": CLIP_FORMAT_VERSION, "source": source.name,
                "source_sha256": source_digest, "area_sha256": area_digest, "region": region}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    stem = source.name.removesuffix(".zip").removesuffix(".pbf").removesuffix(".osm")
    return folder / f"{stem}.{region}.{key}{suffix}", identity


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def _verify(target: Path, identity: dict[str, Any]) -> str | None:
    """None when ``target`` is a verified clip for ``identity``, else why not."""
    sidecar = _sidecar(target)
    if not os.path.lexists(target) or not os.path.lexists(sidecar):
        return "no cache"
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "verification failed: unreadable sidecar"
    if not isinstance(meta, dict):
        return "verification failed: unreadable sidecar"
    if meta.get("identity") != identity:
        return "input changed"
    try:
        digest = _io.file_digest(target)
    except OSError as exc:
        return f"verification failed: unreadable clipped file ({exc.strerror or exc})"
    if meta.get("sha256") != digest:
        return "verification failed: clipped file does not match its recorded SHA-256"
    return None


def _store_sidecar(target: Path, identity: dict[str, Any]) -> None:
    if not target.is_file():
        raise CacheError(f"clipping wrote no file at {target}")
    meta = {"identity": identity, "sha256": _io.file_digest(target),
            "bytes": target.stat().st_size}
    with _io.atomic_open(_sidecar(target), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
