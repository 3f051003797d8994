"""Scenario files: what they hold, each kind of mistake, and the shipped examples."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from bereikbaarheid.errors import ConfigError, InputError
from bereikbaarheid.sources import projection, scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"
PROJECTION_CSV = "municipality_code,year,age_band,factor\n*,2040,65_plus,1.3\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read(tmp_path, body: str, name: str = "ok") -> scenario.Scenario:
    return scenario.read_scenario(write(tmp_path / "s.toml", f'[scenario]\nname = "{name}"\n'
                                                             + body))


def test_a_scenario_with_every_kind_of_change(tmp_path):
    (tmp_path / "data").mkdir()
    write(tmp_path / "data" / "proj.csv", PROJECTION_CSV)
    s = scenario.read_scenario(write(tmp_path / "s.toml", """
[scenario]
name = "all-in_1.0"
description = "everything at once"

[[close]]
facility_id = "osm:n1"

[[close]]
facility_id = "osm:w2"

[[add]]
facility_id = "new-gp"
type = "GP"
x = 155000
y = 463000.5
fte = 2.5
name = "Gezondheidscentrum"

[[add]]
facility_id = "new-school"
type = "school"
lon = 5.387206
lat = 52.155174
capacity = 250

[[capacity]]
facility_id = "osm:n3"
fte = 3

[[capacity]]
facility_id = "osm:n4"
capacity = 800

[projection]
file = "data/proj.csv"
year = 2040

