"""Any bad input gives the project's own error, never another exception.

Random text in the real formats (CSV, TOML) goes through each reader: the
reader returns a result or raises a ``BereikbaarheidError`` (which the CLI
prints as one line), nothing else.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import BereikbaarheidError
from bereikbaarheid.sources import facilities, projection, scenario

FUZZ = hyp_settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# Field text without separators or line breaks, so that rows keep their width
# and the values themselves are what the readers meet.
_TEXT = st.text(string.ascii_letters + string.digits + " .-+_*\"'", max_size=8)
_ANY = st.one_of(
    _TEXT, st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e308", "-1", "-99997", "0x10"]))
# Per column: mostly values of the right kind (so rows get far into the
# reader), sometimes anything.
_COLUMNS = {
    "municipality_code": st.sampled_from(["*", "GM0400", "0400", "400", "GM9999", "gm0014"]),
    "year": st.one_of(st.integers(1990, 2110).map(str), st.sampled_from(["2040.0", "2_040"])),
    "age_band": st.sampled_from(["0_14", "15_24", "25_44", "45_64", "65_plus", "65_PLUS"]),
    "factor": st.one_of(st.floats(-1, 12).map(repr), st.sampled_from(["1.05", "105"])),
    "facility_id": st.sampled_from(["a", "b", "c", ""]),
    "type": st.sampled_from(["gp", "school", "supermarket", "GP", "Supermarkt", "pharmacy", ""]),
    "x": st.one_of(st.floats(-200_000, 800_000).map(repr), st.sampled_from(["5.3", "155000"])),
    "y": st.one_of(st.floats(-100_000, 900_000).map(repr), st.sampled_from(["52.1", "463000"])),
    "lon": st.floats(-200, 200).map(repr),
    "lat": st.floats(-100, 100).map(repr),
    "capacity": st.one_of(st.floats(-10, 60_000).map(repr), st.just("")),
    "fte": st.one_of(st.floats(-1, 50).map(repr), st.just("")),
}


def _mostly(usual: st.SearchStrategy, rare: st.SearchStrategy) -> st.SearchStrategy:
    """``usual`` 19 times in 20, else ``rare``."""
    return st.integers(0, 19).flatmap(lambda k: rare if k == 0 else usual)


def _csv(header: list[str]) -> st.SearchStrategy[str]:
    field = {c: _mostly(_COLUMNS[c], _ANY) for c in header}
    row = st.tuples(*(field[c] for c in header)).map(list)
    rows = st.lists(_mostly(row, st.lists(_ANY, max_size=len(header) + 1)), max_size=6)
    separator = st.sampled_from([",", ";", "\t"])
    return st.tuples(separator, rows).map(
        lambda t: "\n".join([t[0].join(header)] + [t[0].join(r) for r in t[1]]) + "\n")


def _reads_or_refuses(read, path) -> None:
    try:
        read(path)
    except BereikbaarheidError:
        pass


@FUZZ
@given(text=_csv(["municipality_code", "year", "age_band", "factor"]))
def test_projection_reader_never_crashes(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("p") / "p.csv"
    path.write_text(text, encoding="utf-8")
    _reads_or_refuses(projection.read_projection, path)


@FUZZ
@given(text=st.one_of(_csv(["facility_id", "type", "x", "y", "capacity", "fte"]),
                      _csv(["type", "lon", "lat", "capacity"])))
def test_facility_reader_never_crashes(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("f") / "f.csv"
    path.write_text(text, encoding="utf-8")
    _reads_or_refuses(lambda p: facilities.read_facilities(p, Settings()), path)


_TOML_VALUE = st.one_of(
    st.integers(-10**18, 10**18).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["nan", "inf", "-inf"]),
    st.booleans().map(lambda b: str(b).lower()),
    st.text(string.printable.replace("\\", "").replace('"', "").replace("\n", "")
            .replace("\r", "").replace("\x0b", "").replace("\x0c", ""),
            max_size=10).map(lambda t: f'"{t}"'),
    st.sampled_from(['"\\u0000"', '"gp"', '"Supermarkt"', '"p.csv"', "[]", "{}", "[1, 2]",
                     "2040", "0.333", "1e308"]),
)
_KEYS = ["facility_id", "type", "x", "y", "lon", "lat", "capacity", "fte", "name", "file",
         "year", "route_id", "factor", "description"]


@FUZZ
@given(tables=st.lists(st.tuples(
    st.sampled_from(["[[close]]", "[[add]]", "[[capacity]]", "[projection]", "[[frequency]]",
                     "[scenario]"]),
    st.lists(st.tuples(st.sampled_from(_KEYS), _TOML_VALUE), max_size=6,
             unique_by=lambda kv: kv[0])), max_size=4))
def test_scenario_reader_never_crashes(tmp_path_factory, tables):
    folder = tmp_path_factory.mktemp("s")
    (folder / "p.csv").write_text("municipality_code,year,age_band,factor\n*,2040,0_14,0.8\n")
    body = '[scenario]\nname = "fuzz"\n'
    for header, pairs in tables:
        if header == "[scenario]":
            continue
        body += header + "\n" + "".join(f"{k} = {v}\n" for k, v in pairs)
    path = folder / "s.toml"
    path.write_text(body, encoding="utf-8")
    _reads_or_refuses(scenario.read_scenario, path)
