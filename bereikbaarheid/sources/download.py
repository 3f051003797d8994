"""Downloads of the public inputs (OSM, GTFS, CBS grid, boundaries), resumable and checksummed."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import re
import shutil
import urllib.parse
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pooch
import requests
import urllib3

from .. import _io, _progress
from ..errors import ConfigError, DownloadError, InputError

logger = logging.getLogger(__name__)

SOURCES_PATH = Path(__file__).resolve().parent.parent / "data" / "downloads.toml"
CHECKSUMS_FILE = "checksums.json"
KINDS: tuple[str, ...] = ("osm", "gtfs", "grid", "boundaries")

_CHUNK_BYTES = 1 << 18
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REQUIRED = ("url", "file", "kind")
_STRING_FIELDS = ("url", "file", "kind", "sha256", "description", "licence")
_FIELDS = frozenset((*_STRING_FIELDS, "unpack"))


@dataclass(frozen=True)
class Source:
    """One downloadable input: a table of a downloads TOML file.

    Attributes
    ----------
    name
        The table name, used to pick sources on the command line.
    url
        Where the file is fetched from (http or https).
    file
        The name it gets in the download folder.
    kind
        What it is: one of ``KINDS``.
    sha256
        Expected SHA-256 hex digest of the downloaded file; ``""`` when not
        pinned (the digest is then recorded on first download).
    description
        One line for listings.
    licence
        The publisher's licence, or where to read it.
    unpack
        The file is a zip holding one GeoPackage, which is extracted beside it.
    """

    name: str
    url: str
    file: str
    kind: str
    sha256: str = ""
    description: str = ""
    licence: str = ""
    unpack: bool = False


@dataclass(frozen=True)
class Fetched:
    """The outcome of fetching one source.

    Attributes
    ----------
    name
        The source's name.
    path
        The file to use: the download itself, or the GeoPackage extracted
        from it when the source is unpacked.
    url
        Where it came from.
    sha256
        SHA-256 hex digest of the downloaded file (the zip when unpacked).
    bytes
        Size of the downloaded file.
    status
        ``"downloaded"``, ``"resumed"`` (a partial file was completed) or
        ``"cached"`` (already present and verified; no network used).
    """

    name: str
    path: Path
    url: str
    sha256: str
    bytes: int
    status: str


def read_sources(path: str | Path | None = None) -> dict[str, Source]:
    """Read a downloads TOML file: one table per source.

    Parameters
    ----------
    path
        The file; the packaged ``SOURCES_PATH`` when None.

    Returns
    -------
    dict[str, Source]
        Sources by name, in file order.

    Raises
    ------
    InputError
        The file is missing or not TOML, or a table has an unknown key, lacks
        ``url``, ``file`` or ``kind``, or has a value of the wrong form.
    """
    path = SOURCES_PATH if path is None else Path(path)
    data = _io.read_toml(path, "a downloads TOML file with one table per source")
    if not data:
        raise InputError(path, "no sources; expected tables like [osm-netherlands] "
                               "with url, file and kind")
    sources: dict[str, Source] = {}
    owners: dict[str, str] = {}
    for name, table in data.items():
        source = _source_from_table(path, name, table)
        if source.file in owners:
            raise InputError(path, f"[{name}] field 'file': {source.file!r} is also the file "
                                   f"of [{owners[source.file]}]; every source needs its own file")
        owners[source.file] = name
        sources[name] = source
    return sources


def fetch(
    names: Sequence[str] | None,
    folder: str | Path,
    *,
    sources: str | Path | Mapping[str, Source] | None = None,
    progress: bool = True,
    timeout_s: float = 30.0,
) -> list[Fetched]:
    """Download sources into ``folder``, resuming broken transfers, and verify them.

    A file already in the folder whose SHA-256 matches its pin (or, when not
    pinned, the digest recorded in ``checksums.json``) is used without any
    network access. Every download is recorded in ``<folder>/checksums.json``.

    Parameters
    ----------
    names
        Source names to fetch, in order; None fetches every source.
    folder
        The download folder (created when missing).
    sources
        A downloads TOML file or a mapping of name to ``Source``; the packaged
        ``SOURCES_PATH`` when None.
    progress
        Show a progress bar per download (still silenced by ``--quiet``/CI).
    timeout_s
        Seconds to wait for a connection, and for each read, before giving up.

    Returns
    -------
    list[Fetched]
        One per source, in the order fetched.

    Raises
    ------
    ConfigError
        A name is not a known source.
    DownloadError
        A host cannot be reached (the message says where to place a file
        downloaded by hand), the server answers with an HTTP error, a transfer
        breaks off (the partial ``<file>.part`` is kept and the next call
        resumes it) or a pinned checksum does not match (nothing is kept).
    """
    catalogue = _resolve(sources)
    chosen = _select(catalogue, names)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _io.clean_stale(folder)  # temporary files of an interrupted download
    return [_fetch_one(source, folder, progress=progress, timeout_s=timeout_s)
            for source in chosen]


def describe(sources: str | Path | Mapping[str, Source] | None = None) -> list[str]:
    """Lines listing the sources: name, kind, pinned or not and URL, then what it is.

    Parameters
    ----------
    sources
        A downloads TOML file or a mapping of name to ``Source``; the packaged
        ``SOURCES_PATH`` when None.

    Returns
    -------
    list[str]
        Two lines per source, the second indented.
    """
    catalogue = _resolve(sources)
    width = max((len(name) for name in catalogue), default=0)
    lines = []
    for source in catalogue.values():
        pin = "pinned" if source.sha256 else "not pinned"
        lines.append(f"{source.name:<{width}}  {source.kind:<10}  {pin:<10}  {source.url}")
        lines.append(f"    {source.description or '(no description)'}; "
                     f"licence: {source.licence or 'not stated'}")
    return lines


def _source_from_table(path: Path, name: str, table: object) -> Source:
    if not isinstance(table, dict):
        raise InputError(path, f"{name!r} is not a table; "
                               f"expected [{name}] with url, file and kind")
    if not _NAME.fullmatch(name):
        raise InputError(path, f"[{name}]: source names are lower-case letters, digits and "
                               "single hyphens, like 'osm-zeeland'")
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise InputError(path, f"[{name}]: unknown key(s) {', '.join(unknown)}; "
                               f"expected some of {', '.join(sorted(_FIELDS))}")
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise InputError(path, f"[{name}]: missing {', '.join(missing)}")
    for key in _STRING_FIELDS:
        if key in table and not isinstance(table[key], str):
            raise InputError(path, f"[{name}] field {key!r}: expected a string, "
                                   f"got {type(table[key]).__name__}")
    if not isinstance(table.get("unpack", False), bool):
        raise InputError(path, f"[{name}] field 'unpack': expected true or false")

    def bad(key: str, expected: str) -> InputError:
        return InputError(path, f"[{name}] field {key!r}: {table[key]!r}; expected {expected}")

    url = urllib.parse.urlsplit(table["url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise bad("url", "an http:// or https:// address")
    file = table["file"]
    if (not file or file in (".", "..", CHECKSUMS_FILE) or "/" in file or "\\" in file
            or file.endswith((".part", ".part.json"))):
        raise bad("file", f"a plain file name (no folders; not {CHECKSUMS_FILE} "
                          "nor ending in .part)")
    if table["kind"] not in KINDS:
        raise bad("kind", f"one of {', '.join(KINDS)}")
    sha256 = table.get("sha256", "").lower()
    if sha256 and not _SHA256.fullmatch(sha256):
        raise bad("sha256", '64 hexadecimal digits, or "" when not pinned')
    unpack = table.get("unpack", False)
    if unpack and not file.lower().endswith(".zip"):
        raise bad("file", "a .zip name, since unpack = true")
    return Source(name=name, url=table["url"], file=file, kind=table["kind"], sha256=sha256,
                  description=table.get("description", ""), licence=table.get("licence", ""),
                  unpack=unpack)


def _resolve(sources: str | Path | Mapping[str, Source] | None) -> dict[str, Source]:
    if isinstance(sources, Mapping):
        return dict(sources)
    return read_sources(sources)


def _select(catalogue: dict[str, Source], names: Sequence[str] | None) -> list[Source]:
    if names is None:
        return list(catalogue.values())
    if isinstance(names, str):
        names = [names]
    unknown = [name for name in names if name not in catalogue]
    if unknown:
        raise ConfigError(f"unknown download source(s) {', '.join(unknown)}; "
                          f"known: {', '.join(catalogue) or '(none)'}")
    return [catalogue[name] for name in dict.fromkeys(names)]


def _fetch_one(source: Source, folder: Path, *, progress: bool, timeout_s: float) -> Fetched:
    target = folder / source.file
    record = _read_records(folder).get(source.name)
    status = ""
    if target.exists():
        sha256 = _io.file_digest(target)
        problem = _cache_problem(source, record, target, sha256)
        if problem is None:
            status = "cached"
        else:
            logger.info(f"{source.name}: {problem}; downloading it again")
            target.unlink()
    if not status:
        sha256, status = _download(source, target, progress=progress, timeout_s=timeout_s)
    path = _unpack(source, target, fresh=status != "cached") if source.unpack else target
    size = target.stat().st_size
    if status != "cached" or record is None:
        # A file placed by hand is taken in as it is (after the pin check) and
        # recorded, so that later changes to it are noticed.
        _write_record(folder, source, sha256, size, path)
    return Fetched(name=source.name, path=path, url=source.url, sha256=sha256, bytes=size,
                   status=status)


def _cache_problem(source: Source, record: dict | None, target: Path, sha256: str) -> str | None:
    """Why the file present cannot be used as it is, or None when it can."""
    if source.sha256 and sha256 != source.sha256:
        return f"{target} does not match the pinned sha256"
    if record is not None:
        if record.get("url") != source.url:
            return f"the URL changed since {target} was downloaded"
        if record.get("sha256") != sha256:
            return f"{target} changed on disk (its sha256 differs from {CHECKSUMS_FILE})"
    return None


def _download(source: Source, target: Path, *, progress: bool,
              timeout_s: float) -> tuple[str, str]:
    """Fetch ``source`` to ``target`` through pooch; (sha256, status)."""
    downloader = _ResumingDownloader(source, target, progress=progress, timeout_s=timeout_s)
    known_hash = f"sha256:{source.sha256}" if source.sha256 else None
    try:
        with _pooch_silenced():
            pooch.retrieve(source.url, known_hash, fname=source.file, path=target.parent,
                           downloader=downloader)
    except ValueError:
        # pooch raises ValueError on a hash mismatch, after deleting the download.
        if not downloader.sha256 or downloader.sha256 == source.sha256:
            raise
        raise DownloadError(
            f"{source.name}: the file from {source.url} has sha256 {downloader.sha256}, "
            f"but {source.sha256} is pinned; it was discarded. The publisher may have "
            "released a new version: check it, then update or clear the pin."
        ) from None
    return downloader.sha256, "resumed" if downloader.resumed else "downloaded"


@contextlib.contextmanager
def _pooch_silenced() -> Iterator[None]:
    # pooch logs each download at INFO on stderr; our own messages and bar
    # already say it, and must obey --quiet.
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class _ResumingDownloader:
    """A pooch downloader that keeps ``<file>.part`` between attempts and resumes it.

    Beside the partial file, ``<file>.part.json`` keeps the URL and the
    server's validator (ETag or Last-Modified), sent as ``If-Range`` so that a
    file changed on the server since is fetched whole instead of being
    spliced onto old bytes.
    """

    def __init__(self, source: Source, target: Path, *, progress: bool, timeout_s: float):
        self.source = source
        self.target = target
        self.part = target.with_name(target.name + ".part")
        self.meta = target.with_name(target.name + ".part.json")
        self.progress = progress
        self.timeout_s = timeout_s
        self.resumed = False
        self.sha256 = ""

    def __call__(self, url: str, output_file: str, pooch_: object = None) -> None:
        """Fetch ``url`` into ``output_file`` (pooch's temporary file; it checks the hash)."""
        offset, validator = self._resume_point(url)
        while True:
            response = self._open(url, offset, validator)
            restart = offset and (response.status_code == 416 or (
                response.status_code == 206 and _range_start(response) != offset))
            if not restart:
                break
            # The partial file is no prefix of what the server has now.
            response.close()
            self._discard_part()
            offset, validator = 0, ""
        with response:
            if response.status_code != 206:
                offset = 0
            self.resumed = offset > 0
            total = _total_bytes(response, offset)
            if offset == 0:
                self._start_part(url, response)
            written = self._stream(response, offset, total)
        if total is not None and offset + written != total:
            raise self._broken_off(offset + written, total, "the connection closed early")
        os.replace(self.part, output_file)
        self.meta.unlink(missing_ok=True)
        self.sha256 = _io.file_digest(output_file)

    def _resume_point(self, url: str) -> tuple[int, str]:
        """Bytes already held for ``url`` and the validator to send with them."""
        if not self.part.exists():
            return 0, ""
        try:
            meta = json.loads(self.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
        if not isinstance(meta, dict) or meta.get("url") != url:
            self._discard_part()
            return 0, ""
        return self.part.stat().st_size, str(meta.get("validator", ""))

    def _open(self, url: str, offset: int, validator: str) -> requests.Response:
        # Compressed transfer would make byte offsets meaningless for resuming.
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if validator:
                headers["If-Range"] = validator
        try:
            response = requests.get(url, headers=headers, stream=True, timeout=self.timeout_s)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            host = urllib.parse.urlsplit(url).hostname or url
            raise DownloadError(
                f"{self.source.name}: cannot reach {host} (offline?): {self._reason(exc)}. "
                f"Download {url} by hand and place it at {self.target}, then rerun."
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise DownloadError(f"{self.source.name}: cannot download {url}: {exc}") from exc
        if response.status_code >= 400 and not (offset and response.status_code == 416):
            response.close()
            raise DownloadError(f"{self.source.name}: HTTP {response.status_code} "
                                f"{response.reason} for {url}")
        return response

    def _start_part(self, url: str, response: requests.Response) -> None:
        etag = response.headers.get("ETag", "")
        # A weak ETag may not be used in If-Range (RFC 9110, 13.1.5).
        validator = etag if etag and not etag.startswith("W/") else (
            response.headers.get("Last-Modified", ""))
        self.part.write_bytes(b"")
        with _io.atomic_open(self.meta, "w", encoding="utf-8") as f:
            json.dump({"url": url, "validator": validator}, f)

    def _stream(self, response: requests.Response, offset: int, total: int | None) -> int:
        """Append the body to the partial file; the bytes written."""
        progress_bar = (_progress.bar(desc=self.source.name, total=total, unit="B",
                                      unit_scale=True)
                        if self.progress else None)
        written = 0
        try:
            if progress_bar is not None:
                progress_bar.update(offset)
                progress_bar.refresh()
            with open(self.part, "ab") as f:
                for chunk in _chunks(response):
                    f.write(chunk)
                    written += len(chunk)
                    if progress_bar is not None:
                        progress_bar.update(len(chunk))
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self._broken_off(offset + written, total, self._reason(exc)) from exc
        finally:
            if progress_bar is not None:
                progress_bar.close()
        return written

    def _broken_off(self, held: int, total: int | None, reason: str) -> DownloadError:
        of = f" of {total:,}" if total is not None else ""
        return DownloadError(
            f"{self.source.name}: the download of {self.source.url} broke off after "
            f"{held:,}{of} bytes ({reason}); {self.part} is kept and the next run "
            "resumes it."
        )

    def _discard_part(self) -> None:
        self.part.unlink(missing_ok=True)
        self.meta.unlink(missing_ok=True)

    def _reason(self, exc: BaseException) -> str:
        """The root cause of a requests error in a few words."""
        if isinstance(exc, (requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError)):
            return f"no answer within {self.timeout_s:g} s"
        reason = str(exc)
        seen: set[int] = set()
        cause: BaseException | None = exc
        # requests wraps urllib3, which wraps the socket error: the innermost
        # OS error ("Connection refused", "Name or service not known") is the
        # readable one.
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            if isinstance(cause, OSError) and cause.strerror:
                reason = cause.strerror
            inner = getattr(cause, "reason", None)
            cause = inner if isinstance(inner, BaseException) else (
                cause.__cause__ or cause.__context__)
        return reason


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, undecoded."""
    raw = response.raw
    if hasattr(raw, "read1"):
        # read1 (urllib3 >= 2.3) hands over whatever has arrived, so a broken
        # connection loses no received byte; iter_content would drop its
        # partly filled buffer.
        while chunk := raw.read1(_CHUNK_BYTES, decode_content=False):
            yield chunk
    else:
        yield from response.iter_content(_CHUNK_BYTES)


def _range_start(response: requests.Response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match[1]) if match else None


def _total_bytes(response: requests.Response, offset: int) -> int | None:
    """The full file size the response implies, or None when it does not say."""
    if response.status_code == 206:
        match = re.match(r"bytes \d+-\d+/(\d+)", response.headers.get("Content-Range", ""))
        if match:
            return int(match[1])
    length = response.headers.get("Content-Length")
    if length is None or not length.isdigit():
        return None
    return offset + int(length)


def _unpack(source: Source, archive: Path, *, fresh: bool) -> Path:
    """Extract the zip's one GeoPackage beside it (again when ``fresh``); its path."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist()
                       if not m.is_dir() and m.filename.lower().endswith(".gpkg")]
            if len(members) != 1:
                found = ", ".join(m.filename for m in members) or "none"
                raise DownloadError(f"{source.name}: expected one GeoPackage (.gpkg) in "
                                    f"{archive}, found {found}")
            member = members[0]
            # Only the base name: a member path must not place files outside the folder.
            path = archive.parent / PurePosixPath(member.filename).name
            if fresh or not path.exists() or path.stat().st_size != member.file_size:
                with zf.open(member) as src, _io.atomic_open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK_BYTES)
    except zipfile.BadZipFile as exc:
        archive.unlink()
        raise DownloadError(f"{source.name}: {archive} from {source.url} is not a zip ({exc}); "
                            "it was removed. Check the URL in the sources file.") from None
    return path


def _read_records(folder: Path) -> dict[str, dict]:
    path = folder / CHECKSUMS_FILE
    if not path.exists():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        records = exc
    if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
        raise InputError(path, "not a JSON object of download records; delete it and rerun "
                               "to have every download verified again")
    return records


def _write_record(folder: Path, source: Source, sha256: str, size: int, path: Path) -> None:
    records = _read_records(folder)
    records[source.name] = {
        "name": source.name,
        "url": source.url,
        "file": source.file,
        "sha256": sha256,
        "bytes": size,
        "recorded_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if path.name != source.file:
        records[source.name]["unpacked"] = path.name
    with _io.atomic_open(folder / CHECKSUMS_FILE, "w", encoding="utf-8") as f:
        json.dump(records, f, sort_keys=True, indent=2)
        f.write("\n")
