"""The dashboard catalogue: every profile and scenario of an output folder in one DuckDB file.

The catalogue reads only what a profile folder holds (its manifest and table
files), so it takes any profile, old or new: what a folder lacks (areas,
facility coordinates) is simply absent from its rows. Every table leads with
``region`` and ``scenario`` (``'baseline'`` for a plain profile), the key a
profile's rows are replaced by.

An update never touches the catalogue in place: under the lock
``.<name>.lock`` beside it, the catalogue is copied into a temporary folder
beside it, changed there, checkpointed and closed, and then renamed onto the
catalogue. A reader (``duckdb.connect(path,
read_only=True)``) therefore always sees a complete catalogue, a failed or
killed update leaves the previous one as it was, and two updates at once
queue on the lock. A killed update's temporary folder is removed by a later
one (:func:`bereikbaarheid._io.clean_stale`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from . import _io
from .config import CATALOG_NAME
from .errors import InputError
from .profile import to_wgs84
from .sources.scenario import BASELINE

logger = logging.getLogger(__name__)

DEFAULT_NAME = CATALOG_NAME

# The tables filled from a profile folder's files, in the order written; a
# file a folder lacks gives no rows.
PARQUET_TABLES = {"cells": "cells.parquet", "areas": "areas.parquet",
                  "diff_cells": "diff_cells.parquet"}
CSV_TABLES = {"summary": "summary.csv", "capacity": "capacity.csv",
              "facilities": "facilities.csv", "diff_summary": "diff_summary.csv",
              "diff_capacity": "diff_capacity.csv", "diff_facilities": "diff_facilities.csv",
              "closure_impact": "closure_impact.csv"}
TABLES = ("profiles", "cells", "summary", "capacity", "facilities", "areas",
          "diff_summary", "diff_capacity", "diff_facilities", "diff_cells", "closure_impact")
KEY = ("region", "scenario")
_PROFILE_COLUMNS = {"region": "VARCHAR", "scenario": "VARCHAR", "folder": "VARCHAR",
                    "schema_version": "VARCHAR", "version": "VARCHAR",
                    "created_at": "VARCHAR", "baseline_folder": "VARCHAR",
                    "description": "VARCHAR", "manifest": "VARCHAR"}
# CSV columns holding text, even where a profile leaves them empty (every
# other CSV column is a number, stored as DOUBLE).
_TEXT_COLUMNS = frozenset({
    "level", "area_code", "area_name", "code", "name", "type", "mode", "unit",
    "facility_id", "capacity_unit", "capacity_source", "status", "municipality_code",
    "municipality_name", "cell_id", "fca_mode", "next_facility_id", "next_facility_name",
})
_NUMERIC_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                            "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                            "FLOAT", "DOUBLE", "BOOLEAN"})


# A new catalogue is written in the storage format of DuckDB 1.1, the oldest
# this package installs with, so that a dashboard on an older DuckDB than the
# writer's can open it.
_STORAGE = "v1.1.0"


def default_path(output_folder: str | Path) -> Path:
    """The catalogue of an output folder: ``<output_folder>/catalog.duckdb``."""
    return Path(output_folder) / DEFAULT_NAME


def update(catalog_path: str | Path, profile_folders: Sequence[str | Path]) -> None:
    """Add profile folders to the catalogue, replacing earlier rows of the same key.

    A profile's key is its region (``manifest["region"]``) and scenario
    (``manifest["scenario"]["name"]``, or ``'baseline'`` for a plain
    profile). A scenario folder does not bring its baseline along: pass both.
    A missing catalogue is created.

    Parameters
    ----------
    catalog_path
        The catalogue file (by convention ``<output folder>/catalog.duckdb``).
    profile_folders
        Profile or scenario folders, as written by ``run_profile`` or
        ``run_scenario``; when two hold the same key, the one whose folder
        name is ``<region>`` or ``<region>@<scenario>`` is kept (else the
        last), with a warning.

    Raises
    ------
    InputError
        A folder is no profile (no readable ``manifest.json`` naming its
        region) or one of its tables cannot be read, a scenario is named
        ``'baseline'``, or the catalogue exists but is not a catalogue
        written by this package (not a DuckDB file, damaged, or other
        tables); the catalogue is then left as it was.
    OSError
        The catalogue's folder cannot be written; it names the catalogue.
    """
    profiles = _unique(_read_profile(Path(folder)) for folder in profile_folders)
    _write(Path(catalog_path), profiles, fresh=False)


def rebuild(catalog_path: str | Path | None, output_folder: str | Path) -> None:
    """Write the catalogue anew from every profile folder in ``output_folder``.

    Rows of profiles no longer on disk go; everything else is as
    :func:`update` leaves it. Hidden names (starting with ``.``, such as a
    run's temporary folders) and folders without ``manifest.json`` are
    skipped.

    Parameters
    ----------
    catalog_path
        The catalogue file; None for ``<output_folder>/catalog.duckdb``.
    output_folder
        The folder holding the profile folders.

    Raises
    ------
    InputError
        ``output_folder`` is not a folder, or one of its profiles cannot be
        read (see :func:`update`); the catalogue is then left as it was.
    OSError
        The catalogue's folder cannot be written; it names the catalogue.
    """
    output_folder = Path(output_folder)
    if not output_folder.is_dir():
        raise InputError(output_folder, "is not a folder; expected an output folder holding "
                                        "profile folders")
    catalog_path = default_path(output_folder) if catalog_path is None else Path(catalog_path)
    folders = sorted(entry for entry in output_folder.iterdir()
                     if not entry.name.startswith(".") and entry.is_dir()
                     and (entry / "manifest.json").is_file())
    _write(catalog_path, _unique(_read_profile(folder) for folder in folders), fresh=True)


def check(catalog_path: str | Path) -> None:
    """Raise :class:`InputError` when a file stands at ``catalog_path`` that
    an update could not take (not a catalogue, damaged); nothing there is
    fine. A run calls it before its long work, so a bad catalogue stops it
    before the profile is computed rather than after it is written."""
    catalog_path = Path(catalog_path)
    if catalog_path.is_dir():
        raise InputError(catalog_path, f"is a folder; {_not_a_catalogue(catalog_path)}")
    if not catalog_path.exists():
        return
    try:
        con = duckdb.connect(str(catalog_path), read_only=True)
    except duckdb.Error as exc:
        reason = _reason(exc, catalog_path, catalog_path)
        raise InputError(catalog_path, f"cannot be opened ({reason}); "
                                       f"{_not_a_catalogue(catalog_path)}") from None
    try:
        tables = {row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()}
    finally:
        con.close()
    if tables and "profiles" not in tables:
        raise InputError(catalog_path, f"holds other tables ({', '.join(sorted(tables))}); "
                                       f"{_not_a_catalogue(catalog_path)}")


def _read_profile(folder: Path) -> dict[str, Any]:
    """The key and ``profiles`` row of a profile folder, from its manifest."""
    path = folder / "manifest.json"
    expected = "expected a profile folder written by bereikbaarheid"
    if not folder.is_dir():
        raise InputError(folder, f"{'is a file' if folder.exists() else 'not found'}; {expected}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(folder, f"has no manifest.json; {expected}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}; "
                               f"{expected}") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON ({exc}); {expected}") from None
    region = manifest.get("region") if isinstance(manifest, dict) else None
    if not isinstance(region, str) or not region:
        raise InputError(path, f"no region named (key 'region'); {expected}")
    scenario = manifest.get("scenario")
    if scenario is None:
        name, baseline, description = BASELINE, None, None
    else:
        name = scenario.get("name") if isinstance(scenario, dict) else None
        if not isinstance(name, str) or not name:
            raise InputError(path, f"no scenario name (key scenario.name); {expected}")
        if name == BASELINE:
            raise InputError(path, f"the scenario is named {BASELINE!r}, the name the catalogue "
                                   "gives a plain profile; expected another name (rename it in "
                                   "the scenario file and run the scenario again)")
        baseline, description = scenario.get("baseline"), scenario.get("description")
    return {
        "region": region, "scenario": name, "folder": str(folder.resolve()),
        "schema_version": _text(manifest.get("schema_version")),
        "version": _text(manifest.get("version")), "created_at": _text(manifest.get("created_at")),
        "baseline_folder": _text(baseline), "description": _text(description),
        "manifest": text,
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _unique(profiles: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One profile per key: of folders sharing one, the one named after it (else the last)."""
    kept: dict[tuple[str, str], dict[str, Any]] = {}
    for profile in profiles:
        key = (profile["region"], profile["scenario"])
        earlier = kept.get(key)
        if earlier is not None:
            keep = profile if _canonical(profile) or not _canonical(earlier) else earlier
            drop = earlier if keep is profile else profile
            logger.warning(f"{earlier['folder']} and {profile['folder']} both hold "
                           f"{key[0]}/{key[1]}; the catalogue keeps {keep['folder']} "
                           f"and skips {drop['folder']}")
            profile = keep
        kept[key] = profile
    return list(kept.values())


def _canonical(profile: dict[str, Any]) -> bool:
    """Whether the profile's folder has the name a run gives it."""
    name = profile["region"]
    if profile["scenario"] != BASELINE:
        name += f"@{profile['scenario']}"
    return Path(profile["folder"]).name == name


def _write(catalog_path: Path, profiles: list[dict[str, Any]], fresh: bool) -> None:
    """Write ``profiles`` into a copy of the catalogue (or a new one when
    ``fresh``) and swap it in."""
    folder = catalog_path.parent
    lock = catalog_path.with_name(f".{catalog_path.name}.lock")
    with _io.naming(catalog_path, folder / _io.temp_prefix(catalog_path.name), lock):
        _io.make_dirs(folder)
        with _io.locked(lock):
            _io.clean_stale(folder)
            if catalog_path.is_dir():
                raise InputError(catalog_path, f"is a folder; {_not_a_catalogue(catalog_path)}")
            # A folder, not a file: DuckDB may put a write-ahead log beside
            # the database, and a killed update's leftovers go in one piece.
            work_folder = _io.temp_beside(catalog_path, directory=True)
            try:
                work = work_folder / catalog_path.name
                if not fresh and catalog_path.exists():
                    shutil.copyfile(catalog_path, work)
                _fill(work, catalog_path, profiles)
                _fsync(work)
                os.replace(work, catalog_path)
                _fsync(folder)
            finally:
                with contextlib.suppress(OSError):
                    _io.remove(work_folder)


def _fill(work: Path, catalog_path: Path, profiles: list[dict[str, Any]]) -> None:
    """Replace the profiles' rows in the database ``work`` (a copy of ``catalog_path``)."""
    try:
        con = duckdb.connect(str(work), config={"storage_compatibility_version": _STORAGE})
    except duckdb.Error as exc:
        raise InputError(catalog_path, f"cannot be opened ({_reason(exc, work, catalog_path)}); "
                                       f"{_not_a_catalogue(catalog_path)}") from None
    try:
        con.execute("SET enable_progress_bar = false")  # a library does not print
        # GeoParquet geometry as the WKB bytes of the file, not DuckDB's GEOMETRY type.
        with contextlib.suppress(duckdb.Error):
            con.execute("SET enable_geoparquet_conversion = false")
        _clear(con, work, catalog_path, profiles)
        con.begin()
        for profile in profiles:
            _insert(con, profile)
            logger.info(f"catalogue {catalog_path}: added {profile['region']}/"
                        f"{profile['scenario']}")
        con.commit()
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = work.with_name(work.name + ".wal")
    if wal.exists():  # everything must be in the one file that is renamed
        raise RuntimeError(f"DuckDB left a write-ahead log {wal} after a checkpoint")


def _clear(con: duckdb.DuckDBPyConnection, work: Path, catalog_path: Path,
           profiles: list[dict[str, Any]]) -> None:
    """Create the tables a new catalogue lacks and delete the profiles' earlier rows.

    The deletion is checkpointed on its own, so that the new rows reuse the
    space of the old: deleted and inserted in one go, the file would grow by
    a profile's size at every update.
    """
    try:
        tables = {row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()}
        if tables and "profiles" not in tables:
            raise InputError(catalog_path, f"holds other tables ({', '.join(sorted(tables))}); "
                                           f"{_not_a_catalogue(catalog_path)}")
        for table in TABLES:
            if table not in tables:
                columns = _PROFILE_COLUMNS if table == "profiles" else dict.fromkeys(KEY,
                                                                                     "VARCHAR")
                con.execute(f"CREATE TABLE {table} ("
                            + ", ".join(f"{_quote(c)} {t}" for c, t in columns.items()) + ")")
        for profile in profiles:
            for table in TABLES:
                con.execute(f"DELETE FROM {table} WHERE region = ? AND scenario = ?",
                            [profile["region"], profile["scenario"]])
        con.execute("CHECKPOINT")
    except (duckdb.IOException, duckdb.SerializationException, duckdb.CatalogException,
            duckdb.BinderException) as exc:
        # A damaged file, or tables of that name but not of a catalogue.
        raise InputError(catalog_path, f"cannot be read ({_reason(exc, work, catalog_path)}); "
                                       f"{_not_a_catalogue(catalog_path)}") from None


def _not_a_catalogue(path: Path) -> str:
    """What a file in the catalogue's place should be, and how to replace it."""
    return ("expected a DuckDB catalogue written by bereikbaarheid; remove it, or write it anew "
            f"from the profiles with `bereikbaarheid catalog OUTPUT_FOLDER --catalog {path}`")


def _reason(exc: Exception, work: Path, catalog_path: Path) -> str:
    """DuckDB's first line about the working copy, naming the catalogue instead."""
    text = str(exc).strip().replace(str(work), str(catalog_path))
    return text.splitlines()[0] if text else type(exc).__name__


def _insert(con: duckdb.DuckDBPyConnection, profile: dict[str, Any]) -> None:
    """Insert a profile's rows into every table."""
    key = [profile["region"], profile["scenario"]]
    con.execute(f"INSERT INTO profiles ({', '.join(_PROFILE_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(_PROFILE_COLUMNS))})",
                [profile[c] for c in _PROFILE_COLUMNS])
    folder = Path(profile["folder"])
    for tables, insert in ((PARQUET_TABLES, _insert_parquet), (CSV_TABLES, _insert_csv)):
        for table, name in tables.items():
            path = folder / name
            if not path.is_file():
                continue
            try:
                insert(con, table, path, key)
            except (duckdb.IOException, duckdb.InvalidInputException, pa.ArrowException,
                    pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
                raise InputError(path, f"cannot be read ({reason}); expected the {name} of a "
                                       "profile written by bereikbaarheid") from None


def _insert_parquet(con: duckdb.DuckDBPyConnection, table: str, path: Path,
                    key: list[str]) -> None:
    """Insert a (Geo)Parquet table, geometry as WKB, with WGS84 ``lon``/``lat``:
    as the file has them (areas), else of the cell centroid ``x``/``y``
    (cells), else of the geometry's centroid (diff_cells)."""
    source = con.read_parquet(str(path))
    columns = dict(zip(source.columns, (str(t) for t in source.types)))
    derive = None
    if "lon" not in columns and "lat" not in columns:
        if "x" in columns and "y" in columns:
            derive = "xy"
        elif "geometry" in columns:
            derive = "geometry"
        columns.update(lon="DOUBLE", lat="DOUBLE")
    _ensure_columns(con, table, columns)
    con.execute(f"INSERT INTO {table} BY NAME SELECT ? AS region, ? AS scenario, * "
                f"FROM read_parquet({_literal(path)})", key)
    if derive is None:
        return
    # Computed from the rows just inserted and set by row id: a join of the
    # file with the coordinates while inserting would be slower (at 888,000
    # cells 6.5 s against 4.2 s) and would have to keep the rows in order.
    rows = con.execute(f"SELECT rowid, {'x, y' if derive == 'xy' else 'geometry'} FROM {table} "
                       "WHERE region = ? AND scenario = ?", key).df()
    if derive == "xy":
        lon, lat = to_wgs84(rows["x"].to_numpy(float), rows["y"].to_numpy(float))
    else:
        lon, lat = _centroids_wgs84(rows["geometry"])
    con.register("_lonlat", pa.table({"row": rows["rowid"].to_numpy(), "lon": lon, "lat": lat}))
    try:
        con.execute(f"UPDATE {table} SET lon = l.lon, lat = l.lat FROM _lonlat l "
                    f"WHERE {table}.rowid = l.row")
    finally:
        con.unregister("_lonlat")


def _insert_csv(con: duckdb.DuckDBPyConnection, table: str, path: Path, key: list[str]) -> None:
    """Insert a CSV table: text columns as VARCHAR, every other as DOUBLE
    (so a column empty in one profile does not change type); facilities get
    ``lon``/``lat`` from ``x``/``y`` when the file lacks them (NULL when it
    has neither)."""
    header = pd.read_csv(path, nrows=0).columns
    frame = pd.read_csv(path, dtype={c: str for c in header if c in _TEXT_COLUMNS})
    if table == "facilities" and not {"lon", "lat"} <= set(frame.columns):
        if {"x", "y"} <= set(frame.columns):
            frame["lon"], frame["lat"] = to_wgs84(pd.to_numeric(frame["x"]).to_numpy(float),
                                                   pd.to_numeric(frame["y"]).to_numpy(float))
        else:
            frame["lon"] = frame["lat"] = np.nan
    fields = []
    for column in frame.columns:
        text = column in _TEXT_COLUMNS or not (pd.api.types.is_numeric_dtype(frame[column])
                                               or frame[column].isna().all())
        fields.append(pa.field(column, pa.string() if text else pa.float64()))
    if any(f.type == pa.float64() for f in fields):
        frame = frame.astype({f.name: float for f in fields if f.type == pa.float64()})
    rows = pa.Table.from_pandas(frame, schema=pa.schema(fields), preserve_index=False)
    _ensure_columns(con, table, {f.name: "VARCHAR" if f.type == pa.string() else "DOUBLE"
                                 for f in fields})
    con.register("_rows", rows)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT ? AS region, ? AS scenario, * "
                    f"FROM _rows", key)
    finally:
        con.unregister("_rows")


def _ensure_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    """Add the columns ``table`` lacks; widen one whose type differs from the
    new rows' (numbers to DOUBLE, anything else to VARCHAR)."""
    existing = dict(con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND table_name = ?", [table]).fetchall())
    for column, kind in columns.items():
        if column in KEY:
            continue
        if kind in ("NULL", '"NULL"'):  # a column of nothing but nulls
            kind = "VARCHAR" if column in _TEXT_COLUMNS else "DOUBLE"
        have = existing.get(column)
        if have is None:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {_quote(column)} {kind}")
        elif have != kind:
            wider = ("DOUBLE" if have in _NUMERIC_TYPES and kind in _NUMERIC_TYPES
                     else "VARCHAR")
            if wider != have:
                con.execute(f"ALTER TABLE {table} ALTER COLUMN {_quote(column)} TYPE {wider}")


def _centroids_wgs84(wkb: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 of the centroids of WKB geometries in EPSG:28992 (None: NaN)."""
    import shapely

    geometries = shapely.from_wkb([None if g is None else bytes(g) for g in wkb])
    points = shapely.centroid(geometries)
    return to_wgs84(shapely.get_x(points), shapely.get_y(points))


def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk; best effort where not supported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
