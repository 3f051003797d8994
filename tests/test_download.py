"""Downloads: resuming, checksums, caching and errors, against a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import socket
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bereikbaarheid import _progress
from bereikbaarheid.errors import ConfigError, DownloadError, InputError
from bereikbaarheid.sources import download


@dataclass
class ServerState:
    """What the test server serves, how it misbehaves and what it was asked."""

    files: dict[str, bytes] = field(default_factory=dict)
    drop_after: int | None = None  # close the next response after this many body bytes
    ignore_range: bool = False  # answer every request 200 with the whole file
    send_length: bool = True  # False: no Content-Length, the body ends when the connection does
    ranges: list[str | None] = field(default_factory=list)
    if_ranges: list[str | None] = field(default_factory=list)

    def reset(self) -> None:
        self.files.clear()
        self.drop_after = None
        self.ignore_range = False
        self.send_length = True
        self.ranges.clear()
        self.if_ranges.clear()


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:16] + '"'


def _handler(state: ServerState) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            state.ranges.append(requested)
            state.if_ranges.append(if_range)
            data = state.files.get(urllib.parse.urlsplit(self.path).path)
            if data is None:
                self.send_error(404)
                return
            start = 0
            honour = requested and not state.ignore_range and if_range in (None, _etag(data))
            if honour:
                start = int(re.fullmatch(r"bytes=(\d+)-", requested)[1])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            if state.send_length:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", _etag(data))
            self.end_headers()
            if state.drop_after is not None:
                body, state.drop_after = body[:state.drop_after], None
                self.close_connection = True
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Handler


class Server:
    """A threaded HTTP server on 127.0.0.1 serving ``state``."""

    def __init__(self) -> None:
        self.state = ServerState()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def module_server():
    server = Server()
    yield server
    server.stop()


@pytest.fixture
def server(module_server):
    module_server.state.reset()
    return module_server


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serve(server: Server, name: str, data: bytes, **fields) -> dict[str, download.Source]:
    """Serve ``data`` as ``/<name>.bin`` and return a one-source catalogue for it."""
    path = f"/{name}.bin"
    server.state.files[path] = data
    source = download.Source(name=name, url=server.url(path), file=f"{name}.bin", kind="osm",
                             **fields)
    return {name: source}


def fetch_one(name, folder, sources, **kwargs) -> download.Fetched:
    (result,) = download.fetch([name], folder, sources=sources, progress=False, **kwargs)
    return result


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- plain downloads and the checksum record ----------------------------------

def test_download_writes_file_and_records_its_checksum(server, tmp_path):
    data = payload(10_000)
    sources = serve(server, "roads", data, description="d", licence="l")
    result = fetch_one("roads", tmp_path, sources)
    assert result.status == "downloaded"
    assert result.path == tmp_path / "roads.bin"
    assert result.path.read_bytes() == data
    assert (result.sha256, result.bytes) == (sha(data), 10_000)
    assert server.state.ranges == [None]
    record = json.loads((tmp_path / download.CHECKSUMS_FILE).read_text())["roads"]
    assert record["url"] == sources["roads"].url
    assert record["file"] == "roads.bin"
    assert record["sha256"] == sha(data)
    assert record["bytes"] == 10_000
    assert record["recorded_utc"].endswith("+00:00")
    assert not list(tmp_path.glob("*.part*"))


def test_progress_bar_shows_scaled_bytes(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_progress, "is_quiet", lambda: False)
    sources = serve(server, "roads", payload(300_000))
    download.fetch(["roads"], tmp_path, sources=sources, progress=True)
    assert re.search(r"roads: .*/300k", capsys.readouterr().err)


def test_records_are_merged_and_sorted(server, tmp_path):
    sources = {**serve(server, "b-roads", b"bbb"), **serve(server, "a-roads", b"aaa")}
    download.fetch(["b-roads"], tmp_path, sources=sources, progress=False)
    download.fetch(["a-roads"], tmp_path, sources=sources, progress=False)
    text = (tmp_path / download.CHECKSUMS_FILE).read_text()
    assert list(json.loads(text)) == ["a-roads", "b-roads"]
    assert text.index('"a-roads"') < text.index('"b-roads"')


def test_pinned_checksum_that_matches_is_accepted(server, tmp_path):
    data = payload(5_000)
    sources = serve(server, "roads", data, sha256=sha(data))
    assert fetch_one("roads", tmp_path, sources).status == "downloaded"


def test_pinned_checksum_mismatch_keeps_nothing(server, tmp_path):
    data = payload(5_000)
    wrong = sha(b"something else")
    sources = serve(server, "roads", data, sha256=wrong)
    with pytest.raises(DownloadError) as err:
        fetch_one("roads", tmp_path, sources)
    message = str(err.value)
    assert "roads" in message and sources["roads"].url in message
    assert wrong in message and sha(data) in message
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- resuming -----------------------------------------------------------------

def test_interrupted_download_keeps_part_and_resumes(server, tmp_path):
    data = payload(50_000)
    sources = serve(server, "roads", data)
    server.state.drop_after = 20_000
    with pytest.raises(DownloadError, match="broke off after 20,000 of 50,000 bytes"):
        fetch_one("roads", tmp_path, sources)
    part = tmp_path / "roads.bin.part"
    assert part.read_bytes() == data[:20_000]
    assert not (tmp_path / "roads.bin").exists()

    result = fetch_one("roads", tmp_path, sources)
    assert result.status == "resumed"
    assert server.state.ranges == [None, "bytes=20000-"]
    assert server.state.if_ranges[-1] == _etag(data)
    assert result.path.read_bytes() == data
    assert result.sha256 == sha(data)
    assert not part.exists()


def test_server_without_range_support_restarts(server, tmp_path):
    data = payload(30_000)
    sources = serve(server, "roads", data)
    server.state.drop_after = 12_345
    with pytest.raises(DownloadError):
        fetch_one("roads", tmp_path, sources)
    server.state.ignore_range = True
    result = fetch_one("roads", tmp_path, sources)
    assert server.state.ranges[-1] == "bytes=12345-"
    assert result.status == "downloaded"
    assert result.path.read_bytes() == data


def test_file_changed_on_server_is_fetched_whole(server, tmp_path):
    old, new = payload(30_000, seed=1), payload(40_000, seed=2)
    sources = serve(server, "roads", old)
    server.state.drop_after = 10_000
    with pytest.raises(DownloadError):
        fetch_one("roads", tmp_path, sources)
    server.state.files["/roads.bin"] = new
    result = fetch_one("roads", tmp_path, sources)
    assert result.status == "downloaded"
    assert result.path.read_bytes() == new


def test_part_longer_than_the_file_is_discarded(server, tmp_path):
    data = payload(1_000)
    sources = serve(server, "roads", data)
    server.state.drop_after = 1_500
    server.state.files["/roads.bin"] = payload(3_000)
    with pytest.raises(DownloadError):
        fetch_one("roads", tmp_path, sources)
    server.state.files["/roads.bin"] = data
    # With the old validator the server would answer 200; give it the new one
    # so that it honours the range and answers 416.
    meta = tmp_path / "roads.bin.part.json"
    meta.write_text(json.dumps({"url": sources["roads"].url, "validator": _etag(data)}))
    result = fetch_one("roads", tmp_path, sources)
    assert server.state.ranges[-2:] == ["bytes=1500-", None]
    assert result.path.read_bytes() == data


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(1, 20_000), cut=st.floats(0, 1), seed=st.integers(0, 10))
def test_resumed_download_equals_the_served_bytes(module_server, tmp_path_factory, size, cut,
                                                  seed):
    module_server.state.reset()
    data = payload(size, seed)
    drop_after = min(int(cut * size), size - 1)
    folder = tmp_path_factory.mktemp("resume")
    sources = serve(module_server, "roads", data)
    module_server.state.drop_after = drop_after
    with pytest.raises(DownloadError):
        fetch_one("roads", folder, sources)
    result = fetch_one("roads", folder, sources)
    assert result.path.read_bytes() == data
    assert result.status == ("resumed" if drop_after else "downloaded")


# --- the cache ------------------------------------------------------------------

def test_second_fetch_is_cached_without_network(tmp_path):
    own = Server()
    try:
        data = payload(8_000)
        sources = serve(own, "roads", data)
        fetch_one("roads", tmp_path, sources)
    finally:
        own.stop()
    result = fetch_one("roads", tmp_path, sources, timeout_s=1.0)
    assert result.status == "cached"
    assert (result.sha256, result.bytes) == (sha(data), 8_000)


def test_file_changed_on_disk_is_downloaded_again(server, tmp_path, caplog):
    caplog.set_level("INFO", logger="bereikbaarheid")
    data = payload(8_000)
    sources = serve(server, "roads", data)
    fetch_one("roads", tmp_path, sources)
    (tmp_path / "roads.bin").write_bytes(b"tampered")
    result = fetch_one("roads", tmp_path, sources)
    assert result.status == "downloaded"
    assert result.path.read_bytes() == data
    assert len(server.state.ranges) == 2
    assert "changed on disk" in caplog.text


def test_file_placed_by_hand_is_taken_in_and_recorded(tmp_path):
    (tmp_path / "roads.bin").write_bytes(b"by hand")
    sources = {"roads": download.Source("roads", f"http://127.0.0.1:{closed_port()}/r",
                                        "roads.bin", "osm")}
    result = fetch_one("roads", tmp_path, sources)
    assert result.status == "cached"
    record = json.loads((tmp_path / download.CHECKSUMS_FILE).read_text())["roads"]
    assert record["sha256"] == sha(b"by hand")


# --- errors ---------------------------------------------------------------------

def test_unreachable_host_says_offline_and_where_to_put_the_file(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/roads.bin"
    sources = {"roads": download.Source("roads", url, "roads.bin", "osm")}
    with pytest.raises(DownloadError) as err:
        fetch_one("roads", tmp_path, sources, timeout_s=2.0)
    message = str(err.value)
    assert "offline" in message
    assert url in message
    assert str(tmp_path / "roads.bin") in message
    assert "refused" in message.lower()


def test_silent_server_times_out_as_unreachable(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts connections into the backlog, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/roads.bin"
        sources = {"roads": download.Source("roads", url, "roads.bin", "osm")}
        with pytest.raises(DownloadError, match=r"offline\?\): no answer within 0.3 s"):
            fetch_one("roads", tmp_path, sources, timeout_s=0.3)


def test_http_404_names_status_and_url(server, tmp_path):
    url = server.url("/missing.bin")
    sources = {"missing": download.Source("missing", url, "missing.bin", "osm")}
    with pytest.raises(DownloadError, match="404") as err:
        fetch_one("missing", tmp_path, sources)
    assert url in str(err.value)
    assert not (tmp_path / "missing.bin").exists()


def test_unknown_name_lists_the_known_ones(server, tmp_path):
    sources = serve(server, "roads", b"x")
    with pytest.raises(ConfigError, match="nope.*known: roads"):
        download.fetch(["nope"], tmp_path, sources=sources, progress=False)


# --- unpacking --------------------------------------------------------------------

def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_unpack_extracts_the_geopackage(server, tmp_path):
    gpkg = payload(3_000)
    archive = zip_with({"readme.txt": b"hi", "cbs/grid_100m.gpkg": gpkg})
    server.state.files["/grid.zip"] = archive
    sources = {"grid": download.Source("grid", server.url("/grid.zip"), "grid.zip", "grid",
                                       unpack=True)}
    result = fetch_one("grid", tmp_path, sources)
    assert result.path == tmp_path / "grid_100m.gpkg"
    assert result.path.read_bytes() == gpkg
    assert result.sha256 == sha(archive)
    result.path.unlink()
    again = fetch_one("grid", tmp_path, sources)
    assert again.status == "cached"
    assert again.path.read_bytes() == gpkg


def test_unpack_of_a_non_zip_removes_it(server, tmp_path):
    server.state.files["/grid.zip"] = b"<html>not found</html>"
    sources = {"grid": download.Source("grid", server.url("/grid.zip"), "grid.zip", "grid",
                                       unpack=True)}
    with pytest.raises(DownloadError, match="not a zip"):
        fetch_one("grid", tmp_path, sources)
    assert not (tmp_path / "grid.zip").exists()


# --- the sources file ---------------------------------------------------------------

def test_packaged_sources_parse():
    sources = download.read_sources()
    assert {"osm-netherlands", "gtfs-nl", "cbs-grid-100m", "cbs-grid-500m",
            "gemeenten"} <= set(sources)
    for province in ("zeeland", "noord-holland", "groningen", "friesland", "drenthe",
                     "overijssel", "gelderland", "limburg"):
        assert sources[f"osm-{province}"].url.endswith(f"/{province}-latest.osm.pbf")
    for source in sources.values():
        url = urllib.parse.urlsplit(source.url)
        assert url.scheme in ("http", "https") and url.netloc
        assert source.file and "/" not in source.file
        assert source.kind in download.KINDS
        assert source.description and source.licence
    assert sources["cbs-grid-100m"].unpack and sources["cbs-grid-100m"].file.endswith(".zip")
    assert len({s.file for s in sources.values()}) == len(sources)


def test_describe_lists_every_source():
    lines = download.describe()
    sources = download.read_sources()
    assert len(lines) == 2 * len(sources)
    first = lines[0].split()
    assert first[0] == "osm-netherlands" and "osm" in first and "not" in first
    assert first[-1] == sources["osm-netherlands"].url


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "downloads.toml"
    path.write_text(text)
    return path


GOOD = 'url = "https://example.org/a.pbf"\nfile = "a.pbf"\nkind = "osm"\n'


@pytest.mark.parametrize("text, expected", [
    ("[a\nurl = ", "not valid TOML"),
    ("", "no sources"),
    ("[roads]\n" + GOOD + "colour = 'red'\n", r"\[roads\]: unknown key\(s\) colour"),
    ("[roads]\nfile = 'a.pbf'\nkind = 'osm'\n", r"\[roads\]: missing url"),
    ("[roads]\n" + GOOD.replace('"osm"', '"rail"'), r"\[roads\] field 'kind'"),
    ("[roads]\n" + GOOD.replace("https", "ftp"), r"\[roads\] field 'url'"),
    ("[roads]\n" + GOOD.replace('"a.pbf"\n', '"../a.pbf"\n'), r"\[roads\] field 'file'"),
    ("[roads]\n" + GOOD + "sha256 = 'abc'\n", r"\[roads\] field 'sha256'"),
    ("[roads]\n" + GOOD + "unpack = 'yes'\n", r"\[roads\] field 'unpack'"),
    ("[roads]\n" + GOOD + "unpack = true\n", "a .zip name"),
    ("[roads]\n" + GOOD.replace('"osm"', "3"), r"\[roads\] field 'kind': expected a string"),
    ("[Roads]\n" + GOOD, "lower-case"),
    ("[a]\n" + GOOD + "[b]\n" + GOOD, r"\[b\] field 'file'.*also the file of \[a\]"),
    ("roads = 3\n", "not a table"),
])
def test_bad_sources_file_is_an_input_error(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=expected) as err:
        download.read_sources(path)
    assert err.value.path == path


def test_missing_sources_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        download.read_sources(tmp_path / "nope.toml")


def test_sources_file_defaults(tmp_path):
    path = write(tmp_path, "[roads]\n" + GOOD + "sha256 = '" + "AB" * 32 + "'\n")
    source = download.read_sources(path)["roads"]
    assert source == download.Source("roads", "https://example.org/a.pbf", "a.pbf", "osm",
                                     sha256="ab" * 32)


def test_corrupt_checksum_record_is_an_input_error(server, tmp_path):
    (tmp_path / download.CHECKSUMS_FILE).write_text("{not json")
    sources = serve(server, "roads", b"x")
    with pytest.raises(InputError, match="delete it"):
        fetch_one("roads", tmp_path, sources)



def test_server_that_sends_no_content_length_is_read_to_the_end(server, tmp_path):
    data = payload(50_000)
    sources = serve(server, "roads", data)
    server.state.send_length = False
    result = fetch_one("roads", tmp_path, sources)
    assert result.status == "downloaded"
    assert (tmp_path / "roads.bin").read_bytes() == data


@pytest.mark.parametrize("file", ["", ".", "..", download.CHECKSUMS_FILE, "a/b.pbf",
                                  "a\\b.pbf", "a.pbf.part", "a.pbf.part.json"])
def test_a_file_name_that_is_no_plain_file_name_is_refused(tmp_path, file):
    path = write(tmp_path, "[roads]\n" + GOOD.replace('"a.pbf"', f"'{file}'"))
    with pytest.raises(InputError) as err:
        download.read_sources(path)
    assert str(err.value) == (f"{path}: [roads] field 'file': {file!r}; expected a plain file "
                              "name (no folders; not checksums.json nor ending in .part)")


@pytest.mark.parametrize("records", [
    {"roads": {"sha256": "ab"}, "rail": "ab"},
    {"roads": "ab"},
    ["roads"],
], ids=["one record no object", "every record no object", "a list"])
def test_checksum_records_that_are_not_objects_are_an_input_error(server, tmp_path, records):
    (tmp_path / download.CHECKSUMS_FILE).write_text(json.dumps(records))
    sources = serve(server, "roads", b"x")
    with pytest.raises(InputError, match="not a JSON object of download records; delete it"):
        fetch_one("roads", tmp_path, sources)
