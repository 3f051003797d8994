"""Municipality boundaries: the real PDOK-derived file, code columns, point assignment."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import ConfigError, InputError
from bereikbaarheid.sources import boundaries, regions

SETTINGS = Settings()


@pytest.fixture(scope="module")
def gemeenten(shared_data):
    return boundaries.read_municipalities(shared_data / "boundaries" / "gemeenten.geojson",
                                          SETTINGS)


# -- the real file ------------------------------------------------------------------

@pytest.mark.shared
def test_real_file_has_342_municipalities_with_gm_codes(gemeenten):
    assert len(gemeenten) == 342
    assert list(gemeenten.columns) == ["code", "name", "geometry"]
    assert gemeenten["code"].str.fullmatch(r"GM\d{4}").all()
    assert gemeenten["code"].is_unique and gemeenten["code"].is_monotonic_increasing
    assert gemeenten.crs.to_epsg() == 28992
    assert gemeenten.is_valid.all()
    assert set(gemeenten.geom_type) <= {"Polygon", "MultiPolygon"}


@pytest.mark.shared
def test_texel_lands_in_rd_coordinates(gemeenten):
    texel = gemeenten.loc[gemeenten["code"] == "GM0448"].iloc[0]
    assert texel["name"] == "Texel"
    xmin, ymin, xmax, ymax = texel.geometry.bounds
    # Texel spans about x 106-123 km, y 552-578 km in RD New
    assert 100_000 < xmin < 110_000 and 118_000 < xmax < 126_000
    assert 548_000 < ymin < 556_000 and 574_000 < ymax < 582_000
    # Den Burg, the main village, lies inside
    assert texel.geometry.contains(shapely.Point(116_500, 564_000))


@pytest.mark.shared
def test_declared_epsg4289_is_honoured_not_taken_for_wgs84(shared_data, gemeenten):
    path = shared_data / "boundaries" / "gemeenten.geojson"
    raw = gpd.read_file(path)
    assert raw.crs.to_epsg() == 4289
    lon, lat = shapely.get_coordinates(raw.geometry.iloc[0])[0]
    as_declared = pyproj.Transformer.from_crs("EPSG:4289", "EPSG:28992", always_xy=True)
    as_wgs84 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    x, y = as_declared.transform(lon, lat)
    code = raw["gemeenteCode"].iloc[0]
    ours = gemeenten.loc[gemeenten["code"] == code].geometry.iloc[0]
    assert ours.boundary.distance(shapely.Point(x, y)) < 1e-6
    # reading it as WGS84 would shift every border by about 100 m
    xw, yw = as_wgs84.transform(lon, lat)
    assert 50 < np.hypot(x - xw, y - yw) < 200


@pytest.mark.shared
def test_real_region_polygon_and_assignment(gemeenten):
    kop = boundaries.region_polygon(gemeenten, ["GM0400", "1911", 441, "0448"])
    assert kop.contains(shapely.Point(116_500, 564_000))  # Den Burg, Texel
    assert not kop.contains(shapely.Point(121_000, 487_000))  # Amsterdam
    codes, names = boundaries.assign_municipality(
        np.array([116_500.0, 121_000.0, 0.0]), np.array([564_000.0, 487_000.0, 0.0]), gemeenten)
    assert codes.tolist() == ["GM0448", "GM0363", None]
    assert names[0] == "Texel" and names[2] is None


# -- column detection and code normalisation ----------------------------------------------

def _two_squares(**columns):
    """Two 1 km squares side by side near Utrecht, in RD New."""
    return gpd.GeoDataFrame(
        columns,
        geometry=[shapely.box(140_000, 450_000, 141_000, 451_000),
                  shapely.box(141_000, 450_000, 142_000, 451_000)],
        crs="EPSG:28992",
    )


@pytest.mark.parametrize("code_col, name_col", [
    ("gemeentecode", "gemeentenaam"), ("gemeenteCode", "gemeenteNaam"),
    ("GM_CODE", "GM_NAAM"), ("statcode", "statnaam"), ("code", "naam"),
])
def test_code_and_name_columns_are_detected(tmp_path, code_col, name_col):
    path = tmp_path / "gm.gpkg"
    _two_squares(**{code_col: ["GM0400", "GM0014"], name_col: ["Den Helder", "Groningen"]}
                 ).to_file(path, driver="GPKG")
    out = boundaries.read_municipalities(path, SETTINGS)
    assert out["code"].tolist() == ["GM0014", "GM0400"]
    assert out["name"].tolist() == ["Groningen", "Den Helder"]


@pytest.mark.parametrize("value, expected", [
    ("GM0400", "GM0400"), ("gm0400", "GM0400"), ("0400", "GM0400"), ("400", "GM0400"),
    (400, "GM0400"), (400.0, "GM0400"), (np.int64(14), "GM0014"), (" GM1911 ", "GM1911"),
    ("WK040000", None), ("PV20", None), (12345, None), (400.5, None), (None, None),
    (float("nan"), None), ("", None),
])
def test_normalise_code(value, expected):
    assert boundaries.normalise_code(value) == expected


def test_numeric_codes_and_explicit_columns_in_wgs84_geojson(tmp_path):
    frame = gpd.GeoDataFrame(
        {"nr": [448, 400], "label": ["Texel", "Den Helder"]},
        geometry=[shapely.box(4.7, 53.0, 4.9, 53.2), shapely.box(4.7, 52.9, 4.8, 53.0)],
        crs="EPSG:4326",
    )
    path = tmp_path / "gm.geojson"
    frame.to_file(path, driver="GeoJSON")
    out = boundaries.read_municipalities(path, SETTINGS, code_column="nr", name_column="label")
    assert out["code"].tolist() == ["GM0400", "GM0448"]
    assert 100_000 < out.geometry.iloc[1].centroid.x < 130_000


def test_rows_with_one_code_and_one_name_are_merged_with_a_warning(tmp_path, caplog):
    path = tmp_path / "gm.gpkg"
    _two_squares(code=["0448", "448"], naam=["Texel", "Texel"]).to_file(path, driver="GPKG")
    with caplog.at_level("WARNING", logger="bereikbaarheid.sources.boundaries"):
        out = boundaries.read_municipalities(path, SETTINGS)
    assert out["code"].tolist() == ["GM0448"]
    assert out.geometry.iloc[0].area == pytest.approx(2_000_000)
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].getMessage() == (
        f"{path}: 1 municipality is split over several rows with the same code and name, "
        "merged as parts of one municipality: GM0448 'Texel' (rows 1, 2)")
    assert out.attrs["warnings"] == [caplog.records[0].getMessage()]


def test_distinct_codes_give_no_warning(tmp_path, caplog):
    path = tmp_path / "gm.gpkg"
    _two_squares(code=["GM0448", "GM0400"], naam=["Texel", "Den Helder"]).to_file(path)
    with caplog.at_level("WARNING"):
        out = boundaries.read_municipalities(path, SETTINGS)
    assert len(out) == 2 and out.attrs["warnings"] == []
    assert caplog.records == []


@pytest.mark.parametrize("columns, expected", [
    ({"code": ["GM0400", "GM0400"], "naam": ["Den Helder", "Texel"]},
     ("rows 1 and 2: field 'code': code GM0400 is given to 'Den Helder' and to 'Texel'; "
      "expected one code per municipality")),
    ({"code": ["GM0400", "400"]},
     "rows 1 and 2: field 'code': code GM0400 appears twice and the file has no name column"),
    ({"code": ["GM0400", "GM0400"], "naam": ["Den Helder", None]},
     ("rows 1 and 2: field 'code': code GM0400 appears twice and field 'naam' is empty on one "
      "of them")),
])
def test_one_code_for_two_municipalities_is_an_error(tmp_path, columns, expected):
    path = tmp_path / "gm.gpkg"
    _two_squares(**columns).to_file(path, driver="GPKG")
    with pytest.raises(InputError) as excinfo:
        boundaries.read_municipalities(path, SETTINGS)
    assert str(excinfo.value).startswith(f"{path}: {expected}")


@hyp_settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["A", "B", None])),
                min_size=1, max_size=6))
def test_rows_merge_exactly_when_they_share_code_and_name(tmp_path_factory, rows):
    """Reference: the file is accepted iff every code's rows carry one (non-empty) name,
    or the code is on one row only; then there is one municipality per code."""
    path = tmp_path_factory.mktemp("dup") / "gm.gpkg"
    gpd.GeoDataFrame(
        {"code": [c for c, _ in rows], "naam": [n for _, n in rows]},
        geometry=[shapely.box(140_000 + 1000 * i, 450_000, 141_000 + 1000 * i, 451_000)
                  for i in range(len(rows))], crs="EPSG:28992").to_file(path)
    names_of: dict[int, list] = {}
    for code, name in rows:
        names_of.setdefault(code, []).append(name)
    ok = all(len(n) == 1 or (None not in n and len(set(n)) == 1) for n in names_of.values())
    if ok:
        out = boundaries.read_municipalities(path, SETTINGS)
        assert out["code"].tolist() == [f"GM{c:04d}" for c in sorted(names_of)]
        assert out.geometry.area.sum() == pytest.approx(1e6 * len(rows))
    else:
        with pytest.raises(InputError, match="rows .* and .*: field 'code': code GM"):
            boundaries.read_municipalities(path, SETTINGS)


def test_a_municipality_without_area_is_an_error(tmp_path):
    path = tmp_path / "gm.gpkg"
    gpd.GeoDataFrame({"code": ["GM0400", "GM0448"]},
                     geometry=[shapely.box(140_000, 450_000, 141_000, 451_000),
                               shapely.Point(141_500, 450_500)], crs="EPSG:28992").to_file(path)
    with pytest.raises(InputError, match=r"gm\.gpkg: row 2: municipality GM0448 is a Point "
                                         r"without area; expected a \(Multi\)Polygon"):
        boundaries.read_municipalities(path, SETTINGS)


# -- a wrong CRS label -----------------------------------------------------------------

def test_rd_coordinates_labelled_wgs84_say_the_label_is_wrong(tmp_path):
    path = tmp_path / "gm.geojson"
    gpd.GeoDataFrame({"code": ["GM0400", "GM0448"]},
                     geometry=[shapely.box(110_000, 545_000, 115_000, 550_000),
                               shapely.box(110_000, 550_000, 120_000, 575_000)],
                     crs="EPSG:28992").set_crs("EPSG:4326", allow_override=True).to_file(path)
    with pytest.raises(InputError) as excinfo:
        boundaries.read_municipalities(path, SETTINGS)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: row 1: municipality GM0400 has coordinates "
                              "(110000, 545000), which are no longitude/latitude, yet the file "
                              "declares EPSG:4326")
    assert "is the CRS label wrong? expected EPSG:28992" in message


def test_lon_lat_labelled_rd_say_the_label_is_wrong(tmp_path):
    path = tmp_path / "gm.gpkg"
    gpd.GeoDataFrame({"code": ["GM0400"]}, geometry=[shapely.box(4.7, 52.9, 4.8, 53.0)],
                     crs="EPSG:28992").to_file(path)
    with pytest.raises(InputError) as excinfo:
        boundaries.read_municipalities(path, SETTINGS)
    message = str(excinfo.value)
    assert "row 1: municipality GM0400 lies at lon 3.3" in message
    assert "far outside the Netherlands" in message and "is the CRS label wrong?" in message
    assert "look like longitude/latitude (EPSG:4326)" in message


@pytest.mark.parametrize("x, ok", [(-60_000, True), (-200_000, False), (330_000, True),
                                   (700_000, False)])
def test_land_across_the_border_is_near_enough(tmp_path, x, ok):
    """RD New's area of use runs from about x -7 km to 300 km; a quarter of its
    width beyond is still near (Belgian and German neighbours), farther is not."""
    path = tmp_path / "gm.gpkg"
    gpd.GeoDataFrame({"code": ["GM0400"]}, geometry=[shapely.box(x, 400_000, x + 1000, 401_000)],
                     crs="EPSG:28992").to_file(path)
    if ok:
        boundaries.read_municipalities(path, SETTINGS)
    else:
        with pytest.raises(InputError, match="far outside the Netherlands"):
            boundaries.read_municipalities(path, SETTINGS)


def _one_lonlat_box(path, x0, y0, x1, y1):
    gpd.GeoDataFrame({"code": ["GM0400"]}, geometry=[shapely.box(x0, y0, x1, y1)],
                     crs="EPSG:4326").to_file(path, driver="GPKG")
    return path


@pytest.mark.parametrize("corners", [(5.0, 52.0, 5.1, 95.0), (5.0, -95.0, 5.1, 52.0),
                                     (5.0, 52.0, 185.0, 52.1), (-185.0, 52.0, 5.0, 52.1)],
                         ids=["north", "south", "east", "west"])
def test_one_corner_beyond_the_poles_or_the_antimeridian_is_no_lonlat(tmp_path, corners):
    path = _one_lonlat_box(tmp_path / "gm.gpkg", *corners)
    with pytest.raises(InputError) as excinfo:
        boundaries.read_municipalities(path, SETTINGS)
    assert str(excinfo.value).startswith(
        f"{path}: row 1: municipality GM0400 has coordinates ({corners[0]:g}, {corners[1]:g}), "
        "which are no longitude/latitude, yet the file declares EPSG:4326")


@pytest.mark.parametrize("corners, where", [
    ((5.0, 60.0, 6.0, 61.0), "lon 5.00 to 6.00, lat 60.00 to 61.00"),     # Norway
    ((5.0, 44.0, 6.0, 45.0), "lon 5.00 to 6.00, lat 44.00 to 45.00"),     # the Alps
    ((10.0, 52.0, 11.0, 53.0), "lon 10.00 to 11.00, lat 52.00 to 53.00"),  # Lower Saxony
    ((-1.0, 52.0, 0.0, 53.0), "lon -1.00 to 0.00, lat 52.00 to 53.00"),    # England
], ids=["north", "south", "east", "west"])
def test_a_lonlat_feature_far_from_the_netherlands_is_named_with_where_it_lies(
        tmp_path, corners, where):
    path = _one_lonlat_box(tmp_path / "gm.gpkg", *corners)
    with pytest.raises(InputError) as excinfo:
        boundaries.read_municipalities(path, SETTINGS)
    assert str(excinfo.value).startswith(
        f"{path}: row 1: municipality GM0400 lies at {where}, far outside the Netherlands "
        "(lon 3.2 to 7.2, lat 50.8 to 53.7) in the declared CRS EPSG:4326")


@pytest.mark.parametrize("lon, lat, near", [
    (5.12, 52.09, True),     # Utrecht
    (5.69, 50.85, True),     # Maastricht
    (5.57, 50.63, True),     # Liège, across the border
    (3.06, 50.63, True),     # Lille
    (6.77, 51.23, True),     # Düsseldorf
    (6.13, 49.61, False),    # Luxembourg
    (4.83, 45.76, False),    # Lyon
    (9.99, 53.55, False),    # Hamburg
    (-0.13, 51.51, False),   # London
    (10.75, 59.91, False),   # Oslo
    (52.09, 5.12, False),    # Utrecht with lon and lat swapped
])
def test_near_the_netherlands_takes_the_neighbours_and_not_farther(lon, lat, near):
    assert bool(boundaries.near_netherlands(lon, lat)) is near


@hyp_settings(max_examples=200, deadline=None)
@given(st.floats(-10, 20), st.floats(40, 65))
def test_near_the_netherlands_is_its_area_widened_by_a_quarter_on_every_side(lon, lat):
    x0, y0, x1, y1 = pyproj.CRS.from_epsg(28992).area_of_use.bounds
    dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
    inside = x0 - dx <= lon <= x1 + dx and y0 - dy <= lat <= y1 + dy
    assert bool(boundaries.near_netherlands(lon, lat)) is inside


def test_a_file_of_0_bytes_is_an_empty_file_error(tmp_path):
    path = tmp_path / "gm.gpkg"
    path.write_bytes(b"")
    with pytest.raises(InputError) as excinfo:
        boundaries.read_municipalities(path, SETTINGS)
    assert str(excinfo.value) == (f"{path}: empty file; expected municipality boundaries "
                                  "(GeoPackage or GeoJSON)")
    path.write_bytes(b"x")
    with pytest.raises(InputError, match=r"gm\.gpkg: cannot read municipality boundaries"):
        boundaries.read_municipalities(path, SETTINGS)


def test_missing_name_column_gives_none(tmp_path):
    path = tmp_path / "gm.gpkg"
    _two_squares(GM_CODE=["GM0001", "GM0002"]).to_file(path, driver="GPKG")
    assert boundaries.read_municipalities(path, SETTINGS)["name"].tolist() == [None, None]


# -- errors -------------------------------------------------------------------------------

def test_no_code_column_lists_columns(tmp_path):
    path = tmp_path / "gm.gpkg"
    _two_squares(id=[1, 2], titel=["a", "b"]).to_file(path, driver="GPKG")
    with pytest.raises(InputError) as excinfo:
        boundaries.read_municipalities(path, SETTINGS)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: no municipality code column")
    assert "['id', 'titel']" in message


def test_bad_code_names_row(tmp_path):
    path = tmp_path / "gm.gpkg"
    _two_squares(statcode=["GM0400", "WK040001"]).to_file(path, driver="GPKG")
    with pytest.raises(InputError, match=r"gm\.gpkg: row 2: field 'statcode': 'WK040001'"):
        boundaries.read_municipalities(path, SETTINGS)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs(tmp_path):
    path = tmp_path / "gm.gpkg"
    gpd.GeoDataFrame({"code": ["GM0400"]}, geometry=[shapely.box(0, 0, 1, 1)]).to_file(
        path, driver="GPKG")
    with pytest.raises(InputError, match=r"gm\.gpkg: no CRS"):
        boundaries.read_municipalities(path, SETTINGS)


def test_missing_file_and_unknown_columns(tmp_path):
    with pytest.raises(InputError, match="absent.gpkg: file not found"):
        boundaries.read_municipalities(tmp_path / "absent.gpkg", SETTINGS)
    path = tmp_path / "gm.gpkg"
    _two_squares(code=["GM0001", "GM0002"]).to_file(path, driver="GPKG")
    with pytest.raises(InputError, match="no code column 'gm'"):
        boundaries.read_municipalities(path, SETTINGS, code_column="gm")


# -- assign_municipality and region_polygon on hand-made squares -------------------------

@pytest.fixture
def squares():
    """Three 1 km squares side by side; codes deliberately not in x order."""
    return gpd.GeoDataFrame(
        {"code": ["GM0003", "GM0001", "GM0002"], "name": ["C", "A", "B"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000),
                  shapely.box(2000, 0, 3000, 1000)],
        crs="EPSG:28992",
    )


def test_assign_points_inside_outside_and_on_borders(squares):
    x = np.array([500.0, 1500.0, 2500.0, 5000.0, 1000.0, 2000.0, 0.0])
    y = np.array([500.0, 500.0, 500.0, 500.0, 500.0, 1000.0, 0.0])
    codes, names = boundaries.assign_municipality(x, y, squares)
    assert codes.dtype == object and names.dtype == object
    # inside C, A, B; outside; border C|A -> lowest code A; corner A|B -> A; outer corner of C
    assert codes.tolist() == ["GM0003", "GM0001", "GM0002", None, "GM0001", "GM0001", "GM0003"]
    assert names.tolist() == ["C", "A", "B", None, "A", "A", "C"]


def test_assign_empty_input(squares):
    codes, names = boundaries.assign_municipality(np.array([]), np.array([]), squares)
    assert len(codes) == 0 and len(names) == 0


@hyp_settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(-500, 3500), st.integers(-500, 1500)), max_size=30))
def test_assign_matches_brute_force(points):
    frame = gpd.GeoDataFrame(
        {"code": ["GM0003", "GM0001", "GM0002"], "name": ["C", "A", "B"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000),
                  shapely.box(2000, 0, 3000, 1000)],
        crs="EPSG:28992",
    )
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    codes, _ = boundaries.assign_municipality(x, y, frame)
    for (px, py), code in zip(points, codes):
        inside = sorted(c for c, g in zip(frame["code"], frame.geometry)
                        if g.covers(shapely.Point(px, py)))
        assert code == (inside[0] if inside else None)


def test_region_polygon(squares):
    region = boundaries.region_polygon(squares, ["GM0003", 1])
    assert region.equals(shapely.box(0, 0, 2000, 1000))
    assert boundaries.region_polygon(squares).equals(shapely.box(0, 0, 3000, 1000))
    with pytest.raises(ConfigError, match=r"unknown municipality code\(s\) \['GM0009'\]"):
        boundaries.region_polygon(squares, ["GM0009"])
    with pytest.raises(ConfigError, match="not a municipality code"):
        boundaries.region_polygon(squares, ["Texel"])


def test_a_region_polygon_file_with_a_wrong_crs_label_is_an_input_error(tmp_path):
    path = tmp_path / "drawn.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(149_000, 399_000, 164_000, 411_000)],
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match=r"row 1: feature has coordinates \(149000, 399000\), "
                                         r"which are no longitude/latitude"):
        regions.read_polygon(path, SETTINGS)
