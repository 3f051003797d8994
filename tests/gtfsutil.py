"""Hand-made GTFS feeds for tests, written as a zip or a folder of .txt files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd


def table_text(rows) -> str:
    """CSV text of a table given as a list of dicts (columns in first-seen order) or a DataFrame."""
    if isinstance(rows, pd.DataFrame):
        frame = rows
    else:
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        # object dtype keeps ints as ints ("1", not "1.0") next to missing cells
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return frame.astype(object).fillna("").astype(str).to_csv(index=False)


def write_feed(path, tables: dict, as_zip: bool = True) -> Path:
    """Write a GTFS feed: ``tables`` maps file name (``"stops"`` or ``"stops.txt"``) to rows.

    Rows are a list of dicts or a DataFrame; a str value is written as the
    file's raw text (for malformed files). ``path`` is the zip file or the
    folder to create; returns it.
    """
    path = Path(path)
    texts = {}
    for name, rows in tables.items():
        file = name if name.endswith(".txt") else f"{name}.txt"
        texts[file] = rows if isinstance(rows, str) else table_text(rows)
    if as_zip:
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            for file, text in texts.items():
                archive.writestr(file, text)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for file, text in texts.items():
            (path / file).write_text(text, encoding="utf-8")
    return path


def every_day(service_id: str = "all", start: str = "20260101", end: str = "20261231") -> dict:
    """A calendar.txt row for a service running every day of ``start`` .. ``end``."""
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return {"service_id": service_id, **{d: 1 for d in days}, "start_date": start, "end_date": end}


def stop_times(trip_id: str, stops_and_times) -> list[dict]:
    """stop_times rows for one trip from ``(stop_id, arrival, departure)`` triples."""
    return [
        {"trip_id": trip_id, "arrival_time": arr, "departure_time": dep, "stop_id": stop,
         "stop_sequence": k + 1}
        for k, (stop, arr, dep) in enumerate(stops_and_times)
    ]
