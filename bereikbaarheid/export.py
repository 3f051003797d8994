"""Writing a profile folder atomically: cells GeoParquet, summary CSV/JSON, manifest."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

# Bump the major version when a column is renamed or removed or its meaning
# changes; the minor version when columns are added. Documented in
# profiles/README.md.
SCHEMA_VERSION = "1.4.0"

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
}
# The GTFS validation report: one row per problem found in a feed.
GTFS_ISSUE_COLUMNS = ("feed", "file", "row", "field", "severity", "message")


def write_profile(
    folder: str | Path,
    cells: gpd.GeoDataFrame,
    summary: pd.DataFrame,
    manifest: dict[str, Any],
    gtfs_issues: pd.DataFrame | None = None,
    facilities: pd.DataFrame | None = None,
    capacity: pd.DataFrame | None = None,
    extra: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """Write a complete profile folder, replacing any earlier one in one step.

    Everything is written to a temporary sibling folder first, which then
    takes the place of ``folder``; a failure leaves the earlier profile (or
    nothing) in place, never a mix.

    ``gtfs_issues.csv`` (the GTFS validation report) is written when
    ``gtfs_issues`` is given, that is when public transport ran;
    ``facilities.csv`` (per facility: capacity, demand, gap) and
    ``capacity.csv`` (per area and type: demand, capacity, gap) when given.
    ``extra`` maps file names to further tables (a scenario's differences):
    ``.parquet`` names are written as (Geo)Parquet, others as CSV.

    Returns
    -------
    dict
        The final path of each file written, by the keys of ``FILES``.
    """
    optional = {"gtfs_issues": gtfs_issues, "facilities": facilities, "capacity": capacity,
                # Written as ``extra`` tables when the run has them.
                "border": None, "cbs_comparison": None}
    written = {k: v for k, v in FILES.items() if optional.get(k, summary) is not None}
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        cells.to_parquet(tmp / FILES["cells"], index=False, compression="zstd")
        summary.to_csv(tmp / FILES["summary_csv"], index=False, lineterminator="\n")
        records = summary.to_dict(orient="records")
        _write_json(tmp / FILES["summary_json"], {
            "schema_version": SCHEMA_VERSION,
            "region": manifest.get("region"),
            "rows": records,
        })
        if gtfs_issues is not None:
            issues = gtfs_issues.loc[:, list(GTFS_ISSUE_COLUMNS)].copy()
            issues["row"] = pd.array(issues["row"], dtype="Int64")
            issues.to_csv(
                tmp / FILES["gtfs_issues"], index=False, lineterminator="\n")
        for key in ("facilities", "capacity"):
            if optional[key] is not None:
                optional[key].to_csv(tmp / FILES[key], index=False, lineterminator="\n")
        for name, table in (extra or {}).items():
            if name.endswith(".parquet"):
                table.to_parquet(tmp / name, index=False, compression="zstd")
            else:
                table.to_csv(tmp / name, index=False, lineterminator="\n")
            written[name.rsplit(".", 1)[0]] = name
        _write_json(tmp / FILES["manifest"], {**manifest, "files": written})
        _replace_dir(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return {key: folder / name for key, name in written.items()}


def _replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` where ``target`` is, keeping the old one until the swap."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old)


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
