"""GTFS text files read robustly: zips or folders, decoding, field counts, issues by line."""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import logging
import re
import threading
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .. import _progress
from ..errors import GtfsError, InputError
from . import _csv

# The GTFS reader's logger (``sources.gtfs``), whichever module logs: callers
# tune that one (``gtfs-check`` silences it, its report listing every warning).
logger = logging.getLogger(f"{__package__}.gtfs")

# Columns read from each file (others are skipped while parsing, which keeps a
# national stop_times.txt small in memory); the required ones must be present.
COLUMNS: dict[str, tuple[str, ...]] = {
    "stops": ("stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
              "parent_station"),
    "routes": ("route_id", "route_short_name", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
                   "pickup_type", "drop_off_type", "shape_dist_traveled"),
    "calendar": ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                 "saturday", "sunday", "start_date", "end_date"),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs", "exact_times"),
    "transfers": ("from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time",
                  "from_route_id", "to_route_id", "from_trip_id", "to_trip_id"),
    "feed_info": ("feed_start_date", "feed_end_date"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "stops": ("stop_id", "stop_lat", "stop_lon"),
    "routes": ("route_id", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar": COLUMNS["calendar"],
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers": ("from_stop_id", "to_stop_id"),
    "feed_info": (),
}
REQUIRED_FILES: tuple[str, ...] = ("stops", "routes", "trips", "stop_times")
WEEKDAYS: tuple[str, ...] = COLUMNS["calendar"][1:8]

# A check failing on many rows reports this many individually, then one count.
MAX_ROWS_REPORTED = 20


@dataclass(frozen=True)
class GtfsIssue:
    """One problem found in a feed.

    ``row`` is the 1-based line number in the file (the header is line 1, so
    the first data row is 2); None when the issue is not about one row.
    """

    feed: str
    file: str
    row: int | None
    field: str
    severity: str  # "fatal" | "warning"
    message: str

    def __str__(self) -> str:
        row = "" if self.row is None else f" row {self.row}"
        fld = f" field {self.field}" if self.field else ""
        return f"{self.file}{row}{fld}: {self.message}"


@dataclass
class ValidationReport:
    """Every issue found in the feeds, fatal ones and warnings."""

    issues: list[GtfsIssue] = field(default_factory=list)

    @property
    def fatal(self) -> list[GtfsIssue]:
        """Issues that make routing meaningless."""
        return [i for i in self.issues if i.severity == "fatal"]

    @property
    def warnings(self) -> list[GtfsIssue]:
        """Issues worth knowing that do not stop a run."""
        return [i for i in self.issues if i.severity == "warning"]

    def to_frame(self) -> pd.DataFrame:
        """The issues as a table: feed, file, row, field, severity, message."""
        columns = ["feed", "file", "row", "field", "severity", "message"]
        frame = pd.DataFrame([[getattr(i, c) for c in columns] for i in self.issues],
                             columns=columns)
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def summary(self) -> str:
        """One line: the number of fatal issues and warnings."""
        fatal, warnings = len(self.fatal), len(self.warnings)
        if not fatal and not warnings:
            return "GTFS feed valid: no issues"
        return f"GTFS: {fatal} fatal issue(s), {warnings} warning(s)"

    def _add(self, feed: str, file: str, row: int | None, field_: str, severity: str,
             message: str) -> None:
        self.issues.append(GtfsIssue(feed, file, row, field_, severity, message))


# --------------------------------------------------------------------------
# Reading files


def _feed_sources(paths) -> list[tuple[str, Path]]:
    """(name, path) per feed; names are the file stems, made unique."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[tuple[str, Path]] = []
    seen: dict[str, int] = {}
    for p in paths:
        path = Path(p)
        name = path.stem if path.suffix.lower() == ".zip" else path.name
        if name in seen:
            seen[name] += 1
            name = f"{name}-{seen[name]}"
        else:
            seen[name] = 1
        out.append((name, path))
    if not out:
        raise InputError(None, "no GTFS feed given; expected a zip or a folder of .txt files")
    return out


class _Source:
    """The .txt files of a zip or a folder, each as a :class:`TextFile`."""

    def __init__(self, path: Path, feed: str):
        self.path = path
        self.feed = feed
        self._zip = None
        if path.is_file():
            self._zip = zipfile.ZipFile(path)
            members = [i.filename for i in self._zip.infolist() if not i.is_dir()]
        else:
            members = [p.name for p in path.iterdir() if p.is_file()]
        self._members: dict[str, str] = {}
        # Some zips nest the files in a folder: take the shallowest match.
        for member in sorted(members, key=lambda m: m.count("/"), reverse=True):
            base = member.rsplit("/", 1)[-1]
            if base.endswith(".txt"):
                self._members[base[:-4]] = member

    def __bool__(self) -> bool:
        return bool(self._members)

    def has(self, name: str) -> bool:
        return name in self._members

    def text(self, name: str) -> TextFile:
        member = self._members[name]
        if self._zip is not None:
            opener = functools.partial(self._zip.open, member)
            size = self._zip.getinfo(member).file_size
        else:
            opener = functools.partial(open, self.path / member, "rb")
            size = (self.path / member).stat().st_size
        return TextFile(opener, self.feed, f"{name}.txt", self.path, size=size)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_tables(source: _Source, feed: str,
                 report: ValidationReport) -> dict[str, pd.DataFrame | None]:
    """Every file of ``COLUMNS`` as in :func:`_read_table`; None where absent,
    empty or unreadable (each reported)."""
    tables: dict[str, pd.DataFrame | None] = dict.fromkeys(COLUMNS)
    if not source:
        report._add(feed, str(source.path), None, "", "fatal",
                    "no GTFS text files (.txt) in it; expected stops.txt, routes.txt, trips.txt, "
                    "stop_times.txt and calendar.txt or calendar_dates.txt")
        return tables
    for name in REQUIRED_FILES:
        if not source.has(name):
            report._add(feed, f"{name}.txt", None, "", "fatal", "required file missing")
    if not source.has("calendar") and not source.has("calendar_dates"):
        report._add(feed, "calendar.txt", None, "", "fatal",
                    "neither calendar.txt nor calendar_dates.txt is present; one is required")
    texts: dict[str, TextFile] = {}
    empty = []
    for name in COLUMNS:
        if not source.has(name):
            continue
        text = source.text(name)
        try:
            if text.is_empty():
                empty.append(name)
                continue
        except GtfsError as exc:
            report.issues.extend(exc.report.issues)
            continue
        texts[name] = text
    for name in empty:
        _report_empty(name, texts, feed, report)
    for name, text in texts.items():
        tables[name] = _read_table(text, name, feed, report)
    return tables


def _report_empty(name: str, texts: Collection[str], feed: str,
                  report: ValidationReport) -> None:
    """An empty file (not even a header): fatal where GTFS needs the file."""
    file = f"{name}.txt"
    # calendar.txt and calendar_dates.txt: either may define the services alone.
    other = {"calendar": "calendar_dates", "calendar_dates": "calendar"}.get(name)
    if other is not None and other in texts:
        report._add(feed, file, None, "", "warning",
                    f"empty file; ignored ({other}.txt defines the services)")
    elif name in REQUIRED_FILES or other is not None:
        report._add(feed, file, None, "", "fatal",
                    f"empty file; expected a header with {', '.join(REQUIRED[name])}")
    else:
        report._add(feed, file, None, "", "warning",
                    "empty file; ignored (a header line is expected even without rows)")


def _read_table(text: TextFile, name: str, feed: str,
                report: ValidationReport) -> pd.DataFrame | None:
    """A file as strings, stripped, with ``_line`` (its line number); None if unreadable."""
    wanted = set(COLUMNS[name])
    file = f"{name}.txt"
    try:
        table = text.read(wanted, skip_blank_lines=False)
    except GtfsError as exc:
        report.issues.extend(exc.report.issues)
        return None
    report.issues.extend(text.issues)
    table.columns = [str(c).strip() for c in table.columns]
    table = table.loc[:, ~table.columns.duplicated()]
    for column in table.columns:
        table[column] = table[column].astype(str).str.strip()
    table["_line"] = np.arange(2, len(table) + 2, dtype=np.int64)
    data = [c for c in table.columns if c != "_line"]
    if data and len(table):
        blank = (table[data] == "").all(axis=1).to_numpy()
        if blank.any():
            table = table.loc[~blank]
    missing = [c for c in REQUIRED[name] if c not in table.columns]
    for column in missing:
        report._add(feed, file, None, column, "fatal", "required column missing")
    if missing:
        return None
    for column in COLUMNS[name]:
        if column not in table.columns:
            table[column] = ""
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------
# Text files: decoding, field counts, parse errors by line

# GTFS text is UTF-8. Bytes that are not are read as Windows-1252 (what Windows
# tools write), its five undefined bytes as Latin-1. pandas decodes each value
# it keeps as UTF-8 and calls this handler only for a value that fails, so a
# UTF-8 file is decoded once and the columns not read are never decoded.
_FALLBACK = "bereikbaarheid.gtfs.cp1252"
_decoding = threading.local()


def _decode_as_cp1252(error: UnicodeDecodeError) -> tuple[str, int]:
    _decoding.fallbacks = _fallbacks() + 1
    return _csv.windows_1252(error.object[error.start:error.end]), error.end


def _fallbacks() -> int:
    """How often this thread has decoded bytes as Windows-1252."""
    return getattr(_decoding, "fallbacks", 0)


codecs.register_error(_FALLBACK, _decode_as_cp1252)

# The BOM is skipped by pandas' own UTF-8 reader (faster than "utf-8-sig",
# which decodes the whole file in Python, read columns or not). With
# ``index_col=False`` a comma at the end of every row is no index column.
_CSV_OPTIONS = {"dtype": str, "keep_default_na": False, "na_filter": False,
                "encoding": "utf-8", "encoding_errors": _FALLBACK, "index_col": False}
# Files at least this large show a progress bar while they are read.
_PROGRESS_BYTES = 16 << 20
# A "line" longer than this is no CSV line (or ends in CR only): not counted.
_MAX_LINE_BYTES = 1 << 20
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error)
# Opening a zip member may also fail as encrypted or compressed with an
# unsupported method (Deflate64, which Windows uses for large files).
_OPEN_ERRORS = (*_READ_ERRORS, RuntimeError, NotImplementedError)


class TextFile:
    """One GTFS text file read as CSV, its problems named by line.

    The GTFS reader (``sources.gtfs``) and ``sources.clip`` read every GTFS
    file through this: UTF-8 with or without BOM; bytes that are not UTF-8
    read as Windows-1252 with one warning naming the first line holding one;
    a row with more fields than the header (a comma in an unquoted value), a
    quote never closed or a file that cannot be read raise :class:`GtfsError`
    naming the file and row.

    Parameters
    ----------
    opener
        Opens the file for reading bytes; called once per read.
    feed, file
        The feed's and the file's name (``"stops.txt"``), for messages.
    path
        The feed (zip or folder), named by a raised error.
    size
        The file's size in bytes, if known: a large file shows a progress bar
        while it is read.

    Attributes
    ----------
    issues
        Warnings found while reading: the decoding fallback, rows with fewer
        fields than the header.
    """

    def __init__(self, opener: Callable[[], BinaryIO], feed: str, file: str, path: Path,
                 size: int | None = None):
        self._opener = opener
        self.feed = feed
        self.file = file
        self.path = path
        self.size = size
        self.issues: list[GtfsIssue] = []
        self._decoding_reported = False

    def is_empty(self) -> bool:
        """Whether the file holds only white space (not even a header)."""
        with self._reading(), self._open() as handle:
            head = handle.read(4096)
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise self._error(
                    [self._issue(None, "fatal", "UTF-16 text; expected UTF-8 (GTFS text is "
                                                "UTF-8: save the file as UTF-8)")])
            head = head.removeprefix(codecs.BOM_UTF8)
            while head:
                if head.strip():
                    return False
                head = handle.read(1 << 16)
        return True

    def header(self) -> list[str]:
        """The column names as written; none when the file is empty."""
        with self._reading(), self._open() as handle:
            try:
                return list(pd.read_csv(handle, nrows=0, **_CSV_OPTIONS).columns)
            except pd.errors.EmptyDataError:
                return []
            except ValueError as exc:
                raise self._parse_error(exc) from exc

    def read(self, columns: Collection[str] | None = None, **options) -> pd.DataFrame:
        """The file as strings: the ``columns`` named (matched stripped), or all.

        ``options`` go to ``pandas.read_csv``. Call :meth:`is_empty` first: an
        empty file has no header to read.
        """
        fallbacks = _fallbacks()
        # A national stop_times.txt takes a while: its bytes are counted.
        large = self.size is not None and self.size >= _PROGRESS_BYTES
        with self._reading(), self._open() as handle, _progress.bar(
                desc=f"reading {self.file}", total=self.size, unit="B", unit_scale=True,
        ) if large else contextlib.nullcontext() as progress:
            counter = _FieldCounter(handle, progress)
            try:
                frame = pd.read_csv(counter, usecols=_usecols(columns), **_CSV_OPTIONS,
                                    **options)
            except ValueError as exc:
                raise self._parse_error(exc) from exc
        self._check(counter, fallbacks)
        return frame

    def chunks(self, rows: int, columns: Collection[str] | None = None) -> Iterator[pd.DataFrame]:
        """The file in chunks of ``rows`` rows, as :meth:`read` (checked at the end)."""
        fallbacks = _fallbacks()
        with self._reading(), self._open() as handle:
            counter = _FieldCounter(handle)
            try:
                yield from pd.read_csv(counter, usecols=_usecols(columns), chunksize=rows,
                                       **_CSV_OPTIONS)
            except ValueError as exc:
                raise self._parse_error(exc) from exc
        self._check(counter, fallbacks)

    def _open(self) -> BinaryIO:
        try:
            return self._opener()
        except _OPEN_ERRORS as exc:
            raise self._error([self._issue(None, "fatal", f"cannot open the file ({exc})")]) \
                from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Read errors (permissions, a damaged zip) as a GtfsError naming the file."""
        try:
            yield
        except _READ_ERRORS as exc:
            raise self._error([self._issue(None, "fatal", f"cannot read the file ({exc})")]) \
                from exc

    def _issue(self, row: int | None, severity: str, message: str) -> GtfsIssue:
        return GtfsIssue(self.feed, self.file, row, "", severity, message)

    def _error(self, fatal: list[GtfsIssue]) -> GtfsError:
        """A GtfsError whose report holds ``fatal`` and the warnings found so far."""
        more = f" (and {len(fatal) - 1} more)" if len(fatal) > 1 else ""
        return GtfsError(self.path, f"{fatal[0]}{more}",
                         report=ValidationReport(self.issues + fatal))

    def _parse_error(self, exc: ValueError) -> GtfsError:
        """pandas' parse error as a row of the file, where it names one."""
        text = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
        if isinstance(exc, pd.errors.EmptyDataError):
            return self._error([self._issue(1, "fatal", "blank line; expected the header")])
        # pandas counts rows from 0, the header included; rows are 1-based here.
        unclosed = re.fullmatch(r"EOF inside string starting at row (\d+)", text)
        if unclosed:
            return self._error([self._issue(
                int(unclosed[1]) + 1, "fatal",
                'a quote (") opened in this row is never closed; expected a closing quote '
                '(values with a comma are quoted, a quote inside one is doubled)')])
        return self._error([self._issue(None, "fatal", f"cannot read as CSV ({text})")])

    def _check(self, counter: _FieldCounter, fallbacks: int) -> None:
        """Turn what the field counter and the decoder saw into issues."""
        if counter.header_fields == 0:
            raise self._error([self._issue(1, "fatal", "blank line; expected the header")])
        if _fallbacks() > fallbacks and not self._decoding_reported:
            self._decoding_reported = True
            issue = self._issue(self._first_non_utf8_line(), "warning",
                                "not UTF-8 (the first such byte is in this row); bytes that "
                                "are not UTF-8 read as Windows-1252 (GTFS expects UTF-8)")
            self.issues.append(issue)
            logger.warning(f"GTFS {self.feed}: {issue}")
        header = counter.header_fields
        self.issues += _row_issues(
            self, counter.short, counter.n_short, "warning",
            lambda f: f"{f} fields, the header has {header}; the missing ones read as empty",
            "fewer fields than the header")
        long = _row_issues(
            self, counter.long, counter.n_long, "fatal",
            lambda f: f"{f} fields, the header has {header}; the values cannot be matched to "
                      "their columns (expected quotes around a value holding a comma)",
            "more fields than the header")
        if long:
            raise self._error(long)

    def _first_non_utf8_line(self) -> int | None:
        """The line holding the first byte that is not UTF-8, read again up to it."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        line = 1
        with self._reading(), self._open() as handle:
            while chunk := handle.read(1 << 20):
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    return line + chunk.count(b"\n", 0, max(exc.start - pending, 0))
                line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line
        return None


def _usecols(columns: Collection[str] | None) -> Callable[[str], bool]:
    # Always a selection: with one, pandas drops the surplus fields of a row
    # instead of stopping at it, and _FieldCounter reports them with their line.
    if columns is None:
        return lambda c: True
    return lambda c: c.strip() in columns


def _row_issues(text: TextFile, rows: list[tuple[int, int]], total: int, severity: str,
                message: Callable[[int], str], what: str) -> list[GtfsIssue]:
    """One issue per row (``(line, fields)``), then one with the count when more."""
    issues = [text._issue(line, severity, message(fields)) for line, fields in rows]
    if total > len(rows):
        issues.append(text._issue(None, severity, f"{total} rows in total with {what} "
                                                  f"(first {len(rows)} listed)"))
    return issues


_LF, _QUOTE, _COMMA = (ord(c) for c in '\n",')
# Bytes that hold no value: white space, and in surplus fields also separators.
_BLANK = np.isin(np.arange(256), [ord(c) for c in " \t\r\n"])
_NO_VALUE = _BLANK | np.isin(np.arange(256), [_QUOTE, _COMMA])


class _FieldCounter(io.BufferedIOBase):
    """A binary file handed to pandas, counting the fields of each line it passes.

    pandas, reading only some columns, drops the surplus values of a row with
    more fields than the header without a word; counting here costs a few
    NumPy passes over bytes already in memory (about a tenth of pandas' own
    time). A line with an odd number of quotes (a line break or a stray quote
    inside a value) is not judged. Lines are physical lines of the file, the
    header being line 1.
    """

    def __init__(self, raw: BinaryIO, progress=None):
        super().__init__()
        self._raw = raw
        self._progress = progress  # a progress bar counting the bytes read, or None
        self._rest = b""
        self._next_line = 1
        self._counting = True
        self.header_fields: int | None = None  # 0: the first line is blank
        self._shortest = 0  # the header's fields without trailing empty names
        self.long: list[tuple[int, int]] = []   # (line, fields), the first few
        self.n_long = 0
        self.short: list[tuple[int, int]] = []
        self.n_short = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(size)
        if self._progress is not None:
            self._progress.update(len(data))
        if self._counting:
            self._take(data)
        return data

    def _take(self, data: bytes) -> None:
        """Count the complete lines of what was read; keep a partial last line."""
        if data:
            data = self._rest + data
            cut = data.rfind(b"\n") + 1
            data, self._rest = data[:cut], data[cut:]
            if len(self._rest) > _MAX_LINE_BYTES:
                self._counting = False
                return
        else:
            data, self._rest = self._rest, b""
        if data:
            self._count(data)

    def _count(self, block: bytes) -> None:
        a = np.frombuffer(block, np.uint8)
        ends = np.flatnonzero(a == _LF)
        if not len(ends) or ends[-1] != len(a) - 1:
            ends = np.append(ends, len(a))  # the file's last line, without a line break
        starts = np.concatenate(([0], ends[:-1] + 1))
        commas = np.flatnonzero(a == _COMMA)
        per_line = np.diff(np.searchsorted(commas, ends), prepend=0)
        judged = np.ones(len(ends), bool)
        header = self._next_line == 1
        if header:
            self._read_header(block[:ends[0]])
            if not self.header_fields:
                self._counting = False
                return
            judged[0] = False
        lines = self._next_line + np.arange(len(ends))
        self._next_line += len(ends)
        # Quotes matter only where the plain count is off: a comma between them
        # separates nothing.
        if b'"' in block and (per_line[header:] != self.header_fields - 1).any():
            quotes = np.cumsum(a == _QUOTE, dtype=np.int32)  # up to and including each byte
            before = np.where(starts > 0, quotes[starts - 1], 0)
            on_line = quotes - np.repeat(before, np.diff(np.append(starts, len(a))))
            commas = commas[on_line[commas] % 2 == 0]
            per_line = np.diff(np.searchsorted(commas, ends), prepend=0)
            judged &= on_line[np.minimum(ends, len(a) - 1)] % 2 == 0
        fields = per_line + 1

        long = judged & (fields > self.header_fields)
        if long.any():
            # Surplus fields holding nothing (a comma ending the row) lose nothing.
            rows = np.flatnonzero(long)
            first_surplus = commas[np.cumsum(per_line)[rows] - per_line[rows]
                                   + self.header_fields - 1]
            value = np.concatenate(([0], np.cumsum(~_NO_VALUE[a], dtype=np.int32)))
            long[rows[value[ends[rows]] == value[first_surplus]]] = False
        short = judged & (fields < self._shortest)
        if short.any():
            rows = np.flatnonzero(short)
            text = np.concatenate(([0], np.cumsum(~_BLANK[a], dtype=np.int32)))
            short[rows[text[ends[rows]] == text[starts[rows]]]] = False  # blank lines
        self.n_long += self._note(self.long, long, lines, fields)
        self.n_short += self._note(self.short, short, lines, fields)

    def _read_header(self, line: bytes) -> None:
        text = line.decode("utf-8", _FALLBACK).lstrip("\ufeff")
        names = next(csv.reader([text]), []) if text.strip() else []
        self.header_fields = len(names)
        while names and not names[-1].strip():
            names.pop()
        self._shortest = len(names)

    @staticmethod
    def _note(kept: list[tuple[int, int]], mask: np.ndarray, lines: np.ndarray,
              fields: np.ndarray) -> int:
        rows = np.flatnonzero(mask)[:max(MAX_ROWS_REPORTED - len(kept), 0)]
        kept += zip(lines[rows].tolist(), fields[rows].tolist())
        return int(mask.sum())
