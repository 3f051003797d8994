"""Writing a profile folder atomically: cells and areas GeoParquet, summary CSV/JSON,
municipality GeoJSON, manifest."""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _io, columns

logger = logging.getLogger(__name__)

# Bump the major version when a column is renamed or removed or its meaning
# changes; the minor version when columns are added. Documented in
# profiles/README.md.
SCHEMA_VERSION = "2.0.0"

FILES = {
    "cells": "cells.parquet",
    "summary_csv": "summary.csv",
    "summary_json": "summary.json",
    "manifest": "manifest.json",
    "gtfs_issues": "gtfs_issues.csv",
    "facilities": "facilities.csv",
    "capacity": "capacity.csv",
    "border": "border.csv",
    "cbs_comparison": "cbs_comparison.csv",
    "areas": "areas.parquet",
    "municipalities": "municipalities.geojson",
}
# The GTFS validation report: one row per problem found in a feed.
GTFS_ISSUE_COLUMNS = ("feed", "file", "row", "field", "severity", "message")
# Coordinates of municipalities.geojson: 6 decimals of a degree, about 0.1 m.
GEOJSON_DECIMALS = 6


def write_profile(
    folder: str | Path,
    cells: gpd.GeoDataFrame,
    summary: pd.DataFrame,
    manifest: dict[str, Any],
    gtfs_issues: pd.DataFrame | None = None,
    facilities: pd.DataFrame | None = None,
    capacity: pd.DataFrame | None = None,
    extra: dict[str, pd.DataFrame] | None = None,
    areas: gpd.GeoDataFrame | None = None,
    grid_columns: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Write a complete profile folder, replacing any earlier one in one step.

    Everything is written to a temporary sibling folder first, which then
    takes the place of ``folder``; a failure leaves the earlier profile (or
    nothing) in place, never a mix, and no temporary folder. Folders and
    files get the permissions ``mkdir`` and ``open`` give (0777 and 0666
    less the umask). Leftovers of an interrupted earlier write are put in
    order first (:func:`recover`).

    ``gtfs_issues.csv`` (the GTFS validation report) is written when
    ``gtfs_issues`` is given, that is when public transport ran;
    ``facilities.csv`` (per facility: capacity, demand, gap) and
    ``capacity.csv`` (per area and type: demand, capacity, gap) when given.
    ``extra`` maps file names to further tables (a scenario's differences):
    ``.parquet`` names are written as (Geo)Parquet, others as CSV.
    ``areas`` (one row per area, the region first, with its polygon) is
    written as ``areas.parquet`` and, its municipality rows in WGS84, as
    ``municipalities.geojson``.

    The manifest gets ``files`` (the names written), ``sha256`` (the digest
    of every other file, of the bytes written) and, when ``grid_columns``
    (the columns ``cells`` copied from the CBS grid) is given, ``columns``:
    the column dictionary (:mod:`bereikbaarheid.columns`) of every table
    written.

    Returns
    -------
    dict
        The final path of each file written, by the keys of ``FILES``.

    Raises
    ------
    OSError
        The folder cannot be written (read-only, disk full, a file in the
        way); ``filename`` names ``folder`` or the file in its way.
    KeyError
        With ``grid_columns``: a column the dictionary does not describe
        (a bug: every column written must be documented).
    """
    folder = Path(folder)
    # The temporary folder and the old profile set aside both start so.
    with _io.naming(folder, folder.with_name(f".{folder.name}.")):
        _io.make_dirs(folder.parent)
        # Under the lock of the swaps: a run swapping its profile in at this
        # moment moves the folder aside for an instant.
        with _io.locked(folder.parent):
            if os.path.lexists(folder) and not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
        recover(folder)
        tmp = _io.temp_beside(folder, directory=True)
        try:
            written = _write_files(tmp, cells, summary, manifest, gtfs_issues, facilities,
                                   capacity, extra, areas, grid_columns)
            # Locking the profiles folder (not a file in it, which a reader
            # of that folder would see) orders the swaps and recover().
            with _io.locked(folder.parent):
                _replace_dir(tmp, folder)
        finally:
            # Gone after the swap; should removing fail, recover() of a later
            # run removes it.
            shutil.rmtree(tmp, ignore_errors=True)
    return {key: folder / name for key, name in written.items()}


def _write_files(folder: Path, cells: gpd.GeoDataFrame, summary: pd.DataFrame,
                 manifest: dict[str, Any], gtfs_issues: pd.DataFrame | None,
                 facilities: pd.DataFrame | None, capacity: pd.DataFrame | None,
                 extra: dict[str, pd.DataFrame] | None, areas: gpd.GeoDataFrame | None,
                 grid_columns: Sequence[str] | None) -> dict[str, str]:
    """Write the files of a profile into ``folder``; their names by key."""
    optional = {"gtfs_issues": gtfs_issues, "facilities": facilities, "capacity": capacity,
                "areas": areas, "municipalities": areas,
                # Written as ``extra`` tables when the run has them.
                "border": None, "cbs_comparison": None}
    written = {k: v for k, v in FILES.items() if optional.get(k, summary) is not None}
    # The columns of each table file, as written.
    tables: dict[str, list[str]] = {FILES["cells"]: list(cells.columns),
                                    FILES["summary_csv"]: list(summary.columns),
                                    FILES["summary_json"]: list(summary.columns)}
    cells.to_parquet(folder / FILES["cells"], index=False, compression="zstd")
    summary.to_csv(folder / FILES["summary_csv"], index=False, lineterminator="\n")
    records = summary.to_dict(orient="records")
    _write_json(folder / FILES["summary_json"], {
        "schema_version": SCHEMA_VERSION,
        "region": manifest.get("region"),
        "rows": records,
    })
    if gtfs_issues is not None:
        issues = gtfs_issues.loc[:, list(GTFS_ISSUE_COLUMNS)].copy()
        issues["row"] = pd.array(issues["row"], dtype="Int64")
        issues.to_csv(
            folder / FILES["gtfs_issues"], index=False, lineterminator="\n")
        tables[FILES["gtfs_issues"]] = list(issues.columns)
    for key in ("facilities", "capacity"):
        if optional[key] is not None:
            optional[key].to_csv(folder / FILES[key], index=False, lineterminator="\n")
            tables[FILES[key]] = list(optional[key].columns)
    for name, table in (extra or {}).items():
        if name.endswith(".parquet"):
            table.to_parquet(folder / name, index=False, compression="zstd")
        else:
            table.to_csv(folder / name, index=False, lineterminator="\n")
        written[name.rsplit(".", 1)[0]] = name
        tables[name] = list(table.columns)
    if areas is not None:
        areas.to_parquet(folder / FILES["areas"], index=False, compression="zstd")
        municipalities = areas[areas["level"] == "municipality"]
        _write_geojson(folder / FILES["municipalities"], municipalities)
        tables[FILES["areas"]] = list(areas.columns)
        tables[FILES["municipalities"]] = list(municipalities.columns)
    out = {**manifest, "files": written}
    if grid_columns is not None:
        out["columns"] = [entry for name, names in tables.items()
                          for entry in columns.describe(name, names, grid_columns)]
    # Digests of the bytes as written, every file but the manifest itself.
    out["sha256"] = {name: _io.file_digest(folder / name)
                     for name in sorted(os.listdir(folder)) if name != FILES["manifest"]}
    _write_json(folder / FILES["manifest"], out)
    return written


def _write_geojson(path: Path, areas: gpd.GeoDataFrame) -> None:
    """Write ``areas`` as RFC 7946 GeoJSON: WGS84, coordinates to
    ``GEOJSON_DECIMALS`` decimals, exterior rings counter-clockwise, one
    feature a line; the same table gives the same bytes."""
    wgs84 = areas.to_crs("EPSG:4326")
    grid = 10.0 ** -GEOJSON_DECIMALS
    # Snapping to the grid keeps polygons valid where plain rounding might not.
    shapes = shapely.orient_polygons(shapely.set_precision(wgs84.geometry.to_numpy(), grid))
    properties = pd.DataFrame(wgs84.drop(columns=wgs84.geometry.name))
    lines = []
    for record, shape in zip(properties.to_dict(orient="records"), shapes):
        feature = {"type": "Feature", "properties": _jsonable(record),
                   "geometry": _rounded_geometry(shapely.geometry.mapping(shape))}
        lines.append(json.dumps(feature, ensure_ascii=False, allow_nan=False,
                                separators=(",", ":")))
    text = ('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _rounded_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON geometry mapping with its coordinates as nested lists of
    numbers rounded to ``GEOJSON_DECIMALS``."""

    def rounded(coords: Any) -> Any:
        if isinstance(coords[0], (int, float)):
            return [round(float(c), GEOJSON_DECIMALS) for c in coords]
        return [rounded(c) for c in coords]

    return {"type": geometry["type"], "coordinates": rounded(geometry["coordinates"])}


def recover(folder: str | Path) -> None:
    """Put the profile folder ``folder`` back in order after a run that was
    killed while writing it; call at the start of a run.

    A profile is swapped in by two renames: the old folder aside (as
    ``.<name>.old-<pid>-<host>``), the new one in. A run killed between them
    leaves ``folder`` missing: the old profile is put back. A run killed
    after them leaves the old copy: it is removed. Temporary folders of
    killed runs beside ``folder`` are removed too (:func:`_io.clean_stale`).
    Only leftovers of processes that have ended, on this host, are touched,
    and the swap of a running writer is waited for, so a run writing the
    same profile at this moment is not disturbed.
    """
    folder = Path(folder)
    _io.clean_stale(folder.parent)
    if not _leftovers(folder):
        return
    with _io.naming(folder, folder.with_name(f".{folder.name}.")), _io.locked(folder.parent):
        olds = _leftovers(folder)
        if olds and not os.path.lexists(folder):
            newest = olds.pop(0)
            os.replace(newest, folder)
            logger.warning(f"restored the profile {folder}, which an interrupted run had "
                           f"moved aside as {newest.name}")
        # Old copies go only once a profile stands in their place.
        for old in olds if folder.is_dir() else ():
            try:
                shutil.rmtree(old)
            except OSError as exc:
                logger.warning(f"could not remove {old}, the previous profile that an "
                               f"interrupted run left: {exc.strerror or exc}")
            else:
                logger.info(f"removed {old}, the previous profile that an interrupted run left")


def _leftovers(folder: Path) -> list[Path]:
    """Old copies of ``folder`` set aside by processes that have ended, the
    most recently written first. Names of earlier versions carry no host:
    taken as this host's."""
    pattern = re.compile(rf"^\.{re.escape(folder.name)}\.old-(\d+)(?:-([0-9a-f]{{8}}))?$")
    try:
        names = os.listdir(folder.parent)
    except OSError:
        return []
    olds = [folder.parent / name for name in names
            if (m := pattern.match(name)) and _io.owner_gone(int(m[1]), m[2])]
    return sorted(olds, key=lambda p: (_written(p), p.name), reverse=True)


def _written(profile: Path) -> float:
    """When a profile folder was written: its manifest's time."""
    try:
        return (profile / FILES["manifest"]).stat().st_mtime
    except OSError:
        return 0.0


def _replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` where ``target`` is, keeping the old one until the swap
    (:func:`recover` finishes a swap that a killed run left half done)."""
    old = None
    if os.path.lexists(target):
        old = target.with_name(f".{target.name}.old-{_io.owner_tag()}")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            try:
                os.replace(old, target)
            except OSError as exc:
                logger.warning(f"could not put the previous profile back from {old} "
                               f"({exc.strerror}); the next run restores it")
        raise
    if old is not None:
        try:
            shutil.rmtree(old)
        except OSError as exc:
            logger.warning(f"could not remove the previous profile {old} ({exc.strerror}); "
                           "the next run removes it")


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(_jsonable(data), f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")


def _jsonable(value: Any) -> Any:
    """NaN/NA become null; numpy scalars, arrays and paths plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, Path):
        return str(value)
    return value
