"""Bad input values stop a run with one clear InputError, end to end on the demo region.

Each case breaks one input of the demo the way a user might (a grid that misses
the region, boundaries under a wrong CRS label, a region where nobody lives, a
misspelt facility type) and checks the run stops before measuring, naming the
file and what was expected.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pyogrio
import pytest

from bereikbaarheid import RunConfig, pipeline
from bereikbaarheid.config import Settings
from bereikbaarheid.errors import InputError

POPULATION = ["aantal_inwoners", "aantal_mannen", "aantal_vrouwen",
              "aantal_inwoners_0_tot_15_jaar", "aantal_inwoners_15_tot_25_jaar",
              "aantal_inwoners_25_tot_45_jaar", "aantal_inwoners_45_tot_65_jaar",
              "aantal_inwoners_65_jaar_en_ouder"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _config(demo_region, tmp_path, cache, **inputs) -> RunConfig:
    values = {"region": "demo", "osm": demo_region.osm, "grid": demo_region.grid_100m,
              "municipalities": demo_region.municipalities,
              "facilities": demo_region.facilities_csv, "output_dir": tmp_path / "profiles",
              "cache_dir": cache, "settings": Settings(modes=("car",))}
    values.update(inputs)
    return RunConfig(**values)


def _grid(demo_region, path, change):
    frame = pyogrio.read_dataframe(demo_region.grid_100m)
    layer = pyogrio.list_layers(demo_region.grid_100m)[0][0]
    pyogrio.write_dataframe(change(frame), path, layer=layer, driver="GPKG")
    return path


def test_an_empty_grid_layer(demo_region, tmp_path, cache):
    grid = _grid(demo_region, tmp_path / "empty.gpkg", lambda f: f.iloc[:0])
    with pytest.raises(InputError) as info:
        pipeline.prepare(_config(demo_region, tmp_path, cache, grid=grid))
    assert info.value.path == grid
    assert re.fullmatch(
        r"no grid cell lies in region 'demo' \(x \d+ to \d+, y \d+ to \d+ in EPSG:28992\); "
        r"the grid layer 'vierkant_100m' holds no cells; expected the grid and the boundaries "
        r"\(.*gemeenten\.gpkg\) to overlap", info.value.message), info.value.message


def test_boundaries_far_from_the_grid(demo_region, tmp_path, cache):
    munis = gpd.read_file(demo_region.municipalities)
    munis.geometry = munis.geometry.translate(100_000, 100_000)  # still in the Netherlands
    moved = tmp_path / "moved.gpkg"
    munis.to_file(moved)
    with pytest.raises(InputError) as info:
        pipeline.prepare(_config(demo_region, tmp_path, cache, municipalities=moved))
    message = info.value.message
    assert info.value.path == demo_region.grid_100m
    assert message.startswith("no grid cell lies in region 'demo' (x 1")
    assert "; the grid covers x 30000 to " in message
    assert "expected the grid and the boundaries" in message


def test_rd_boundaries_labelled_wgs84(demo_region, tmp_path, cache):
    munis = gpd.read_file(demo_region.municipalities).set_crs("EPSG:4326", allow_override=True)
    mislabelled = tmp_path / "mislabelled.gpkg"
    munis.to_file(mislabelled)
    with pytest.raises(InputError) as info:
        pipeline.prepare(_config(demo_region, tmp_path, cache, municipalities=mislabelled))
    assert info.value.path == mislabelled
    assert "which are no longitude/latitude, yet the file declares EPSG:4326" in str(info.value)
    assert "is the CRS label wrong? expected EPSG:28992" in str(info.value)


@pytest.mark.parametrize("value, suppressed", [(0, "0 suppressed"), (-99997, "suppressed")])
def test_a_region_where_nobody_lives(demo_region, tmp_path, cache, value, suppressed):
    def empty(frame):
        frame[POPULATION] = value
        return frame

    grid = _grid(demo_region, tmp_path / "nobody.gpkg", empty)
    with pytest.raises(InputError) as info:
        pipeline.prepare(_config(demo_region, tmp_path, cache, grid=grid))
    assert info.value.path == grid
    assert re.fullmatch(r"the \d+ grid cells of region 'demo' hold no inhabitants "
                        rf"\(aantal_inwoners sums to 0; \d*\s?{suppressed}\); nothing to "
                        r"profile; expected a region where people live", info.value.message)


def test_a_negative_population_stops_the_run(demo_region, tmp_path, cache):
    def negative(frame):
        frame.loc[frame.index[3], "aantal_inwoners"] = -15
        return frame

    grid = _grid(demo_region, tmp_path / "negative.gpkg", negative)
    with pytest.raises(InputError, match=r"row 4 \(cell E\d{4}N\d{4}\): column "
                                         r"'aantal_inwoners': -15 is negative"):
        pipeline.prepare(_config(demo_region, tmp_path, cache, grid=grid))


@pytest.mark.parametrize("typo, hint", [("Supermarkt", " (did you mean 'supermarket'?)"),
                                        ("pharmacy", "")])
def test_a_misspelt_facility_type_stops_the_run(demo_region, tmp_path, cache, typo, hint):
    lines = demo_region.facilities_csv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("type")] = typo
    register = tmp_path / "facilities.csv"
    register.write_text("\n".join([lines[0], *lines[2:], ",".join(row)]) + "\n")
    with pytest.raises(InputError) as info:
        pipeline.prepare(_config(demo_region, tmp_path, cache, facilities=register))
    assert info.value.path == register
    assert info.value.message.startswith(
        f"line {len(lines)}: field 'type': unknown facility type {typo!r}{hint}; expected one "
        "of ['gp', 'school', 'supermarket']")
    # Held on purpose: left out, and the run goes on.
    config = _config(demo_region, tmp_path, cache, facilities=register,
                     settings=Settings(modes=("car",), ignore_facility_types=(typo.lower(),)))
    inputs = pipeline.prepare(config)
    assert len(inputs.facilities) > 0 and typo.lower() not in set(inputs.facilities["type"])