[[frequency]]
route_id = "bus_52"
factor = 2
"""))
    assert s.name == "all-in_1.0" and s.description == "everything at once"
    assert s.close == ("osm:n1", "osm:w2")
    gp, school = s.add
    assert gp == scenario.AddedFacility("new-gp", "gp", 155000.0, 463000.5, None, 2.5,
                                        "Gezondheidscentrum")
    # Amersfoort, the origin of RD, to within the 1-2 m of a grid-free transformation.
    assert abs(school.x - 155000) < 2 and abs(school.y - 463000) < 2
    assert school.capacity == 250.0 and school.fte is None and school.name is None
    assert s.capacity == (scenario.CapacityChange("osm:n3", None, 3.0),
                          scenario.CapacityChange("osm:n4", 800.0, None))
    assert s.projection.year == 2040
    assert s.projection.file == (tmp_path / "data" / "proj.csv").resolve()
    assert isinstance(s.projection.projection, projection.Projection)
    assert s.frequency == (scenario.FrequencyChange("bus_52", 2.0),)
    assert s.changes_summary() == [
        "close facility osm:n1",
        "close facility osm:w2",
        "add gp new-gp (Gezondheidscentrum) at x 155000, y 463000 (EPSG:28992), 2.5 FTE",
        (f"add school new-school at x {school.x:.0f}, y {school.y:.0f} (EPSG:28992), "
         "250 pupils"),
        "set the capacity of osm:n3 to 3 FTE",
        "set the capacity of osm:n4 to 800",
        "population projected to 2040 (proj.csv)",
        "route bus_52: trips run 2 times as often",
    ]


def test_a_scenario_may_change_nothing(tmp_path):
    s = read(tmp_path, "")
    assert (s.close, s.add, s.capacity, s.projection, s.frequency) == ((), (), (), None, ())
    assert s.description == "" and s.changes_summary() == []


def test_an_added_facility_without_capacity_says_so(tmp_path):
    s = read(tmp_path, '[[add]]\nfacility_id = "n"\ntype = "supermarket"\nx = 1\ny = 400000\n')
    assert s.changes_summary() == [("add supermarket n at x 1, y 400000 (EPSG:28992), "
                                    "default capacity")]


def test_scenarios_are_frozen(tmp_path):
    s = read(tmp_path, "")
    with pytest.raises(AttributeError):
        s.name = "other"


BAD = [
    # (body, name, what the message must hold)
    ("", "../up", "scenario.name"),
    ("", "with space", "cannot name a folder"),
    ("", "", "scenario.name"),
    ("[extra]\na = 1\n", "ok", "extra: unknown key"),
    ("[[close]]\nfacility_id = \"a\"\nreason = \"old\"\n", "ok", "close[1].reason: unknown key"),
    ("[[close]]\n", "ok", "close[1].facility_id: missing"),
    ("[[close]]\nfacility_id = 12\n", "ok", "close[1].facility_id: expected a non-empty string"),
    ("close = \"a\"\n", "ok", "scenario.close: unknown key"),
    ("[[close]]\nfacility_id = \"a\"\n[[close]]\nfacility_id = \"a\"\n", "ok",
     "close[2].facility_id: 'a' appears twice"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"pharmacy\"\nx = 1\ny = 400000\n", "ok",
     "add[1].type: unknown type 'pharmacy'"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\n", "ok", "add[1]: give x and y"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nx = 1\ny = 400000\nlon = 4\nlat = 51\n",
     "ok", "add[1]: give x and y"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nx = 4.1\ny = 51.3\n", "ok",
     "add[1].x: (4.1, 51.3) lies far from the Netherlands"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nx = \"1\"\ny = 400000\n", "ok",
     "add[1].x: expected a number"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nlon = 400\nlat = 51\n", "ok",
     "add[1].lon: (400, 51) is not a WGS84 position"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"school\"\nx = 1\ny = 400000\nfte = 2\n", "ok",
     "add[1].fte: FTE is for GP practices only"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"school\"\nx = 1\ny = 400000\ncapacity = -5\n",
     "ok", "add[1].capacity: expected a number >= 0"),
    (("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nx = 1\ny = 400000\n"
      "[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nx = 2\ny = 400000\n"), "ok",
     "add[2].facility_id: 'n' appears twice"),
    (("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nx = 1\ny = 400000\n"
      "[[close]]\nfacility_id = \"n\"\n"), "ok", "close[1].facility_id: 'n' is added"),
    ("[[capacity]]\nfacility_id = \"a\"\n", "ok", "capacity[1]: give capacity or fte"),
    ("[[capacity]]\nfacility_id = \"a\"\ncapacity = 1\nfte = 1\n", "ok",
     "capacity[1]: give capacity or fte"),
    ("[[capacity]]\nfacility_id = \"a\"\ncapacity = true\n", "ok",
     "capacity[1].capacity: expected a number >= 0"),
    ("[[capacity]]\nfacility_id = \"a\"\ncapacity = 1\n[[close]]\nfacility_id = \"a\"\n", "ok",
     "capacity[1].facility_id: 'a' is also closed"),
    ("[[frequency]]\nroute_id = \"r\"\nfactor = 0\n", "ok",
     "frequency[1].factor: expected a number > 0"),
    ("[[frequency]]\nroute_id = \"r\"\n", "ok", "frequency[1].factor: missing"),
    ("[[frequency]]\nroute_id = \"r\"\nfactor = 2\n[[frequency]]\nroute_id = \"r\"\nfactor = 3\n",
     "ok", "frequency[2].route_id: 'r' appears twice"),
    ("[projection]\nfile = \"p.csv\"\nyear = 2035\n", "ok", "projection.year: 2035 is not in"),
    ("[projection]\nfile = \"p.csv\"\nyear = \"2040\"\n", "ok",
     "projection.year: expected a whole year"),
    ("[projection]\nfile = \"p.csv\"\nyear = 2040\nscale = 1\n", "ok",
     "projection.scale: unknown key"),
    ("[projection]\nfile = \"p\\u0000.csv\"\nyear = 2040\n", "ok",
     "projection.file: 'p\\x00.csv' is not a file name"),
    # unknown types with the closest known one; implausible sizes; far positions
    ("[[add]]\nfacility_id = \"n\"\ntype = \"Supermarkt\"\nx = 1\ny = 400000\n", "ok",
     ("add[1].type: unknown type 'Supermarkt' (did you mean 'supermarket'?); expected one of "
      "['gp', 'school', 'supermarket']")),
    (("[[add]]\nfacility_id = \"n\"\ntype = \"supermarket\"\nx = 1\ny = 400000\n"
      "capacity = 1e308\n"), "ok", ("add[1].capacity: 1e+308 is outside 0–20,000 m2 for a "
                                     "supermarket")),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"school\"\nx = 1\ny = 400000\ncapacity = 3001\n",
     "ok", "add[1].capacity: 3001 is outside 0–3,000 pupils for a school"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nx = 1\ny = 400000\nfte = 41\n", "ok",
     "add[1].fte: 41 is outside 0–40 FTE for a GP practice"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nlon = 0\nlat = 0\n", "ok",
     "add[1].lon: (0, 0) lies far from the Netherlands"),
    ("[[add]]\nfacility_id = \"n\"\ntype = \"gp\"\nlon = 52.1\nlat = 5.4\n", "ok",
     "add[1].lon: (52.1, 5.4) lies far from the Netherlands; are lon and lat swapped?"),
    ("[[capacity]]\nfacility_id = \"a\"\ncapacity = 60000\n", "ok",
     ("capacity[1].capacity: 60000 is more than any facility holds; expected a value within its "
      "type's range (gp 0–50,000 patients, school 0–3,000 pupils, supermarket 0–20,000 m2)")),
    ("[[capacity]]\nfacility_id = \"a\"\nfte = 41\n", "ok",
     "capacity[1].fte: 41 is more than any facility holds"),
    ("[[frequency]]\nroute_id = \"r\"\nfactor = 1.3\n", "ok",
     "frequency[1].factor: 1.3 cannot be applied (it would act as 1)"),
    ("[[frequency]]\nroute_id = \"r\"\nfactor = 2.5\n", "ok",
     "frequency[1].factor: 2.5 cannot be applied (it would act as 2)"),
    ("[[frequency]]\nroute_id = \"r\"\nfactor = 0.8\n", "ok",
     "frequency[1].factor: 0.8 cannot be applied (it would act as 1)"),
    ("[[frequency]]\nroute_id = \"r\"\nfactor = 13\n", "ok",
     "frequency[1].factor: 13 is above 12"),
    ("", "baseline", "scenario.name: 'baseline' names the profile a scenario is compared with"),
]


@pytest.mark.parametrize("body,name,problem", BAD)
def test_each_mistake_names_the_file_and_the_key(tmp_path, body, name, problem):
    write(tmp_path / "p.csv", PROJECTION_CSV)
    with pytest.raises(ConfigError) as info:
        read(tmp_path, body, name)
    message = str(info.value)
    assert message.startswith(str(tmp_path / "s.toml")), message
    assert problem in message, message


@pytest.mark.parametrize("factor", [1, 2, 3, 12, 0.5, 0.333, 0.25, 0.1])
def test_frequency_factors_that_can_be_applied(tmp_path, factor):
    s = read(tmp_path, f'[[frequency]]\nroute_id = "r"\nfactor = {factor}\n')
    assert s.frequency[0].factor == factor


def test_sizes_at_the_bounds_are_accepted(tmp_path):
    s = read(tmp_path, '[[add]]\nfacility_id = "m"\ntype = "supermarket"\nx = 1\ny = 400000\n'
                       'capacity = 20000\n[[add]]\nfacility_id = "g"\ntype = "gp"\nx = 1\n'
                       'y = 400000\nfte = 40\ncapacity = 0\n'
                       '[[capacity]]\nfacility_id = "a"\ncapacity = 50000\n')
    assert [a.capacity for a in s.add] == [20000.0, 0.0] and s.capacity[0].capacity == 50000.0


@pytest.mark.parametrize("lon, lat, problem", [
    (180, 52, "(180, 52) lies far from the Netherlands"),
    (-180, 52, "(-180, 52) lies far from the Netherlands"),
    (5, 90, "(5, 90) lies far from the Netherlands"),
    (5, -90, "(5, -90) lies far from the Netherlands"),
    (180.5, 52, "(180.5, 52) is not a WGS84 position"),
    (-180.5, 52, "(-180.5, 52) is not a WGS84 position"),
    (5, 90.5, "(5, 90.5) is not a WGS84 position"),
    (5, -90.5, "(5, -90.5) is not a WGS84 position"),
])
def test_the_edges_of_wgs84_are_positions_and_beyond_them_is_none(tmp_path, lon, lat,
                                                                   problem):
    with pytest.raises(ConfigError) as info:
        read(tmp_path, f'[[add]]\nfacility_id = "n"\ntype = "gp"\nlon = {lon}\nlat = {lat}\n')
    assert str(info.value) == f"{tmp_path / 's.toml'}: add[1].lon: {problem}"


def test_an_added_facility_in_rd_or_in_lonlat_lands_on_the_same_spot(tmp_path):
    # The tower of Amersfoort, the origin of RD New: (155 000, 463 000), in
    # WGS84 lon 5.387206, lat 52.155174.
    s = read(tmp_path, '[[add]]\nfacility_id = "rd"\ntype = "gp"\nx = 155000\ny = 463000\n'
                       '[[add]]\nfacility_id = "ll"\ntype = "gp"\nlon = 5.387206\n'
                       'lat = 52.155174\n')
    rd, ll = s.add
    assert (rd.x, rd.y) == (155000.0, 463000.0)
    assert ll.x == pytest.approx(155000, abs=2) and ll.y == pytest.approx(463000, abs=2)


def test_the_scenario_table_is_required(tmp_path):
    with pytest.raises(ConfigError, match=r"scenario: missing"):
        scenario.read_scenario(write(tmp_path / "s.toml", '[[close]]\nfacility_id = "a"\n'))


def test_a_kind_of_change_must_be_an_array_of_tables(tmp_path):
    path = write(tmp_path / "s.toml", 'close = "a"\n[scenario]\nname = "ok"\n')
    with pytest.raises(ConfigError, match="close: expected an array of tables"):
        scenario.read_scenario(path)


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        scenario.read_scenario(tmp_path / "none.toml")
    with pytest.raises(InputError, match="not valid TOML"):
        scenario.read_scenario(write(tmp_path / "bad.toml", "[scenario\n"))
    with pytest.raises(InputError, match=re.escape("projection.file of")):
        read(tmp_path, '[projection]\nfile = "nowhere.csv"\nyear = 2040\n')


# -- the shipped examples ------------------------------------------------------------

@pytest.fixture(scope="module")
def examples(demo_region, tmp_path_factory) -> dict[str, scenario.Scenario]:
    """The example scenarios read where they expect the demo: demo_region/ beside examples/."""
    root = tmp_path_factory.mktemp("clone")
    shutil.copytree(EXAMPLES, root / "examples" / "scenarios")
    (root / "demo_region").symlink_to(demo_region.folder, target_is_directory=True)
    return {p.stem: scenario.read_scenario(p)
            for p in sorted((root / "examples" / "scenarios").glob("*.toml"))}


def test_the_examples_are_the_four_documented_ones(examples):
    assert sorted(examples) == ["ageing-2040", "bus-doubled", "close-village-gp", "new-school"]
    for stem, s in examples.items():
        assert s.name == stem and s.description and s.changes_summary()


def test_the_example_ids_exist_in_the_demo(examples, demo_region):
    facilities = pd.read_csv(demo_region.facilities_csv).set_index("facility_id")
    (closed,) = examples["close-village-gp"].close
    assert facilities.loc[closed, "type"] == "gp"
    (school,) = examples["new-school"].add
    assert school.type == "school" and school.capacity == 250
    assert school.facility_id not in facilities.index
    with zipfile.ZipFile(demo_region.gtfs) as z, z.open("routes.txt") as f:
        route_ids = set(pd.read_csv(f)["route_id"])
    (change,) = examples["bus-doubled"].frequency
    assert change.route_id in route_ids and change.factor == 2
    ageing = examples["ageing-2040"].projection
    assert ageing.year == 2040 and ageing.file.name == "projection.csv"
