"""Facility reader: CSV (x/y or lon/lat), GeoPackage/GeoJSON, and its errors."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely import affinity
from hypothesis import given, settings as hyp_settings, strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import ConfigError, InputError
from bereikbaarheid.sources import facilities

SETTINGS = Settings()


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# -- CSV ----------------------------------------------------------------------

def test_csv_with_rd_coordinates(tmp_path):
    path = write(tmp_path / "fac.csv", (
        "facility_id,type,name,x,y,capacity\n"
        "s2,school,De Klimop,156000,463000,210\n"
        "g1,gp,Huisarts Jansen,155000.5,463000.25,2.5\n"
        "s1,school,,157000,464000,\n"
    ))
    out = facilities.read_facilities(path, SETTINGS)
    assert list(out.columns) == ["facility_id", "type", "name", "capacity", "fte", "source",
                                 "geometry"]
    assert out["facility_id"].tolist() == ["g1", "s1", "s2"]  # sorted by type, then id
    assert out["type"].tolist() == ["gp", "school", "school"]
    assert out["name"].tolist() == ["Huisarts Jansen", None, "De Klimop"]
    assert out["capacity"].dtype == np.float64
    assert out["capacity"].iloc[0] == 2.5 and np.isnan(out["capacity"].iloc[1])
    assert out["source"].tolist() == ["fac.csv"] * 3
    assert out.crs.to_epsg() == 28992
    assert out.geometry.iloc[0].equals(shapely.Point(155000.5, 463000.25))


def test_csv_with_lon_lat_is_projected(tmp_path):
    path = write(tmp_path / "fac.csv", "type,lon,lat\nsupermarket,5.387206,52.155174\n")
    out = facilities.read_facilities(path, SETTINGS)
    # Amersfoort, the origin of RD: (155000, 463000), within the ~1 m of a
    # WGS84 -> RD transformation without the correction grid
    point = out.geometry.iloc[0]
    assert abs(point.x - 155000) < 2 and abs(point.y - 463000) < 2


def test_csv_without_ids_numbers_rows_and_keeps_them_after_type_filter(tmp_path):
    path = write(tmp_path / "fac.csv", (
        "type,x,y\n"
        "supermarket,155000,463000\n"
        "gp,155100,463000\n"
        "pharmacy,155200,463000\n"
        "gp,155300,463000\n"
    ))
    out = facilities.read_facilities(path, Settings(ignore_facility_types=("pharmacy",)),
                                     types=["gp"])
    assert out["facility_id"].tolist() == ["row2", "row4"]
    assert out["type"].tolist() == ["gp", "gp"]


def test_csv_semicolon_with_decimal_comma_and_header_case(tmp_path):
    path = write(tmp_path / "fac.csv", "Facility_ID;Type;X;Y;Capacity\na;GP;155000,5;463000,0;1,5\n")
    out = facilities.read_facilities(path, SETTINGS)
    assert out["type"].tolist() == ["gp"]
    assert out["capacity"].tolist() == [1.5]
    assert out.geometry.iloc[0].equals(shapely.Point(155000.5, 463000.0))


def test_csv_in_another_crs(tmp_path):
    # ETRS89 / UTM 31N coordinates of a point in the Netherlands
    to_utm = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:25831", always_xy=True)
    x, y = to_utm.transform(155000.0, 463000.0)
    path = write(tmp_path / "fac.csv", f"type,x,y\ngp,{x},{y}\n")
    out = facilities.read_facilities(path, SETTINGS, crs="EPSG:25831")
    point = out.geometry.iloc[0]
    assert abs(point.x - 155000) < 0.01 and abs(point.y - 463000) < 0.01


@hyp_settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["gp", "school", "supermarket"]),
                          st.integers(0, 280_000), st.integers(300_000, 620_000)),
                min_size=0, max_size=12))
def test_csv_round_trip_property(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("prop") / "fac.csv"
    lines = ["facility_id,type,x,y"] + [f"f{i},{t},{x},{y}" for i, (t, x, y) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    out = facilities.read_facilities(path, SETTINGS)
    expected = sorted((t, f"f{i}", float(x), float(y)) for i, (t, x, y) in enumerate(rows))
    got = list(zip(out["type"], out["facility_id"], out.geometry.x, out.geometry.y))
    assert got == expected


# -- GeoPackage / GeoJSON ----------------------------------------------------------

def test_geopackage_polygons_become_points_inside_them(tmp_path):
    # a U-shaped building: its centroid lies outside it, a representative point inside
    u_shape = shapely.Polygon([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10),
                               (10, 30), (0, 30)])
    u_shape = affinity.translate(u_shape, 155000, 463000)
    frame = gpd.GeoDataFrame(
        {"facility_id": ["b", "a"], "type": ["school", "gp"], "name": ["X", None],
         "capacity": [120.0, None]},
        geometry=[u_shape, shapely.Point(156000, 463000)], crs="EPSG:28992",
    )
    path = tmp_path / "fac.gpkg"
    frame.to_file(path, driver="GPKG")
    out = facilities.read_facilities(path, SETTINGS)
    assert out["facility_id"].tolist() == ["a", "b"]
    assert out.geometry.geom_type.tolist() == ["Point", "Point"]
    assert u_shape.contains(out.geometry.iloc[1])
    assert np.isnan(out["capacity"].iloc[0]) and out["capacity"].iloc[1] == 120.0
    assert out["name"].tolist() == [None, "X"]


def test_geojson_in_wgs84_is_reprojected(tmp_path):
    frame = gpd.GeoDataFrame({"type": ["gp"], "facility_id": [7]},
                             geometry=[shapely.Point(5.387206, 52.155174)], crs="EPSG:4326")
    path = tmp_path / "fac.geojson"
    frame.to_file(path, driver="GeoJSON")
    out = facilities.read_facilities(path, SETTINGS)
    assert out["facility_id"].tolist() == ["7"]
    assert abs(out.geometry.iloc[0].x - 155000) < 2


def test_geopackage_line_geometry_is_refused(tmp_path):
    frame = gpd.GeoDataFrame({"type": ["gp", "gp"]},
                             geometry=[shapely.Point(155000, 463000),
                                       shapely.LineString([(155000, 463000), (155100, 463000)])],
                             crs="EPSG:28992")
    path = tmp_path / "fac.gpkg"
    frame.to_file(path, driver="GPKG")
    with pytest.raises(InputError, match=r"fac\.gpkg: row 2: geometry is a LineString"):
        facilities.read_facilities(path, SETTINGS)


def test_geopackage_without_type_column(tmp_path):
    frame = gpd.GeoDataFrame({"kind": ["gp"]}, geometry=[shapely.Point(155000, 463000)],
                             crs="EPSG:28992")
    path = tmp_path / "fac.gpkg"
    frame.to_file(path, driver="GPKG")
    with pytest.raises(InputError, match=r"missing column\(s\) \['type'\]; found \['kind'\]"):
        facilities.read_facilities(path, SETTINGS)


# -- errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("type,x,y\ngp,155000,463000\ngp,abc,463000\n",
     "line 3: field 'x': 'abc' is not a number"),
    ("type,x,y\ngp,155000,\n", "line 2: field 'y' is empty"),
    ("type,x\ngp,155000\n", "missing column(s) ['y']"),
    ("type,name\ngp,a\n", "no coordinate columns; expected x,y"),
    ("name,x,y\na,155000,463000\n", "missing column(s) ['type']"),
    ("type,x,y\ngp,155000,463000\npharmacy,155000,463000\n",
     "line 3: field 'type': unknown facility type 'pharmacy'; "
     "expected one of ['gp', 'school', 'supermarket']"),
    ("facility_id,type,x,y\na,gp,155000,463000\nb,gp,155000,463000\na,school,155000,463000\n",
     "line 4: field 'facility_id': duplicate id 'a' (also on line 2)"),
    ("type,x,y,capacity\ngp,155000,463000,-1\n", "line 2: field 'capacity': -1 is negative"),
    ("type,x,y,capacity\ngp,155000,463000,many\n",
     "line 2: field 'capacity': 'many' is not a number"),
    ("type,x,y\ngp,5.387,52.155\n",
     "line 2: x/y (5.387, 52.155) lies far outside the area of use of EPSG:28992"),
    ("type,lon,lat\ngp,52.155,5.387\n", "are lon and lat swapped?"),
    ("type,lon,lat\ngp,200,52\n", "line 2: lon/lat (200.0, 52.0) is not a WGS84 position"),
    ("type,x,y\ngp,155000,463000,extra\n", "line 2: 4 fields; the header has 3"),
])
def test_csv_errors_name_file_line_and_field(tmp_path, text, expected):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(InputError) as excinfo:
        facilities.read_facilities(path, SETTINGS)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_lon_lat_given_as_rd_says_so(tmp_path):
    path = write(tmp_path / "bad.csv", "type,x,y\ngp,5.387,52.155\n")
    with pytest.raises(InputError, match="looks like longitude/latitude; set crs or use "
                                         "lon/lat columns"):
        facilities.read_facilities(path, SETTINGS)


def test_line_numbers_count_blank_lines(tmp_path):
    path = write(tmp_path / "bad.csv", "type,x,y\ngp,155000,463000\n\ngp,x,463000\n")
    with pytest.raises(InputError, match="line 4: field 'x'"):
        facilities.read_facilities(path, SETTINGS)


def test_rows_of_other_known_types_are_not_checked_when_left_out(tmp_path, caplog):
    path = write(tmp_path / "fac.csv", "type,x,y,capacity\ngp,155000,463000,\n"
                                       "pharmacy,oops,,\nschool,,,1e9\nPharmacy,,,\n")
    settings = Settings(ignore_facility_types=("pharmacy",))
    with caplog.at_level("INFO", logger="bereikbaarheid.sources.facilities"):
        out = facilities.read_facilities(path, settings, types=["gp"])
    assert out["type"].tolist() == ["gp"]
    assert caplog.messages == ["fac.csv: left out 3 facilities of types not analysed: "
                               "pharmacy (2), school (1)"]
    # Without types=, every type of settings.facility_types is kept.
    out = facilities.read_facilities(
        write(tmp_path / "ok.csv", "type,x,y\ngp,155000,463000\npharmacy,,\n"
                                   "school,155000,463000\n"), settings)
    assert out["type"].tolist() == ["gp", "school"]


def test_a_built_in_type_that_is_not_analysed_is_left_out_not_refused(tmp_path):
    path = write(tmp_path / "fac.csv", "type,x,y\ngp,155000,463000\nsupermarket,155000,463000\n")
    out = facilities.read_facilities(path, Settings(facility_types=("gp",)))
    assert out["type"].tolist() == ["gp"]


@pytest.mark.parametrize("written, hint", [
    ("Supermarkt", " (did you mean 'supermarket'?)"),
    ("supermarkets", " (did you mean 'supermarket'?)"),
    ("SCHOL", " (did you mean 'school'?)"),
    ("huisarts", " (did you mean 'gp'?)"),
    ("basisschool", " (did you mean 'school'?)"),
    ("pharmacy", ""),
])
def test_an_unknown_type_is_an_error_with_the_closest_known_type(tmp_path, written, hint):
    path = write(tmp_path / "fac.csv", f"type,x,y\ngp,155000,463000\n{written},155000,463000\n")
    # also when the caller restricts the types: a misspelt type never vanishes
    for types in (None, ["gp"]):
        with pytest.raises(InputError) as excinfo:
            facilities.read_facilities(path, SETTINGS, types=types)
        assert str(excinfo.value) == (
            f"{path}: line 3: field 'type': unknown facility type {written!r}{hint}; "
            "expected one of ['gp', 'school', 'supermarket']; list types the file holds on "
            "purpose in the setting ignore_facility_types")


def test_ignored_types_are_listed_as_known(tmp_path):
    path = write(tmp_path / "fac.csv", "type,x,y\napotheek,155000,463000\n")
    with pytest.raises(InputError, match=re.escape(
            "unknown facility type 'apotheek' (did you mean 'apotheken'?); expected one of "
            "['gp', 'school', 'supermarket', 'apotheken']")):
        facilities.read_facilities(path, Settings(ignore_facility_types=("Apotheken",)))


def test_an_empty_type_is_an_error(tmp_path):
    path = write(tmp_path / "fac.csv", "type,x,y\ngp,155000,463000\n ,155000,463000\n")
    with pytest.raises(InputError, match=re.escape("line 3: field 'type' is empty; expected "
                                                   "one of ['gp', 'school', 'supermarket']")):
        facilities.read_facilities(path, SETTINGS)


@hyp_settings(max_examples=60, deadline=None)
@given(st.sampled_from(["school", "supermarket"]), st.data())
def test_one_typo_in_a_long_type_suggests_it(ftype, data):
    """A type of five letters or more with one letter dropped, doubled or changed
    is closest to itself."""
    i = data.draw(st.integers(0, len(ftype) - 1))
    letter = data.draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    typo = data.draw(st.sampled_from([ftype[:i] + ftype[i + 1:],
                                      ftype[:i] + ftype[i] + ftype[i:],
                                      ftype[:i] + letter + ftype[i + 1:]]))
    if typo != ftype:
        assert facilities.type_hint(typo.upper(), facilities.known_types(SETTINGS)) == \
            f" (did you mean {ftype!r}?)"


def test_unknown_type_in_filter_is_a_config_error(tmp_path):
    path = write(tmp_path / "fac.csv", "type,x,y\ngp,155000,463000\n")
    with pytest.raises(ConfigError, match=re.escape("unknown facility type(s) ['pharmacy']")):
        facilities.read_facilities(path, SETTINGS, types=["pharmacy"])


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(InputError, match="absent.csv: file not found"):
        facilities.read_facilities(tmp_path / "absent.csv", SETTINGS)
    path = write(tmp_path / "fac.xlsx", "x")
    with pytest.raises(InputError, match=r"fac\.xlsx: unknown file type '\.xlsx'"):
        facilities.read_facilities(path, SETTINGS)


def test_empty_csv(tmp_path):
    path = write(tmp_path / "fac.csv", "")
    with pytest.raises(InputError, match="fac.csv: empty file"):
        facilities.read_facilities(path, SETTINGS)


def test_header_only_csv_gives_empty_frame(tmp_path):
    path = write(tmp_path / "fac.csv", "facility_id,type,x,y\n")
    out = facilities.read_facilities(path, SETTINGS)
    assert len(out) == 0 and list(out.columns) == list(facilities.COLUMNS)


def test_tab_separated_csv_with_byte_order_mark(tmp_path):
    path = tmp_path / "fac.csv"
    path.write_bytes("\ufefftype\tx\ty\ngp\t155000\t463000\n".encode("utf-8"))
    out = facilities.read_facilities(path, SETTINGS)
    assert out["type"].tolist() == ["gp"] and out["facility_id"].tolist() == ["row1"]


# -- GP FTE -------------------------------------------------------------------

def test_fte_is_kept_for_gp_practices_only(tmp_path):
    path = write(tmp_path / "fac.csv", (
        "facility_id,type,x,y,capacity,fte\n"
        "g1,gp,155000,463000,,2.5\n"
        "g2,gp,155100,463000,3000,\n"
        "s1,school,155200,463000,210,12\n"
    ))
    out = facilities.read_facilities(path, SETTINGS)
    assert out["fte"].dtype == np.float64
    assert out["fte"].iloc[0] == 2.5
    assert np.isnan(out["fte"].iloc[1]) and out["capacity"].iloc[1] == 3000
    # A school's FTE (teachers, perhaps) is no GP capacity: dropped.
    assert np.isnan(out["fte"].iloc[2])


def test_without_an_fte_column_every_fte_is_nan(tmp_path):
    path = write(tmp_path / "fac.csv", "type,x,y\ngp,155000,463000\n")
    out = facilities.read_facilities(path, SETTINGS)
    assert np.isnan(out["fte"]).all()


def test_fte_with_a_decimal_comma(tmp_path):
    path = write(tmp_path / "fac.csv", "type;x;y;fte\ngp;155000;463000;1,5\n")
    assert facilities.read_facilities(path, SETTINGS)["fte"].tolist() == [1.5]


@pytest.mark.parametrize("value,problem", [("twee", "is not a number"),
                                           ("-1", "is negative"),
                                           ("inf", "not a finite number")])
def test_bad_fte_names_file_line_and_field(tmp_path, value, problem):
    path = write(tmp_path / "fac.csv", f"type,x,y,fte\ngp,155000,463000,1\ngp,155100,463000,{value}\n")
    with pytest.raises(InputError, match=re.escape(str(path))) as info:
        facilities.read_facilities(path, SETTINGS)
    assert "line 3" in str(info.value) and "'fte'" in str(info.value)
    assert problem in str(info.value)


def test_fte_from_a_geopackage(tmp_path):
    path = tmp_path / "fac.gpkg"
    gpd.GeoDataFrame({"type": ["gp", "supermarket"], "fte": [2.0, 5.0]},
                     geometry=[shapely.Point(155000, 463000), shapely.Point(155100, 463000)],
                     crs="EPSG:28992").to_file(path)
    out = facilities.read_facilities(path, SETTINGS)
    assert out["fte"].iloc[0] == 2.0 and np.isnan(out["fte"].iloc[1])


# -- plausible capacities and FTE ----------------------------------------------------

@pytest.mark.parametrize("ftype, field, value, problem", [
    ("supermarket", "capacity", "1e308", "1e+308 is outside 0–20,000 m2 for a supermarket"),
    ("supermarket", "capacity", "20001", "20001 is outside 0–20,000 m2 for a supermarket"),
    ("school", "capacity", "3001", "3001 is outside 0–3,000 pupils for a school"),
    ("gp", "capacity", "50000.5", "50000.5 is outside 0–50,000 patients for a GP practice"),
    ("gp", "capacity", "-1", "-1 is negative; expected 0–50,000 patients for a GP practice"),
    ("gp", "fte", "40.5", "40.5 is outside 0–40 FTE for a GP practice"),
    ("gp", "fte", "2095", "2095 is outside 0–40 FTE for a GP practice"),
])
def test_an_implausible_capacity_or_fte_states_the_range(tmp_path, ftype, field, value, problem):
    path = write(tmp_path / "fac.csv", f"type,x,y,{field}\n{ftype},155000,463000,1\n"
                                       f"{ftype},155100,463000,{value}\n")
    with pytest.raises(InputError) as excinfo:
        facilities.read_facilities(path, SETTINGS)
    assert str(excinfo.value) == f"{path}: line 3: field {field!r}: {problem}"


def test_bounds_and_zero_are_plausible(tmp_path):
    path = write(tmp_path / "fac.csv", (
        "facility_id,type,x,y,capacity,fte\n"
        "g0,gp,155000,463000,0,0\n"
        "g1,gp,155000,463000,50000,40\n"
        "s1,school,155000,463000,3000,\n"
        "m1,supermarket,155000,463000,20000,\n"
        "m2,supermarket,155000,463000,,1e9\n"  # a supermarket's FTE is ignored
    ))
    out = facilities.read_facilities(path, SETTINGS)
    assert out["capacity"].tolist()[:4] == [0.0, 50000.0, 3000.0, 20000.0]
    assert out["fte"].tolist()[:2] == [0.0, 40.0]


def test_an_implausible_capacity_in_a_geopackage_names_the_row(tmp_path):
    path = tmp_path / "fac.gpkg"
    gpd.GeoDataFrame({"type": ["school", "supermarket"], "capacity": [200.0, 1e308]},
                     geometry=[shapely.Point(155000, 463000), shapely.Point(155100, 463000)],
                     crs="EPSG:28992").to_file(path)
    with pytest.raises(InputError, match=re.escape(
            "row 2: field 'capacity': 1e+308 is outside 0–20,000 m2 for a supermarket")):
        facilities.read_facilities(path, SETTINGS)


# The bounds as the issue states them, written out independently of the module.
BOUNDS = {("gp", "capacity"): 50_000, ("gp", "fte"): 40, ("school", "capacity"): 3_000,
          ("supermarket", "capacity"): 20_000}


@hyp_settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(BOUNDS)),
       st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.floats(-100, 100),
                 st.sampled_from([0.0, 40.0, 3000.0, 20000.0, 50000.0, 1e308, -0.0])))
def test_a_value_is_accepted_exactly_within_its_bounds(key, value):
    ftype, field = key
    ok = 0 <= value <= BOUNDS[key]
    assert (facilities.plausibility_problem(ftype, field, value) is None) == ok


def test_the_demo_register_is_plausible(demo_region):
    out = facilities.read_facilities(demo_region.facilities_csv, SETTINGS)
    assert set(out["type"]) == {"gp", "school", "supermarket"}
    assert out["capacity"].notna().all()
