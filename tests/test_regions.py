"""Regions: the NPVR registry, custom and polygon regions, the buffered analysis area."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from bereikbaarheid.config import Settings
from bereikbaarheid.errors import ConfigError, InputError
from bereikbaarheid.sources import boundaries, regions

SETTINGS = Settings()

# The specification: the eleven NPVR regions and their municipalities, as in
# ../shared/SOURCES.md, in that order (4+7+4+5+4+14+8+8+7+16+3 = 80 codes).
NPVR: dict[str, tuple[str, ...]] = {
    "kop-van-noord-holland": ("GM0400", "GM1911", "GM0441", "GM0448"),
    "noord-en-oost-groningen": ("GM1895", "GM0765", "GM0037", "GM0047", "GM1950", "GM1966",
                                "GM1979"),
    "noard-fryslan": ("GM0059", "GM1891", "GM1970", "GM0737"),
    "zuidoost-fryslan": ("GM0074", "GM0085", "GM0086", "GM0090", "GM0098"),
    "zuid-en-oost-drenthe": ("GM0114", "GM0109", "GM1681", "GM0118"),
    "twente": ("GM0141", "GM0147", "GM1774", "GM0153", "GM0158", "GM0163", "GM0164", "GM1735",
               "GM0168", "GM0173", "GM1742", "GM0183", "GM1700", "GM0189"),
    "achterhoek": ("GM0197", "GM1859", "GM1876", "GM0222", "GM1955", "GM1586", "GM1509",
                   "GM0294"),
    "noord-limburg": ("GM0889", "GM0893", "GM0907", "GM1507", "GM0944", "GM1894", "GM0983",
                      "GM0984"),
    "midden-limburg": ("GM1711", "GM1640", "GM1641", "GM0946", "GM1669", "GM0957", "GM0988"),
    "zuid-limburg": ("GM0888", "GM1954", "GM0899", "GM1903", "GM1729", "GM0917", "GM0928",
                     "GM0882", "GM0935", "GM0938", "GM0965", "GM1883", "GM0971", "GM0981",
                     "GM0994", "GM0986"),
    "zeeuws-vlaanderen": ("GM1714", "GM0715", "GM0677"),
}

# Dissolved area (km2, land and water as drawn in the real boundary file),
# measured 754, 1516, 739, 1007, 1049, 1503, 1217, 849, 693, 660, 754; the
# ranges are generous so a redrawn file still passes.
PLAUSIBLE_KM2: dict[str, tuple[float, float]] = {
    "kop-van-noord-holland": (550, 1400),
    "noord-en-oost-groningen": (1200, 2300),
    "noard-fryslan": (550, 1000),
    "zuidoost-fryslan": (800, 1300),
    "zuid-en-oost-drenthe": (850, 1300),
    "twente": (1200, 1800),
    "achterhoek": (1000, 1500),
    "noord-limburg": (650, 1100),
    "midden-limburg": (550, 900),
    "zuid-limburg": (500, 850),
    "zeeuws-vlaanderen": (600, 1000),
}


def _squares() -> gpd.GeoDataFrame:
    """Three 10 km squares side by side in RD New: GM0001 A, GM0002 B, GM0003 C."""
    x0, y0 = 150_000.0, 400_000.0
    return gpd.GeoDataFrame(
        {"code": ["GM0001", "GM0002", "GM0003"], "name": ["A", "B", "C"]},
        geometry=[shapely.box(x0 + i * 10_000, y0, x0 + (i + 1) * 10_000, y0 + 10_000)
                  for i in range(3)],
        crs=SETTINGS.crs,
    )


def _registry(tmp_path, text: str):
    path = tmp_path / "regions.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = '''
[[region]]
id = "ab"
name = "A and B"
municipalities = { GM0001 = "A", GM0002 = "B" }
'''


# -- the packaged registry ---------------------------------------------------------

def test_registry_has_the_eleven_npvr_regions_with_their_codes_in_order():
    registry = regions.read_registry()
    assert list(registry) == list(NPVR)
    for region_id, codes in NPVR.items():
        assert registry[region_id].codes == codes, region_id
    assert sum(len(c) for c in NPVR.values()) == 80


def test_registry_carries_names_confidence_and_notes():
    registry = regions.read_registry()
    assert registry["zeeuws-vlaanderen"].name == "Zeeuws-Vlaanderen"
    assert registry["zeeuws-vlaanderen"].municipalities == {
        "GM1714": "Sluis", "GM0715": "Terneuzen", "GM0677": "Hulst"}
    assert registry["noard-fryslan"].name == "Noard-Fryslân"
    assert "wider variants" in registry["noard-fryslan"].note
    assert registry["twente"].confidence == "medium-high"
    assert all(spec.confidence for spec in registry.values())
    assert all(spec.polygon_path is None for spec in registry.values())


def test_registry_path_is_the_packaged_file():
    assert regions.REGISTRY_PATH.is_file()
    assert regions.read_registry(regions.REGISTRY_PATH) == regions.read_registry()


def test_a_users_registry_file_is_read_and_codes_normalised(tmp_path):
    path = _registry(tmp_path, GOOD + '''
[[region]]
id = "c-2"
name = "C"
confidence = "low"
note = "written as bare digits"
municipalities = { 0003 = "C" }
''')
    registry = regions.read_registry(path)
    assert list(registry) == ["ab", "c-2"]
    assert registry["ab"].municipalities == {"GM0001": "A", "GM0002": "B"}
    assert registry["c-2"].codes == ("GM0003",)
    assert registry["c-2"].note == "written as bare digits"


# -- bad registry files: InputError naming the file, the region and the field ------

@pytest.mark.parametrize("text, expected", [
    ('[[region]]\nname = "X"\nmunicipalities = { GM0001 = "A" }\n',
     ["region 1", "'id'", "missing"]),
    ('[[region]]\nid = "x"\nmunicipalities = { GM0001 = "A" }\n', ["region 1 ('x')", "'name'"]),
    ('[[region]]\nid = "x"\nname = "X"\n', ["region 1 ('x')", "'municipalities'"]),
    ('[[region]]\nid = "x"\nname = "X"\nmunicipalities = {}\n', ["'municipalities'", "non-empty"]),
    (GOOD + GOOD, ["region 2 ('ab')", "'id'", "duplicate"]),
    ('[[region]]\nid = "Zeeuws Vlaanderen"\nname = "X"\nmunicipalities = { GM0001 = "A" }\n',
     ["region 1", "'id'", "slug"]),
    ('[[region]]\nid = "x"\nname = "X"\nmunicipalities = { GM12345 = "A" }\n',
     ["region 1 ('x')", "'municipalities'", "GM12345", "'GM' + 4 digits"]),
    ('[[region]]\nid = "x"\nname = "X"\nmunicipalities = { XX0001 = "A" }\n',
     ["'municipalities'", "XX0001"]),
    ('[[region]]\nid = "x"\nname = "X"\nmunicipalities = { GM0001 = 1 }\n',
     ["'municipalities'", "GM0001"]),
    ('[[region]]\nid = "x"\nname = "X"\nmunicipalities = { GM0001 = "A", 1 = "A again" }\n',
     ["'municipalities'", "GM0001", "twice"]),
    ('[[region]]\nid = "x"\nname = "X"\nconfidense = "high"\nmunicipalities = { GM0001 = "A" }\n',
     ["region 1 ('x')", "unknown field", "confidense"]),
    ('title = "mine"\n' + GOOD, ["unknown top-level", "title"]),
    ('', ["no [[region]]"]),
    ('[[region]\n', ["not valid TOML"]),
])
def test_bad_registry_file_names_file_region_and_field(tmp_path, text, expected):
    path = _registry(tmp_path, text)
    with pytest.raises(InputError) as info:
        regions.read_registry(path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    for part in expected:
        assert part in str(info.value)


def test_missing_registry_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        regions.read_registry(tmp_path / "nope.toml")


# -- looking regions up -------------------------------------------------------------

def test_get_region_by_id():
    assert regions.get_region("twente").name == "Twente"
    assert regions.get_region(" Twente ").id == "twente"


def test_unknown_region_suggests_the_closest_id_and_lists_all():
    with pytest.raises(ConfigError) as info:
        regions.get_region("zeeuwsvlaanderen")
    message = str(info.value)
    assert "did you mean 'zeeuws-vlaanderen'?" in message
    assert all(region_id in message for region_id in NPVR)


def test_unknown_region_without_a_close_match_lists_all(tmp_path):
    registry = regions.read_registry(_registry(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"unknown region 'qqqqqqq'; known regions: ab$"):
        regions.get_region("qqqqqqq", registry)


# -- custom and polygon regions -----------------------------------------------------

def test_custom_region_normalises_and_deduplicates_codes():
    spec = regions.custom_region("mine", ["GM0003", "0001", 3, 1.0])
    assert spec.codes == ("GM0003", "GM0001")
    assert spec.name == "mine"
    assert spec.polygon_path is None


@pytest.mark.parametrize("region_id, codes", [
    ("a/b", ["GM0001"]), ("x@y", ["GM0001"]), ("mine", ["GM00001"]), ("mine", []),
])
def test_bad_custom_region_is_a_config_error(region_id, codes):
    with pytest.raises(ConfigError):
        regions.custom_region(region_id, codes)


def test_custom_region_takes_its_names_from_the_boundary_file():
    spec = regions.custom_region("ca", ["GM0003", "GM0001"], name="C and A")
    region = regions.resolve_region(spec, _squares(), SETTINGS, buffer_m=1000.0)
    assert region.spec.municipalities == {"GM0003": "C", "GM0001": "A"}
    assert region.spec.name == "C and A"
    assert list(region.municipalities["code"]) == ["GM0003", "GM0001"]
    assert list(region.municipalities["name"]) == ["C", "A"]
    assert region.polygon.area == pytest.approx(2 * 10_000.0 ** 2)
    assert region.municipalities.crs == SETTINGS.crs


# -- missing codes: strict and not ---------------------------------------------------

def _ab_plus_missing() -> regions.RegionSpec:
    return regions.RegionSpec(id="abx", name="ABX", municipalities={
        "GM0001": "A", "GM0009": "Nowhere", "GM0002": "B", "GM0008": "Atlantis"})


def test_strict_resolution_names_every_absent_code_with_its_name():
    with pytest.raises(ConfigError) as info:
        regions.resolve_region(_ab_plus_missing(), _squares(), SETTINGS)
    assert str(info.value) == ("region 'abx': municipality code(s) absent from the boundary "
                               "file: GM0009 Nowhere, GM0008 Atlantis")


def test_lenient_resolution_reports_missing_and_uses_the_present_ones():
    region = regions.resolve_region(_ab_plus_missing(), _squares(), SETTINGS, strict=False)
    assert region.missing == (("GM0009", "Nowhere"), ("GM0008", "Atlantis"))
    assert list(region.municipalities["code"]) == ["GM0001", "GM0002"]
    assert region.polygon.equals(shapely.box(150_000, 400_000, 170_000, 410_000))


def test_lenient_resolution_with_nothing_present_is_an_error():
    spec = regions.RegionSpec(id="void", name="Void", municipalities={"GM0009": "Nowhere"})
    with pytest.raises(ConfigError, match="GM0009 Nowhere"):
        regions.resolve_region(spec, _squares(), SETTINGS, strict=False)


def test_municipalities_in_another_crs_are_reprojected():
    region = regions.resolve_region(regions.custom_region("a", ["GM0001"]),
                                    _squares().to_crs("EPSG:4326"), SETTINGS)
    assert region.municipalities.crs == SETTINGS.crs
    assert shapely.hausdorff_distance(region.polygon,
                                      shapely.box(150_000, 400_000, 160_000, 410_000)) < 1.0


# -- the buffered analysis area -------------------------------------------------------

def test_area_is_the_polygon_buffered_by_buffer_m():
    region = regions.resolve_region(regions.custom_region("ab", ["GM0001", "GM0002"]),
                                    _squares(), SETTINGS, buffer_m=15_000.0)
    assert region.buffer_m == 15_000.0
    assert region.area.contains(region.polygon)
    gap_m = shapely.hausdorff_distance(region.area.exterior, region.polygon.exterior)
    assert gap_m == pytest.approx(15_000.0, rel=0.01)
    # Every point of the area's edge lies about buffer_m from the region.
    assert region.area.exterior.distance(region.polygon) == pytest.approx(15_000.0, rel=0.01)


def test_zero_buffer_gives_the_polygon_and_a_negative_one_is_refused():
    spec = regions.custom_region("a", ["GM0001"])
    assert regions.resolve_region(spec, _squares(), SETTINGS, buffer_m=0.0).area.equals(
        shapely.box(150_000, 400_000, 160_000, 410_000))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match="buffer_m"):
            regions.resolve_region(spec, _squares(), SETTINGS, buffer_m=bad)


@hyp_settings(max_examples=30, deadline=None)
@given(width_m=st.floats(100, 50_000), height_m=st.floats(100, 50_000),
       buffer_m=st.floats(10, 30_000))
def test_buffer_of_any_rectangle_reaches_buffer_m_out(width_m, height_m, buffer_m):
    frame = gpd.GeoDataFrame({"code": ["GM0001"], "name": ["A"]},
                             geometry=[shapely.box(100_000, 400_000, 100_000 + width_m,
                                                   400_000 + height_m)], crs=SETTINGS.crs)
    region = regions.resolve_region(regions.custom_region("r", [1]), frame, SETTINGS,
                                    buffer_m=buffer_m)
    assert region.area.contains(region.polygon)
    # Independent reference: a rectangle buffered by d has area w h + 2 d (w + h) + pi d^2
    # (the arcs are polygons here, so a little less).
    exact = width_m * height_m + 2 * buffer_m * (width_m + height_m) + math.pi * buffer_m ** 2
    assert region.area.area == pytest.approx(exact, rel=0.01)


# -- polygon files ------------------------------------------------------------------

def _drawn_polygon() -> shapely.Geometry:
    """An L-shaped region in RD New, densified so reprojection keeps its shape."""
    shape = shapely.Polygon([(150_000, 400_000), (175_000, 400_000), (175_000, 410_000),
                             (160_000, 410_000), (160_000, 420_000), (150_000, 420_000)])
    return shapely.segmentize(shape, 250.0)


@pytest.mark.parametrize("crs, name, driver", [
    ("EPSG:4326", "region.geojson", "GeoJSON"),
    ("EPSG:3035", "region.gpkg", "GPKG"),
    ("EPSG:28992", "region.shp", "ESRI Shapefile"),
])
def test_polygon_file_in_any_crs_gives_the_same_polygon(tmp_path, crs, name, driver):
    drawn = _drawn_polygon()
    path = tmp_path / name
    gpd.GeoDataFrame({"label": ["L"]}, geometry=[drawn], crs=SETTINGS.crs).to_crs(crs).to_file(
        path, driver=driver)
    polygon = regions.read_polygon(path, SETTINGS)
    assert shapely.hausdorff_distance(polygon, drawn) < 1.0
    assert polygon.is_valid


def test_polygon_file_features_are_dissolved_and_repaired(tmp_path):
    bowtie = shapely.Polygon([(150_000, 400_000), (160_000, 410_000), (160_000, 400_000),
                              (150_000, 410_000)])  # self-intersecting
    frame = gpd.GeoDataFrame(
        {"label": ["west", "east", "bowtie", "point"]},
        geometry=[shapely.box(150_000, 400_000, 160_000, 410_000),
                  shapely.box(160_000, 400_000, 170_000, 410_000),
                  bowtie, shapely.Point(155_000, 405_000)],
        crs=SETTINGS.crs)
    path = tmp_path / "parts.gpkg"
    frame.to_file(path, driver="GPKG")
    polygon = regions.read_polygon(path, SETTINGS)
    assert polygon.is_valid
    assert polygon.area == pytest.approx(2 * 10_000.0 ** 2)


def test_polygon_file_without_crs_or_polygons_is_an_input_error(tmp_path):
    no_crs_gpkg = tmp_path / "no_crs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)]).to_file(
            no_crs_gpkg, driver="GPKG")
    with pytest.raises(InputError, match="no CRS") as info:
        regions.read_polygon(no_crs_gpkg, SETTINGS)
    assert info.value.path == no_crs_gpkg

    points = tmp_path / "points.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(155_000, 405_000)],
                     crs=SETTINGS.crs).to_file(points, driver="GPKG")
    with pytest.raises(InputError, match="no polygon"):
        regions.read_polygon(points, SETTINGS)

    with pytest.raises(InputError, match="not found"):
        regions.read_polygon(tmp_path / "nope.gpkg", SETTINGS)
    with pytest.raises(InputError, match="not found"):
        regions.polygon_region("drawn", tmp_path / "nope.gpkg")


def test_polygon_region_members_are_municipalities_whose_representative_point_is_inside(
        tmp_path):
    # Covers A entirely and 40 % of B: only A's representative point is inside.
    path = tmp_path / "drawn.geojson"
    drawn = shapely.box(149_000, 399_000, 164_000, 411_000)
    gpd.GeoDataFrame(geometry=[drawn], crs=SETTINGS.crs).to_crs("EPSG:4326").to_file(
        path, driver="GeoJSON")
    spec = regions.polygon_region("drawn", path, name="Drawn")
    assert spec.polygon_path == path and spec.codes == ()
    region = regions.resolve_region(spec, _squares(), SETTINGS, buffer_m=500.0)
    assert list(region.municipalities["code"]) == ["GM0001"]
    assert region.spec.municipalities == {"GM0001": "A"}
    assert region.missing == ()
    assert shapely.hausdorff_distance(region.polygon, drawn) < 1.0
    assert region.area.contains(region.polygon)


# -- the real boundary file ---------------------------------------------------------

@pytest.mark.shared
def test_every_npvr_region_is_found_in_the_real_boundary_file(shared_data):
    municipalities = boundaries.read_municipalities(
        shared_data / "boundaries" / "gemeenten.geojson", SETTINGS)
    registry = regions.read_registry()
    resolved = {rid: regions.resolve_region(spec, municipalities, SETTINGS, strict=False)
                for rid, spec in registry.items()}
    absent = [f"{rid}: {code} {name}" for rid, region in resolved.items()
              for code, name in region.missing]
    assert not absent, "codes absent from the boundary file:\n" + "\n".join(absent)

    for rid, region in resolved.items():
        assert len(region.municipalities) == len(NPVR[rid]), rid
        low, high = PLAUSIBLE_KM2[rid]
        assert low < region.polygon.area / 1e6 < high, (rid, region.polygon.area / 1e6)
        assert region.area.contains(region.polygon), rid

    for (a, ra), (b, rb) in itertools.combinations(resolved.items(), 2):
        overlap_km2 = shapely.intersection(ra.polygon, rb.polygon).area / 1e6
        assert overlap_km2 < 1.0, (a, b, overlap_km2)
