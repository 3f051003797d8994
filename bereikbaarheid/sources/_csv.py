"""Reading small CSV files as typed by hand or exported from Dutch spreadsheets."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

logger = logging.getLogger(__name__)


def read_table(path: Path, expected: str) -> tuple[pd.DataFrame, np.ndarray, bool]:
    """A CSV as a table of stripped strings, with each row's line number.

    The separator is whichever of ``,``, ``;`` and tab the header holds most
    of (Dutch spreadsheets write ``;`` with decimal commas); a BOM is skipped;
    text that is not UTF-8 is read as Windows-1252, with a warning (also in
    ``table.attrs["warnings"]``); header names are lower-cased; blank lines
    are skipped. ``expected``
    describes the header for the error when the file is empty.

    Returns
    -------
    table, lines, decimal_comma
        The rows (object columns), the 1-based line number of each row, and
        whether numbers may use a decimal comma (the separator is not ``,``).

    Raises
    ------
    InputError
        Unreadable (permissions), not CSV, an empty file, or a row with the
        wrong number of fields (naming its line).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    text, notice = decode(path, raw)
    try:
        stream = io.StringIO(text, newline="")
        delimiter = max((",", ";", "\t"), key=stream.readline().count)
        stream.seek(0)
        reader = csv.reader(stream, delimiter=delimiter)
        header = next(reader, None)
        records: list[list[str]] = []
        lines: list[int] = []
        for record in reader:
            if not any(field.strip() for field in record):
                continue
            records.append([field.strip() for field in record])
            lines.append(reader.line_num)
    except csv.Error as exc:
        line = reader.line_num if "reader" in locals() else 1
        raise InputError(path, f"line {line}: cannot read as CSV: {exc}") from exc
    if header is None:
        raise InputError(path, f"empty file; expected a CSV header with {expected}")
    columns = [h.strip().lower() for h in header]
    for line, record in zip(lines, records):
        if len(record) != len(columns):
            raise InputError(path, f"line {line}: {len(record)} fields; the header has "
                                   f"{len(columns)}")
    table = pd.DataFrame(records, columns=columns, dtype=object)
    table.attrs["warnings"] = [notice] if notice else []
    return table, np.asarray(lines, dtype=np.int64), delimiter != ","


# Windows-1252, with Latin-1 for the five bytes it leaves undefined: what
# Dutch spreadsheets and Windows tools write when they do not write UTF-8.
WINDOWS_1252 = tuple(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256))


def windows_1252(data: bytes) -> str:
    """``data`` decoded as Windows-1252 (its undefined bytes as Latin-1)."""
    return "".join(WINDOWS_1252[b] for b in data)


def decode(path: Path, raw: bytes) -> tuple[str, str | None]:
    """The text of a file: UTF-8 (a BOM skipped) or, failing that, Windows-1252.

    Returns the text and, for the fallback, a warning naming the first line
    that is not UTF-8 (also logged).
    """
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
    notice = (f"{path}: line {line} is not UTF-8; the file is read as Windows-1252 "
              "(save it as UTF-8 to be sure of its accents)")
    logger.warning(notice)
    return windows_1252(raw), notice
