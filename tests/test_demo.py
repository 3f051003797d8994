"""The demo region: real file formats, the features later stages need, determinism."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from hypothesis import given, settings, strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from bereikbaarheid import _io
from bereikbaarheid.demo import _frame, generate
from bereikbaarheid.errors import ConfigError

ROAD_CLASSES = ("motorway", "motorway_link", "trunk", "primary", "secondary", "tertiary",
                "unclassified", "residential", "living_street", "service", "track",
                "cycleway", "footway", "path")
POPULATION_COLUMNS = (
    "aantal_inwoners", "aantal_mannen", "aantal_vrouwen", "aantal_inwoners_0_tot_15_jaar",
    "aantal_inwoners_15_tot_25_jaar", "aantal_inwoners_25_tot_45_jaar",
    "aantal_inwoners_45_tot_65_jaar", "aantal_inwoners_65_jaar_en_ouder", "aantal_woningen",
    "aantal_part_huishoudens", "stedelijkheid",
)
AGE_COLUMNS = POPULATION_COLUMNS[3:8]
# CBS's own proximity figures, as recent grids carry them.
PROXIMITY_COLUMNS = (
    "dichtstbijzijnde_huisartsenpraktijk_afstand_in_km",
    "dichtstbijzijnde_basisonderwijs_afstand_in_km",
    "dichtstbijzijnde_grote_supermarkt_afstand_in_km",
    "huisartsenpraktijk_aantal_binnen_1_km", "huisartsenpraktijk_aantal_binnen_3_km",
    "huisartsenpraktijk_aantal_binnen_5_km",
)
FILES = ("demo.osm.pbf", "grid_100m.gpkg", "grid_500m.gpkg", "gemeenten.gpkg",
         "facilities.csv", "projection.csv", "run.toml")
TO_RD = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)


@dataclass
class Osm:
    """Everything in a PBF, in file order."""

    node_ids: list[int] = field(default_factory=list)
    lonlat: list[tuple[float, float]] = field(default_factory=list)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    relations: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = field(
        default_factory=list)

    def highway_ways(self, highway: str) -> list[tuple[int, list[int], dict[str, str]]]:
        return [w for w in self.ways if w[2].get("highway") == highway]

    def ways_with(self, **tags: str) -> list[tuple[int, list[int], dict[str, str]]]:
        wanted = {k.replace("__", ":"): v for k, v in tags.items()}
        return [w for w in self.ways if all(w[2].get(k) == v for k, v in wanted.items())]


def read_osm(path: Path) -> Osm:
    osm = Osm()
    for obj in osmium.FileProcessor(str(path)):
        tags = dict(obj.tags)
        if obj.is_node():
            osm.node_ids.append(obj.id)
            osm.lonlat.append((obj.location.lon, obj.location.lat))
            if tags:
                osm.node_tags[obj.id] = tags
        elif obj.is_way():
            osm.ways.append((obj.id, [n.ref for n in obj.nodes], tags))
        else:
            osm.relations.append(
                (obj.id, [(m.type, m.ref, m.role) for m in obj.members], tags))
    return osm


@pytest.fixture(scope="module")
def osm(demo_region) -> Osm:
    return read_osm(demo_region.osm)


@pytest.fixture(scope="module")
def grid(demo_region):
    return pyogrio.read_dataframe(demo_region.grid_100m)


@pytest.fixture(scope="module")
def facilities(demo_region) -> pd.DataFrame:
    return pd.read_csv(demo_region.facilities_csv)


# -- files --------------------------------------------------------------------

def test_all_files_are_written_into_the_folder(demo_region):
    for name in FILES:
        assert (demo_region.folder / name).is_file(), name
    assert demo_region.osm == demo_region.folder / "demo.osm.pbf"
    assert not [p for p in demo_region.folder.iterdir() if p.name.startswith(".")]


def test_run_config_points_at_the_files_beside_it(demo_region):
    config = tomllib.loads(demo_region.config.read_text())
    assert config["region"]["name"] == "demo"
    inputs = config["inputs"]
    assert inputs["facilities"] == "facilities.csv"
    for key, expected in (("osm", demo_region.osm), ("grid", demo_region.grid_100m),
                          ("municipalities", demo_region.municipalities)):
        assert (demo_region.config.parent / inputs[key]).resolve() == expected.resolve()


def test_scale_one_has_the_intended_size(demo_region):
    assert 20_000 <= demo_region.n_road_nodes <= 60_000
    assert demo_region.n_osm_nodes >= demo_region.n_road_nodes
    assert 2_000 <= demo_region.n_cells <= 15_000
    assert 30_000 <= demo_region.population <= 120_000


# -- OpenStreetMap ------------------------------------------------------------

def test_ids_are_positive_unique_and_increasing(osm, demo_region):
    for ids in (osm.node_ids, [w[0] for w in osm.ways], [r[0] for r in osm.relations]):
        assert ids[0] >= 1
        assert np.all(np.diff(ids) > 0)
    assert len(osm.node_ids) == demo_region.n_osm_nodes
    assert len(osm.ways) == demo_region.n_ways


def test_every_way_references_existing_nodes_without_repeats(osm):
    known = set(osm.node_ids)
    for way_id, refs, _ in osm.ways:
        assert set(refs) <= known, way_id
        assert all(a != b for a, b in zip(refs[:-1], refs[1:])), way_id


def test_every_common_road_class_is_present(osm):
    counts = Counter(w[2].get("highway") for w in osm.ways)
    for highway in ROAD_CLASSES:
        assert counts[highway] >= 1, highway
    assert counts["unclassified"] > counts["primary"]


def test_roads_form_one_connected_network(osm):
    refs = [w[1] for w in osm.ways if "highway" in w[2] or w[2].get("route") == "ferry"]
    tails = np.concatenate([r[:-1] for r in refs])
    heads = np.concatenate([r[1:] for r in refs])
    n = max(osm.node_ids) + 1
    graph = coo_matrix((np.ones(len(tails)), (tails, heads)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    used = np.unique(np.concatenate([tails, heads]))
    largest = np.bincount(labels[used]).max()
    assert largest / len(used) > 0.98


def test_speed_limits_one_ways_and_access_rules_are_tagged(osm):
    maxspeeds = {w[2].get("maxspeed") for w in osm.ways}
    assert {"30", "50", "80", "NL:rural"} <= maxspeeds
    assert osm.ways_with(oneway="yes", highway="residential")
    assert osm.ways_with(oneway="yes", oneway__bicycle="no")
    assert osm.ways_with(oneway="-1")
    assert osm.ways_with(motor_vehicle="no", highway="residential")
    assert osm.ways_with(access="destination")
    assert osm.ways_with(access="no", bus="yes")
    assert osm.ways_with(access="private", highway="service")
    assert osm.ways_with(highway="footway", bicycle="yes")
    assert osm.ways_with(bridge="yes")
    for _, refs, _ in osm.ways_with(highway="motorway") + osm.ways_with(highway="motorway_link"):
        assert len(refs) >= 2
    assert all(w[2].get("oneway") == "yes" for w in osm.highway_ways("motorway"))


def test_the_roundabout_is_a_closed_ring_joined_by_four_roads(osm):
    (ring,) = osm.ways_with(junction="roundabout")
    refs = ring[1]
    assert refs[0] == refs[-1]
    others = [w for w in osm.ways if w is not ring and "highway" in w[2]]
    touching = [w for w in others if set(w[1]) & set(refs)]
    assert len(touching) == 4


def test_a_car_ferry_with_duration_and_a_foot_ferry_without(osm):
    ferries = osm.ways_with(route="ferry")
    assert len(ferries) == 2
    car = [f for f in ferries if f[2].get("motor_vehicle") == "yes"]
    foot = [f for f in ferries if f[2].get("motor_vehicle") == "no"]
    assert len(car) == 1 and len(foot) == 1
    assert car[0][2]["duration"] == "00:15"
    assert "duration" not in foot[0][2]
    assert foot[0][2]["foot"] == foot[0][2]["bicycle"] == "yes"
    # Both ends of each ferry lie on roads.
    road_nodes = {n for w in osm.ways if "highway" in w[2] for n in w[1]}
    for _, refs, _ in ferries:
        assert refs[0] in road_nodes and refs[-1] in road_nodes


def test_facilities_are_tagged_as_dutch_mappers_do(osm):
    gp_nodes = [t for t in osm.node_tags.values() if t.get("amenity") == "doctors"]
    assert gp_nodes and all(t["healthcare:speciality"] == "general" for t in gp_nodes)
    assert osm.ways_with(amenity="doctors", building="yes")
    assert any(t.get("amenity") == "dentist" for t in osm.node_tags.values())
    assert any(t.get("amenity") == "school" for t in osm.node_tags.values())
    assert osm.ways_with(amenity="school", building="school")
    assert osm.ways_with(amenity="school", **{"isced__level": "2;3"})
    assert any(t.get("shop") == "supermarket" for t in osm.node_tags.values())
    assert osm.ways_with(shop="supermarket")


def test_one_supermarket_is_a_multipolygon_of_two_ways_closing_a_ring(osm):
    (relation,) = osm.relations
    _, members, tags = relation
    assert tags["type"] == "multipolygon" and tags["shop"] == "supermarket"
    assert [(m[0], m[2]) for m in members] == [("w", "outer"), ("w", "outer")]
    ways = {w[0]: w[1] for w in osm.ways}
    first, second = (ways[m[1]] for m in members)
    assert first[-1] == second[0] and second[-1] == first[0]


def test_facility_csv_matches_the_osm_facilities(osm, facilities):
    assert list(facilities.columns) == ["facility_id", "type", "name", "x", "y", "capacity",
                                        "fte"]
    assert facilities["facility_id"].is_unique
    assert set(facilities["type"]) == {"gp", "school", "supermarket"}
    assert (facilities["capacity"] > 0).all()
    gp = facilities["type"] == "gp"
    # A GP practice's capacity is its FTE x 2,095 patients (NZa), rounded.
    fte = facilities.loc[gp, "fte"]
    assert fte.isin([1.0, 1.5, 2.0, 3.0]).all()
    assert (np.abs(facilities.loc[gp, "capacity"] - fte * 2095) <= 0.5).all()
    assert facilities.loc[~gp, "fte"].isna().all()

    tags_of = {f"osm:n{k}": t for k, t in osm.node_tags.items()}
    tags_of.update({f"osm:w{w[0]}": w[2] for w in osm.ways})
    tags_of.update({f"osm:r{r[0]}": r[2] for r in osm.relations})
    expected = Counter()
    for fid, tags in tags_of.items():
        if tags.get("amenity") == "doctors" or tags.get("healthcare") == "doctor":
            expected["gp"] += 1
        elif tags.get("amenity") == "school" and (
                tags.get("isced:level") == "1" or tags.get("school") == "primary"):
            expected["school"] += 1
        elif tags.get("shop") == "supermarket":
            expected["supermarket"] += 1
    assert Counter(facilities["type"]) == expected
    for fid, ftype, name in zip(facilities["facility_id"], facilities["type"], facilities["name"]):
        assert tags_of[fid]["name"] == name


def test_facility_coordinates_agree_with_the_osm_positions(osm, facilities):
    nodes = facilities[facilities["facility_id"].str.startswith("osm:n")]
    index = {nid: k for k, nid in enumerate(osm.node_ids)}
    for fid, x, y in zip(nodes["facility_id"], nodes["x"], nodes["y"]):
        lon, lat = osm.lonlat[index[int(fid.removeprefix("osm:n"))]]
        ox, oy = TO_RD.transform(lon, lat)
        assert abs(ox - x) < 0.05 and abs(oy - y) < 0.05


def test_some_facilities_lie_in_belgium_outside_every_municipality(demo_region, facilities):
    municipalities = pyogrio.read_dataframe(demo_region.municipalities)
    netherlands = municipalities.union_all()
    inside = shapely.contains_xy(netherlands, facilities["x"], facilities["y"])
    assert 0 < (~inside).sum() < len(facilities)
    for ftype in ("gp", "school", "supermarket"):
        assert (~inside & (facilities["type"] == ftype)).any()


STREETS = ("living_street", "residential", "unclassified", "tertiary", "secondary", "primary")


def test_every_facility_stands_inside_a_block_walled_by_streets(osm, facilities):
    frame = _frame.Frame.make(2024, 1.0)
    index = {nid: k for k, nid in enumerate(osm.node_ids)}
    street_nodes = np.array([osm.lonlat[index[n]] for w in osm.ways
                             if w[2].get("highway") in STREETS for n in w[1]])
    x, y = TO_RD.transform(street_nodes[:, 0], street_nodes[:, 1])
    su, sv = frame.from_rd(x, y)
    on_street = set(zip(np.rint(su).astype(int).tolist(), np.rint(sv).astype(int).tolist()))
    u, v = frame.from_rd(facilities["x"].to_numpy(), facilities["y"].to_numpy())
    step = _frame.STEP_M
    for fid, fu, fv in zip(facilities["facility_id"], u, v):
        # Well inside its 100 m block: off every road.
        a, b = int(fu // step), int(fv // step)
        assert 15 < fu - a * step < 85 and 15 < fv - b * step < 85, fid
        # Streets along all four sides (the node half way along each).
        sides = [(a * step + 50, b * step), (a * step + 50, (b + 1) * step),
                 (a * step, b * step + 50), ((a + 1) * step, b * step + 50)]
        assert all(side in on_street for side in sides), fid


def test_facility_supply_follows_dutch_densities(demo_region, facilities):
    municipalities = pyogrio.read_dataframe(demo_region.municipalities)
    dutch = facilities[shapely.contains_xy(municipalities.union_all(), facilities["x"],
                                           facilities["y"])]
    counts = Counter(dutch["type"])
    # Inhabitants per facility: about 3,500 per GP practice, 3,000 per
    # primary school and 3,500 per supermarket in the Netherlands.
    for ftype, (low, high) in (("gp", (2500, 4500)), ("school", (2000, 4000)),
                               ("supermarket", (2500, 4500))):
        assert low <= demo_region.population / counts[ftype] <= high, (ftype, counts[ftype])


# -- population grid ----------------------------------------------------------

def test_grid_has_the_cbs_layer_columns_and_crs(demo_region, grid):
    assert [name for name, _ in pyogrio.list_layers(demo_region.grid_100m)] == ["vierkant_100m"]
    assert list(grid.columns) == ["crs28992res100m", *POPULATION_COLUMNS, *PROXIMITY_COLUMNS,
                                  "geometry"]
    assert grid.crs.to_epsg() == 28992
    for column in POPULATION_COLUMNS:
        assert grid[column].dtype == np.int64, column


@pytest.mark.parametrize("layer,size", [("vierkant_100m", 100), ("vierkant_500m", 500)])
def test_cell_ids_name_the_lower_left_corner_in_hectometres(demo_region, layer, size):
    path = demo_region.grid_100m if size == 100 else demo_region.grid_500m
    cells = pyogrio.read_dataframe(path, layer=layer)
    ids = cells[f"crs28992res{size}m"]
    parsed = ids.str.extract(r"^E(\d{4})N(\d{4})$").astype(float) * 100
    assert parsed.notna().all().all()
    bounds = cells.geometry.bounds
    np.testing.assert_array_equal(parsed[0], bounds["minx"])
    np.testing.assert_array_equal(parsed[1], bounds["miny"])
    np.testing.assert_array_equal(bounds["maxx"] - bounds["minx"], size)
    np.testing.assert_array_equal(bounds["maxy"] - bounds["miny"], size)
    assert (bounds["minx"] % size == 0).all() and (bounds["miny"] % size == 0).all()
    assert ids.is_unique
    np.testing.assert_allclose(cells.geometry.area, size * size)


def test_only_cells_with_five_inhabitants_or_five_dwellings_are_published(grid):
    assert ((grid["aantal_inwoners"] >= 5) | (grid["aantal_woningen"] >= 5)).all()


def test_counts_are_rounded_to_fives_and_suppressed_with_cbs_codes(grid):
    values = grid[list(POPULATION_COLUMNS[:-1])].to_numpy()
    assert (values[values >= 0] % 5 == 0).all()
    assert set(np.unique(values[values < 0])) == {-99997, -99995}
    assert (grid[list(AGE_COLUMNS)] == -99997).any().all()
    assert (grid[list(AGE_COLUMNS)] == -99995).to_numpy().sum() >= 2
    assert (grid["aantal_inwoners"] == -99997).any()
    assert grid["stedelijkheid"].between(1, 5).all()
    assert (grid["stedelijkheid"] <= 3).any()


def test_age_bands_add_up_to_the_inhabitants_and_the_countryside_ages(grid):
    ages = grid[list(AGE_COLUMNS)]
    known = (ages >= 0).all(axis=1) & (grid["aantal_inwoners"] >= 0)
    total = ages[known].sum(axis=1)
    assert (np.abs(total - grid.loc[known, "aantal_inwoners"]) <= 15).all()
    sexes = grid[["aantal_mannen", "aantal_vrouwen"]]
    both = (sexes >= 0).all(axis=1)
    assert (np.abs(sexes[both].sum(axis=1) - grid.loc[both, "aantal_inwoners"]) <= 5).all()
    shares = ages[known].sum() / ages[known].sum().sum()
    assert shares["aantal_inwoners_65_jaar_en_ouder"] > shares["aantal_inwoners_0_tot_15_jaar"]


def test_grids_cover_only_the_dutch_side_inside_the_municipalities(demo_region, grid):
    municipalities = pyogrio.read_dataframe(demo_region.municipalities)
    assert municipalities.crs.to_epsg() == 28992
    assert list(municipalities["gemeentecode"]) == ["GM9901", "GM9902", "GM9903"]
    assert municipalities["gemeentenaam"].notna().all()
    netherlands = municipalities.union_all()
    assert grid.geometry.within(netherlands).all()
    assert municipalities.geometry.area.min() > 0.2 * municipalities.geometry.area.max()


def test_500m_grid_holds_the_same_people(demo_region, grid):
    coarse = pyogrio.read_dataframe(demo_region.grid_500m, layer="vierkant_500m")
    assert list(coarse.columns) == ["crs28992res500m", *POPULATION_COLUMNS, *PROXIMITY_COLUMNS,
                                    "geometry"]
    fine_total = grid.loc[grid["aantal_inwoners"] >= 0, "aantal_inwoners"].sum()
    coarse_total = coarse.loc[coarse["aantal_inwoners"] >= 0, "aantal_inwoners"].sum()
    assert abs(coarse_total - fine_total) < 0.02 * fine_total
    assert len(coarse) < len(grid)


def test_a_few_populated_cells_lie_over_2_km_from_any_road(osm, grid):
    road_nodes = np.unique([n for w in osm.ways if "highway" in w[2] for n in w[1]])
    index = {nid: k for k, nid in enumerate(osm.node_ids)}
    lonlat = np.array([osm.lonlat[index[n]] for n in road_nodes])
    x, y = TO_RD.transform(lonlat[:, 0], lonlat[:, 1])
    centres = grid.geometry.centroid
    distance, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([centres.x, centres.y]))
    far = grid[distance > 2000]
    assert 1 <= len(far) <= 10
    assert (far["aantal_inwoners"] >= 5).all()


# -- determinism and scale ----------------------------------------------------

def test_same_seed_gives_byte_identical_files(demo_region, tmp_path):
    again = generate.generate_demo(tmp_path / "again", seed=2024)
    for name in FILES:
        assert _io.file_digest(again.folder / name) == _io.file_digest(demo_region.folder / name), name


def test_another_seed_gives_another_region(demo_region, grid, tmp_path):
    other = generate.generate_demo(tmp_path / "other", seed=7)
    assert _io.file_digest(other.osm) != _io.file_digest(demo_region.osm)
    other_grid = pyogrio.read_dataframe(other.grid_100m)
    assert set(other_grid["crs28992res100m"]) != set(grid["crs28992res100m"])


def test_a_larger_scale_gives_a_larger_region(demo_region, tmp_path):
    bigger = generate.generate_demo(tmp_path / "bigger", seed=2024, scale=2.0)
    assert bigger.n_road_nodes > 1.5 * demo_region.n_road_nodes
    assert bigger.n_cells > 1.5 * demo_region.n_cells


@pytest.mark.parametrize("scale", [0.5, 0.0, -1.0, 201.0, float("nan")])
def test_a_scale_outside_1_to_200_is_refused(tmp_path, scale):
    with pytest.raises(ConfigError, match="^scale: .* is outside the range 1 to 200"):
        generate.generate_demo(tmp_path, scale=scale)
    assert not any(tmp_path.iterdir())


@settings(max_examples=50, deadline=None)
@given(u=st.floats(0, 40_000), v=st.floats(0, 30_000), seed=st.integers(0, 10))
def test_the_warp_from_lattice_to_rd_is_inverted_exactly(u, v, seed):
    frame = _frame.Frame.make(seed, 4.0)
    x, y = frame.to_rd(np.array([u]), np.array([v]))
    back_u, back_v = frame.from_rd(x, y)
    assert abs(back_u[0] - u) < 1e-6 and abs(back_v[0] - v) < 1e-6
