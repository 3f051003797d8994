"""Bad variants of every input kind, for the mutation suite (test_mutations.py).

Each variant writes its own bad file into a folder of its own, next to the
good demo inputs it leaves alone, and returns the command line to run and
the file (or option) the error must name. A variant either must fail (exit 2
and one ``error:`` line naming the file) or may succeed with a warning;
``outcome`` says which is expected, so that a variant that stops failing, or
starts failing, is noticed.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

FAIL, WARN = "fails", "warns"

# Columns of the CBS grid that are whole counts of people or homes.
COUNT_COLUMNS = ("aantal_inwoners", "aantal_mannen", "aantal_vrouwen",
                 "aantal_inwoners_0_tot_15_jaar", "aantal_inwoners_15_tot_25_jaar",
                 "aantal_inwoners_25_tot_45_jaar", "aantal_inwoners_45_tot_65_jaar",
                 "aantal_inwoners_65_jaar_en_ouder", "aantal_woningen")


@dataclass
class Inputs:
    """The good inputs and what the variants need to know of them."""

    folder: Path          # the demo region (left alone)
    work: Path            # a folder per variant is made under it
    output: Path
    cache: Path
    grid: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame
    facilities_text: str
    projection_text: str
    gtfs: dict[str, bytes]


@dataclass
class Variant:
    kind: str
    name: str
    make: Callable[[Inputs, Path], tuple[list[str], str]]
    outcome: str = FAIL
    variant_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.variant_id = f"{self.kind}:{self.name}"


# -- the run configuration ------------------------------------------------------

def run_toml(inputs: Inputs, folder: Path, *, settings: str = "", inputs_extra: str = "",
             **files: Path | str) -> Path:
    """A run configuration of the good inputs, some replaced by ``files``;
    car only and no scope comparison (fast), one municipality."""
    paths = {"osm": inputs.folder / "demo.osm.pbf", "grid": inputs.folder / "grid_100m.gpkg",
             "municipalities": inputs.folder / "gemeenten.gpkg",
             "facilities": inputs.folder / "facilities.csv"}
    paths.update(files)
    lines = ['[region]', 'name = "demo"', 'municipalities = ["GM9901"]', "", "[inputs]"]
    lines += [f'{key} = "{value}"' for key, value in paths.items()]
    lines += [inputs_extra, "", "[output]", f'folder = "{inputs.output}"',
              f'cache = "{inputs.cache}"', "", "[settings]", 'modes = ["car"]',
              "compare_scopes = false", settings]
    path = folder / "run.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path: Path, *extra: str) -> list[str]:
    return ["run", str(path), *extra]


def config_variant(name: str, settings: str = "", inputs_extra: str = "",
                   raw: Callable[..., str] | None = None,
                   outcome: str = FAIL) -> Variant:
    """``raw(text)`` (or ``raw(text, inputs)``) rewrites the whole file;
    a lone surrogate stands for a byte that is not UTF-8."""
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        path = run_toml(inputs, folder, settings=settings, inputs_extra=inputs_extra)
        if raw is not None:
            text = path.read_text()
            text = raw(text, inputs) if raw.__code__.co_argcount == 2 else raw(text)
            path.write_bytes(text.encode("utf-8", "surrogateescape"))
        return _run(path), str(path)
    return Variant("config", name, make, outcome)


def set_variant(name: str, *overrides: str) -> Variant:
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        path = run_toml(inputs, folder)
        args = [arg for item in overrides for arg in ("--set", item)]
        return _run(path, *args), f"--set {overrides[-1]}"
    return Variant("option", name, make)


CONFIG_VARIANTS = [
    config_variant("speed as text", 'walk_speed_kmh = "5"'),
    config_variant("modes as text", raw=lambda t: t.replace('modes = ["car"]', 'modes = "car"')),
    config_variant("unknown mode", raw=lambda t: t.replace('modes = ["car"]',
                                                          'modes = ["car", "bus"]')),
    config_variant("clip as text", inputs_extra='clip = "no"'),
    config_variant("osm as a number", raw=lambda t: t.replace(
        t[t.index("osm = "):t.index("\n", t.index("osm = "))], "osm = 5")),
    config_variant("gtfs as a number", inputs_extra="gtfs = 5"),
    config_variant("a byte that is not UTF-8", raw=lambda t: t + "# caf\udce9\n"),
    config_variant("unknown output key", raw=lambda t: t.replace(
        "[output]\n", '[output]\nfolders = "elsewhere"\n')),
    config_variant("huge buffer", "area_buffer_m = 1e300"),
    config_variant("thresholds as a number", "thresholds_min = 15"),
    config_variant("thresholds decreasing", "thresholds_min = [30, 15]"),
    config_variant("negative speed", "bike_speed_kmh = -1"),
    config_variant("window backwards", 'pt_window = ["09:00", "07:00"]'),
    config_variant("date that does not exist", 'pt_date = "2026-02-30"'),
    config_variant("a type twice", 'facility_types = ["gp", "gp"]'),
    config_variant("zero norm", "norm_min = { gp = 0 }"),
    config_variant("unknown age band", 'demand_weights = { gp = { "70_plus" = 1.0 } }'),
    config_variant("negative demand weight", 'demand_weights = { gp = { "65_plus" = -1.0 } }'),
    config_variant("unknown decay", 'fca_decay = "cubic"'),
    config_variant("infinite link distance", "max_link_distance_m = inf"),
    config_variant("negative hierarchy size", "hierarchy_min_nodes = -1"),
    config_variant("geographic CRS", 'crs = "EPSG:4326"'),
    config_variant("unknown scope", 'facility_scope = "world"'),
    config_variant("a computed type ignored", 'ignore_facility_types = ["gp"]'),
    config_variant("unknown setting", "walk_speed = 4"),
    config_variant("pt without a date", raw=lambda t, i: t.replace(
        'modes = ["car"]', 'modes = ["car", "pt"]').replace(
        "[inputs]\n", f'[inputs]\ngtfs = "{i.folder / "gtfs.zip"}"\n')),
    config_variant("region name with a slash", raw=lambda t: t.replace(
        'name = "demo"', 'name = "../demo"')),
    config_variant("grid missing", raw=lambda t: "\n".join(
        line for line in t.splitlines() if not line.startswith("grid ="))),
    config_variant("not TOML", raw=lambda t: t.replace("[settings]", "[settings")),
    config_variant("empty", raw=lambda t: ""),
    config_variant("unknown table", raw=lambda t: t + "\n[extra]\nx = 1\n"),
    config_variant("inputs as a list", raw=lambda t: t.replace("[inputs]", "[[inputs]]")),
    config_variant("percentile not listed", "pt_time_percentile = 90"),
]

SET_VARIANTS = [
    set_variant("speed as a word", "bike_speed_kmh=fast"),
    set_variant("thresholds as a number", "thresholds_min=15"),
    set_variant("unknown key", "walk_speed=4"),
    set_variant("no key", "=5"),
    set_variant("modes as a word", "modes=car"),
    set_variant("scope as a number", "facility_scope=3"),
]


# -- the CBS grid ---------------------------------------------------------------

def _write_gpkg(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    frame.to_file(path, layer=layer, driver="GPKG")


def grid_variant(name: str, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame],
                 outcome: str = FAIL, crs: str | None = None) -> Variant:
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        frame = change(inputs.grid.copy())
        if crs is not None:
            frame = frame.set_crs(crs, allow_override=True)
        path = folder / "grid.gpkg"
        _write_gpkg(frame, path, "vierkant_100m")
        return _run(run_toml(inputs, folder, grid=path)), str(path)
    return Variant("grid", name, make, outcome)


def _set(column: str, value: float, rows=slice(1, 2)):
    def change(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        frame[column] = frame[column].astype(float)
        frame.loc[frame.index[rows], column] = value
        return frame
    return change


def _band_above_total(frame):
    i = frame.index[0]
    frame.loc[i, "aantal_inwoners_65_jaar_en_ouder"] = frame.loc[i, "aantal_inwoners"] + 100
    return frame


def _duplicate_id(frame):
    frame.loc[frame.index[5], "crs28992res100m"] = frame.loc[frame.index[4], "crs28992res100m"]
    return frame


def _malformed_id(frame):
    frame.loc[frame.index[7], "crs28992res100m"] = "X0400Y3700"
    return frame


def _moved_squares(frame):
    frame.loc[frame.index[3], "geometry"] = shapely.affinity.translate(
        frame.geometry.iloc[3], 50, 0)
    return frame


def _far_away(frame):
    """Every cell 150 km east, ids and squares alike: no cell in the region."""
    x0 = frame["crs28992res100m"].str[1:5].astype(int) + 1500
    frame["crs28992res100m"] = ("E" + x0.map("{:04d}".format)
                                + frame["crs28992res100m"].str[5:])
    frame["geometry"] = frame.geometry.translate(150_000, 0)
    return frame


GRID_VARIANTS = [
    *(grid_variant(f"{value:g} in {column}", _set(column, value))
      for column in COUNT_COLUMNS for value in (-5.0, 2.5)),
    grid_variant("an age band above the total", _band_above_total),
    grid_variant("a cell id twice", _duplicate_id),
    grid_variant("a malformed cell id", _malformed_id),
    grid_variant("a square away from its id", _moved_squares),
    grid_variant("no population column", lambda f: f.drop(columns="aantal_inwoners")),
    grid_variant("population as text", lambda f: f.assign(
        aantal_inwoners=f["aantal_inwoners"].astype(str))),
    grid_variant("no cells", lambda f: f.iloc[:0]),
    grid_variant("RD coordinates labelled WGS84", lambda f: f, crs="EPSG:4326"),
    grid_variant("nobody lives here", lambda f: f.assign(
        **{c: 0.0 for c in COUNT_COLUMNS[:-1]})),
    grid_variant("every value suppressed", lambda f: f.assign(
        **{c: -99997.0 for c in COUNT_COLUMNS})),
    grid_variant("the grid lies elsewhere", _far_away),
    grid_variant("some values suppressed", _set("aantal_inwoners", -99997.0, slice(0, 40)),
                 outcome=WARN),
]


def file_variant(kind: str, key: str, name: str, content: Callable[[Inputs], bytes] | None,
                 suffix: str, outcome: str = FAIL, folder_instead: bool = False) -> Variant:
    """An input replaced by other bytes (or by a folder)."""
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        path = folder / f"input{suffix}"
        if folder_instead:
            path.mkdir()
        else:
            path.write_bytes(content(inputs))
        return _run(run_toml(inputs, folder, **{key: path})), str(path)
    return Variant(kind, name, make, outcome)


def _broken_files(kind: str, key: str, suffix: str, original: Path) -> list[Variant]:
    return [
        file_variant(kind, key, "empty file", lambda i: b"", suffix),
        file_variant(kind, key, "text instead", lambda i: b"this is not it\n", suffix),
        file_variant(kind, key, "cut in half",
                     lambda i: (i.folder / original).read_bytes()[
                         :(i.folder / original).stat().st_size // 2], suffix),
        file_variant(kind, key, "a folder", None, suffix, folder_instead=True),
    ]


# -- municipality boundaries ----------------------------------------------------

def boundaries_variant(name: str, change, outcome: str = FAIL, crs: str | None = None,
                       drop_crs: bool = False) -> Variant:
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        frame = change(inputs.boundaries.copy())
        if crs is not None:
            frame = frame.set_crs(crs, allow_override=True)
        if drop_crs:
            path = folder / "gemeenten.geojson"
            frame.to_file(path, driver="GeoJSON")
            text = path.read_text()
            start = text.index('"crs"')
            end = text.index("},", text.index("}", start) + 1) + 2
            path.write_text(text[:start] + text[end:])
        else:
            path = folder / "gemeenten.gpkg"
            _write_gpkg(frame, path, "gemeenten")
        return _run(run_toml(inputs, folder, municipalities=path)), str(path)
    return Variant("boundaries", name, make, outcome)


def _code_twice(frame):
    frame.loc[frame.index[1], "gemeentecode"] = frame.loc[frame.index[0], "gemeentecode"]
    return frame


def _split_municipality(frame):
    """GM9901 as two rows of one name: its parts, merged with a warning."""
    first = frame.iloc[[0]].copy()
    box = shapely.box(*first.geometry.iloc[0].bounds)
    west = shapely.box(box.bounds[0], box.bounds[1], box.centroid.x, box.bounds[3])
    parts = pd.concat([first, first])
    parts["geometry"] = [first.geometry.iloc[0].intersection(west),
                         first.geometry.iloc[0].difference(west)]
    return gpd.GeoDataFrame(pd.concat([parts, frame.iloc[1:]]), crs=frame.crs)


BOUNDARY_VARIANTS = [
    boundaries_variant("a code twice, other names", _code_twice),
    boundaries_variant("a municipality in two rows", _split_municipality, outcome=WARN),
    boundaries_variant("a code that is not one", lambda f: f.assign(
        gemeentecode=["XX01", *f["gemeentecode"].iloc[1:]])),
    boundaries_variant("no geometry", lambda f: f.assign(
        geometry=[None, *f.geometry.iloc[1:]])),
    boundaries_variant("RD coordinates labelled WGS84", lambda f: f, crs="EPSG:4326"),
    boundaries_variant("no CRS", lambda f: f, drop_crs=True),
    boundaries_variant("no code column", lambda f: f.rename(
        columns={"gemeentecode": "something"})),
    boundaries_variant("the boundaries lie elsewhere", lambda f: f.assign(
        geometry=f.geometry.translate(0, -150_000))),
    *_broken_files("boundaries", "municipalities", ".gpkg", Path("gemeenten.gpkg")),
]


# -- facilities -----------------------------------------------------------------

def facilities_variant(name: str, change: Callable[[list[list[str]]], list[list[str]]],
                       outcome: str = FAIL, raw: Callable[[str], bytes] | None = None
                       ) -> Variant:
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        rows = [line.split(",") for line in inputs.facilities_text.splitlines()]
        text = "\n".join(",".join(r) for r in change(rows)) + "\n"
        path = folder / "facilities.csv"
        path.write_bytes(text.encode() if raw is None else raw(text))
        return _run(run_toml(inputs, folder, facilities=path)), str(path)
    return Variant("facilities", name, make, outcome)


def _cell(row: int, column: str, value: str):
    def change(rows: list[list[str]]) -> list[list[str]]:
        rows[row][rows[0].index(column)] = value
        return rows
    return change


def _first(rows: list[list[str]], kind: str) -> int:
    return next(i for i, r in enumerate(rows) if i and r[1] == kind)


def _at(kind: str, column: str, value: str):
    def change(rows):
        return _cell(_first(rows, kind), column, value)(rows)
    return change


FACILITY_VARIANTS = [
    facilities_variant("misspelt type", _cell(3, "type", "Supermarkt")),
    facilities_variant("a type not computed", _cell(3, "type", "pharmacy")),
    facilities_variant("huge capacity", _at("supermarket", "capacity", "1e308")),
    facilities_variant("capacity beyond a school", _at("school", "capacity", "90000")),
    facilities_variant("negative capacity", _cell(2, "capacity", "-1")),
    facilities_variant("capacity as a word", _cell(2, "capacity", "many")),
    facilities_variant("infinite capacity", _cell(2, "capacity", "inf")),
    facilities_variant("capacity nan", _cell(2, "capacity", "nan")),
    facilities_variant("a thousand FTE", _at("gp", "fte", "1000")),
    facilities_variant("negative FTE", _at("gp", "fte", "-2")),
    facilities_variant("an id twice", lambda r: r[:3] + [r[2]] + r[3:]),
    facilities_variant("an empty id", _cell(4, "facility_id", "")),
    facilities_variant("x as a word", _cell(5, "x", "west")),
    facilities_variant("y empty", _cell(5, "y", "")),
    facilities_variant("lon/lat given as x/y", lambda r: _cell(6, "y", "51.3")(
        _cell(6, "x", "3.7")(r))),
    facilities_variant("far outside the Netherlands", _cell(6, "x", "9000000")),
    facilities_variant("a line with a field too many", lambda r: r[:7] + [r[7] + ["x"]]
                       + r[8:]),
    facilities_variant("no type column", lambda r: [[c for j, c in enumerate(row)
                                                     if j != 1] for row in r]),
    facilities_variant("header only", lambda r: r[:1], outcome=WARN),
    facilities_variant("in the sea", _cell(6, "y", "376900"), outcome=WARN),
    facilities_variant("Latin-1 bytes", _cell(2, "name", "Caf\u00e9 de Zee"),
                       raw=lambda t: t.encode("latin-1"), outcome=WARN),
    *_broken_files("facilities", "facilities", ".csv", Path("facilities.csv"))[:1],
    file_variant("facilities", "facilities", "a folder", None, ".csv", folder_instead=True),
    file_variant("facilities", "facilities", "unknown suffix", lambda i: b"x", ".xlsx"),
]


# -- GTFS -----------------------------------------------------------------------

def gtfs_variant(name: str, change: Callable[[dict[str, bytes]], dict[str, bytes]],
                 outcome: str = FAIL, date: str = "2026-03-10",
                 window: tuple[str, str] = ("07:00", "07:20"),
                 raw: bytes | None = None) -> Variant:
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        path = folder / "gtfs.zip"
        if raw is not None:
            path.write_bytes(raw)
        else:
            files = change(dict(inputs.gtfs))
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                for file_name, data in files.items():
                    z.writestr(file_name, data)
            path.write_bytes(buffer.getvalue())
        settings = (f'modes = ["car", "pt"]\npt_date = "{date}"\n'
                    f'pt_window = ["{window[0]}", "{window[1]}"]')
        config = run_toml(inputs, folder, gtfs=path)
        text = config.read_text().replace('modes = ["car"]', settings)
        config.write_text(text)
        return _run(config), str(path)
    return Variant("gtfs", name, make, outcome)


def _replace_in(file_name: str, old: bytes, new: bytes, count: int = 1):
    def change(files):
        assert old in files[file_name], (file_name, old)
        files[file_name] = files[file_name].replace(old, new, count)
        return files
    return change


def _line(file_name: str, number: int, new: bytes):
    def change(files):
        lines = files[file_name].split(b"\n")
        lines[number - 1] = new
        files[file_name] = b"\n".join(lines)
        return files
    return change


GTFS_VARIANTS = [
    gtfs_variant("a Latin-1 stop name", _replace_in(
        "stops.txt", b"Busstation", "Busstation caf\u00e9".encode("latin-1")), outcome=WARN),
    gtfs_variant("an empty calendar", lambda f: {**f, "calendar.txt": b""}),
    gtfs_variant("no stops", lambda f: {k: v for k, v in f.items() if k != "stops.txt"}),
    gtfs_variant("a time that is not one", _line("stop_times.txt", 2,
                                                 b"bus_50_WD_0_060000,06:61:00,06:61:00,"
                                                 b"bus_96_88_e,1")),
    gtfs_variant("a field too many", _line("stop_times.txt", 3,
                                           b"bus_50_WD_0_060000,06:01:00,06:01:00,"
                                           b"bus_100_88_e,2,x,y")),
    gtfs_variant("latitude as a word", _line("stops.txt", 2,
                                             b'bus_96_88_e,"Oosterzande, Busstation",north,'
                                             b'3.73,,,')),
    gtfs_variant("stop times header only", lambda f: {
        **f, "stop_times.txt": f["stop_times.txt"].split(b"\n")[0] + b"\n"}),
    gtfs_variant("not a zip", None, raw=b"PK\x03\x04 this is not a zip archive"),
    gtfs_variant("empty zip file", None, raw=b""),
    gtfs_variant("a date outside the feed", lambda f: f, date="2030-06-04"),
    gtfs_variant("the day after the feed's last day", lambda f: f, date="2027-01-01",
                 window=("00:00", "00:30"), outcome=WARN),
    gtfs_variant("an unterminated quote", _line("stops.txt", 3,
                                                b'bus_100_88_e,"Oosterzande, Korenbloemstraat,'
                                                b'51.29,3.73,,,')),
]


# -- scenarios and projections --------------------------------------------------

def scenario_variant(name: str, scenario: str, outcome: str = FAIL,
                     projection: Callable[[str], str] | None = None,
                     names_projection: bool = False, names: str | None = None) -> Variant:
    """A scenario file (and projection); the error names the scenario, the
    projection with ``names_projection``, or the file ``names`` beside them."""
    def make(inputs: Inputs, folder: Path) -> tuple[list[str], str]:
        config = run_toml(inputs, folder)
        path = folder / "scenario.toml"
        text = scenario
        if projection is not None:
            csv = folder / "projection.csv"
            csv.write_text(projection(inputs.projection_text))
            text = text.replace("PROJECTION", str(csv))
        path.write_text(text)
        named = folder / (names or ("projection.csv" if names_projection else path.name))
        return ["scenario", str(config), str(path), "--output", str(inputs.output),
                "--cache", str(inputs.cache)], str(named)
    return Variant("scenario" if not names_projection else "projection", name, make, outcome)


HEAD = '[scenario]\nname = "what-if"\ndescription = "a test"\n'
ADD = HEAD + ('[[add]]\nfacility_id = "new:1"\ntype = "{type}"\nx = {x}\ny = {y}\n'
              'capacity = {capacity}\n')
PROJECTED = HEAD + '[projection]\nfile = "PROJECTION"\nyear = 2040\n'


def projection_variant(name: str, change: Callable[[str], str]) -> Variant:
    return scenario_variant(name, PROJECTED, projection=change, names_projection=True)


SCENARIO_VARIANTS = [
    scenario_variant("close an unknown facility", HEAD + '[[close]]\nfacility_id = "nope"\n'),
    scenario_variant("add a misspelt type", ADD.format(type="supermarkt", x=39700, y=369300,
                                                       capacity=1000)),
    scenario_variant("add a huge capacity", ADD.format(type="school", x=39700, y=369300,
                                                       capacity="1e308")),
    scenario_variant("add with x as text", ADD.format(type="school", x='"west"', y=369300,
                                                      capacity=200)),
    scenario_variant("add in the sea", ADD.format(type="school", x=39700, y=376900,
                                                  capacity=200), outcome=WARN),
    scenario_variant("not TOML", HEAD + "[[close]\n"),
    scenario_variant("unknown table", HEAD + "[[demolish]]\nfacility_id = \"x\"\n"),
    scenario_variant("no scenario table", '[[close]]\nfacility_id = "osm:w1454"\n'),
    scenario_variant("frequency factor zero", HEAD + '[[frequency]]\nroute_id = "bus_52"\n'
                                                     "factor = 0\n"),
    scenario_variant("name with a slash", HEAD.replace('"what-if"', '"../x"')
                     + '[[close]]\nfacility_id = "osm:w1454"\n'),
    scenario_variant("projection without a year", HEAD + '[projection]\nfile = "x.csv"\n'),
    scenario_variant("projection file missing", HEAD + '[projection]\nfile = "none.csv"\n'
                                                       "year = 2040\n", names="none.csv"),
]

PROJECTION_VARIANTS = [
    projection_variant("negative factor", lambda t: t.replace("0.925", "-0.925", 1)),
    projection_variant("a percentage", lambda t: t.replace("0.925", "92.5", 1)),
    projection_variant("unknown age band", lambda t: t.replace("0_14", "0_12", 1)),
    projection_variant("a municipality not in the boundaries",
                       lambda t: t + "GM0001,2040,0_14,1.0\n"),
    projection_variant("a malformed municipality code", lambda t: t + "GMX1,2040,0_14,1.0\n"),
    projection_variant("year 1800", lambda t: t.replace("2030", "1800", 1)),
    projection_variant("factor as a word", lambda t: t.replace("0.925", "less", 1)),
    projection_variant("no factor column", lambda t: "\n".join(
        ",".join(line.split(",")[:3]) for line in t.splitlines()) + "\n"),
    projection_variant("empty", lambda t: ""),
    projection_variant("a row twice", lambda t: t + t.splitlines()[1] + "\n"),
]


# -- OpenStreetMap ----------------------------------------------------------------

OSM_VARIANTS = _broken_files("osm", "osm", ".osm.pbf", Path("demo.osm.pbf"))

VARIANTS: list[Variant] = [*CONFIG_VARIANTS, *SET_VARIANTS, *GRID_VARIANTS,
                           *BOUNDARY_VARIANTS, *FACILITY_VARIANTS, *GTFS_VARIANTS,
                           *SCENARIO_VARIANTS, *PROJECTION_VARIANTS, *OSM_VARIANTS]


def load_inputs(folder: Path, work: Path) -> Inputs:
    """The good demo inputs, read once."""
    with zipfile.ZipFile(folder / "gtfs.zip") as z:
        gtfs = {name: z.read(name) for name in z.namelist()}
    grid = gpd.read_file(folder / "grid_100m.gpkg")
    boundaries = gpd.read_file(folder / "gemeenten.gpkg")
    # The populated cells of the run's municipality first, so that a variant
    # changing the first rows changes cells the run reads.
    region = boundaries.loc[boundaries["gemeentecode"] == "GM9901"].geometry.iloc[0]
    used = shapely.contains(region, grid.geometry.centroid.to_numpy()) & (
        grid["aantal_inwoners"].to_numpy() > 50)
    grid = pd.concat([grid.loc[used], grid.loc[~used]]).reset_index(drop=True)
    return Inputs(folder=folder, work=work, output=work / "profiles", cache=work / "cache",
                  grid=gpd.GeoDataFrame(grid, crs=boundaries.crs),
                  boundaries=boundaries,
                  facilities_text=(folder / "facilities.csv").read_text(),
                  projection_text=(folder / "projection.csv").read_text(),
                  gtfs=gtfs)


def leftovers(*folders: Path) -> list[str]:
    """Temporary files or set-aside profiles left in ``folders``."""
    return sorted(p.name for folder in folders if folder.is_dir()
                  for p in folder.iterdir()
                  if p.name.endswith(".tmp") or ".old-" in p.name)

