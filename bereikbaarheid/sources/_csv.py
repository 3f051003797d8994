"""Reading small CSV files as typed by hand or exported from Dutch spreadsheets."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError


def read_table(path: Path, expected: str) -> tuple[pd.DataFrame, np.ndarray, bool]:
    """A CSV as a table of stripped strings, with each row's line number.

    The separator is whichever of ``,``, ``;`` and tab the header holds most
    of (Dutch spreadsheets write ``;`` with decimal commas); a BOM is skipped;
    header names are lower-cased; blank lines are skipped. ``expected``
    describes the header for the error when the file is empty.

    Returns
    -------
    table, lines, decimal_comma
        The rows (object columns), the 1-based line number of each row, and
        whether numbers may use a decimal comma (the separator is not ``,``).

    Raises
    ------
    InputError
        Not UTF-8 or not CSV, an empty file, or a row with the wrong number
        of fields (naming its line).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            delimiter = max((",", ";", "\t"), key=f.readline().count)
            f.seek(0)
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            records: list[list[str]] = []
            lines: list[int] = []
            for record in reader:
                if not any(field.strip() for field in record):
                    continue
                records.append([field.strip() for field in record])
                lines.append(reader.line_num)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(path, f"cannot read as a UTF-8 CSV: {exc}") from exc
    if header is None:
        raise InputError(path, f"empty file; expected a CSV header with {expected}")
    columns = [h.strip().lower() for h in header]
    for line, record in zip(lines, records):
        if len(record) != len(columns):
            raise InputError(path, f"line {line}: {len(record)} fields; the header has "
                                   f"{len(columns)}")
    table = pd.DataFrame(records, columns=columns, dtype=object)
    return table, np.asarray(lines, dtype=np.int64), delimiter != ","
