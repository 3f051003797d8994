"""The offline HTML report: files, content, languages, the raster of the cells, old profiles.

The report is built from profile folders the pipeline writes for the demo
region (a baseline and the close-village-gp scenario). Older profiles
(before schema 1.5.0) lack ``areas.parquet`` and the facilities' x/y; the
tests add them from the demo's own inputs where the writer did not, and
remove them for the old-profile case, so both kinds are always covered.
"""

from __future__ import annotations

import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bereikbaarheid import InputError, RunConfig, run_scenario
from bereikbaarheid.report import LANGUAGES, _data, _i18n, _raster, build_report

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"


# -- fixtures -----------------------------------------------------------------


def _with_locations(folder: Path, region: Path) -> Path:
    """``folder`` with areas.parquet and facility x/y, added from the demo's
    inputs when the profile writer did not write them (schema < 1.5.0)."""
    if not (folder / "areas.parquet").is_file():
        muni = gpd.read_file(region / "gemeenten.gpkg").rename(
            columns={"gemeentecode": "area_code", "gemeentenaam": "area_name"})
        muni["level"] = "municipality"
        whole = gpd.GeoDataFrame({"level": ["region"], "area_code": ["demo"],
                                  "area_name": ["demo"]},
                                 geometry=[muni.union_all()], crs=muni.crs)
        pd.concat([whole, muni[["level", "area_code", "area_name", "geometry"]]],
                  ignore_index=True).to_parquet(folder / "areas.parquet")
    facilities = pd.read_csv(folder / "facilities.csv")
    if "x" not in facilities.columns:
        where = pd.read_csv(region / "facilities.csv")[["facility_id", "x", "y"]]
        facilities.merge(where, on="facility_id", how="left").to_csv(
            folder / "facilities.csv", index=False)
    return folder


def _old(folder: Path, target: Path) -> Path:
    """A copy of ``folder`` as a profile before schema 1.5.0 looks."""
    shutil.copytree(folder, target)
    (target / "areas.parquet").unlink(missing_ok=True)
    (target / "municipalities.geojson").unlink(missing_ok=True)
    shutil.rmtree(target / "report", ignore_errors=True)
    facilities = pd.read_csv(target / "facilities.csv")
    facilities.drop(columns=["x", "y", "lon", "lat"], errors="ignore").to_csv(
        target / "facilities.csv", index=False)
    return target


@pytest.fixture(scope="module")
def folders(demo_region, tmp_path_factory) -> dict[str, Path]:
    """The demo baseline and the close-village-gp scenario folders."""
    work = tmp_path_factory.mktemp("report")
    config = RunConfig.from_toml(demo_region.config, output_dir=work / "profiles",
                                 cache_dir=work / "cache")
    run_scenario(config, EXAMPLES / "close-village-gp.toml")
    region = Path(demo_region.config).parent
    return {"baseline": _with_locations(work / "profiles" / "demo", region),
            "scenario": _with_locations(work / "profiles" / "demo@close-village-gp", region),
            "work": work}


@pytest.fixture(scope="module")
def pages(folders) -> dict[str, str]:
    """The Dutch and English pages of the baseline (the English one from a copy)."""
    english = folders["work"] / "en" / "demo"
    shutil.copytree(folders["baseline"], english)
    nl = build_report(folders["baseline"])
    en = build_report(english, lang="en")
    return {"nl": nl.read_text(encoding="utf-8"), "en": en.read_text(encoding="utf-8"),
            "nl_path": nl, "en_path": en}


class _Elements(HTMLParser):
    """Every start tag with its attributes and the sections it lies in."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[dict[str, str]]]] = []
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.text: dict[int, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        sections = [a for t, a in self.stack if t == "section"]
        self.elements.append((tag, attributes, sections))
        if tag not in ("img", "image", "link", "meta", "br", "input", "circle", "path"):
            self.stack.append((tag, attributes))

    def handle_startendtag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes, [a for t, a in self.stack if t == "section"]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.stack:
            key = id(self.stack[-1][1])
            self.text[key] = self.text.get(key, "") + data


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _classes(attributes: dict[str, str]) -> set[str]:
    return set(attributes.get("class", "").split())


def _visible_text(html: str) -> str:
    """The page's text without tags, scripts, styles and data URIs."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    html = re.sub(r'"data:[^"]*"', '""', html)
    return re.sub(r"<[^>]+>", " ", html)


# -- the files ----------------------------------------------------------------


def test_the_report_and_its_figures_are_written(folders, pages):
    report = folders["baseline"] / "report"
    assert pages["nl_path"] == report / "index.html"
    profile = _data.load(folders["baseline"])
    names = {p.name for p in (report / "figures").glob("*.png")}
    expected = {f"map_{t}_{m}.png" for t in profile.types for m in profile.modes[t]}
    expected |= {f"choropleth_{t}.png" for t in profile.types}
    expected |= {"cumulative.png", "capacity_facilities.png", "capacity_municipalities.png",
                 "equity.png", "border.png", "cbs.png", "pt_spread.png"}
    assert expected <= names
    for name in names:
        with Image.open(report / "figures" / name) as picture:
            assert [round(v) for v in picture.info["dpi"]] == [150, 150], name
            colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
            assert len(colours) > 8, f"{name} looks blank"
    # Nothing of the build is left beside the report.
    assert not [p for p in folders["baseline"].iterdir() if p.name.startswith(".")]


def test_the_page_references_nothing_outside_itself(pages):
    for lang in LANGUAGES:
        html = pages[lang]
        assert f'<html lang="{lang}">' in html
        assert '<link rel="icon" href="data:,">' in html
        for tag, attributes, _ in _parse(html).elements:
            for key in ("src", "href"):
                value = attributes.get(key)
                if value is not None:
                    assert value.startswith(("data:", "#")), (tag, key, value[:80])
        assert "url(" not in html and "@import" not in html
        assert "http://" not in html and "https://" not in html


def test_a_map_per_type_with_a_button_per_mode_borders_and_facilities(folders, pages):
    profile = _data.load(folders["baseline"])
    shapes = profile.municipality_shapes()
    parsed = _parse(pages["nl"])
    maps = [a for t, a, _ in parsed.elements if t == "section" and _classes(a) == {"map"}]
    assert [m["data-type"] for m in maps] == profile.types
    for section in maps:
        ftype = section["data-type"]
        inside = [(t, a) for t, a, s in parsed.elements if s and s[-1] is section]
        buttons = [a for t, a in inside if t == "button" and "mode-button" in _classes(a)]
        assert [b["data-mode"] for b in buttons] == profile.modes[ftype]
        assert [b["aria-pressed"] for b in buttons] == ["true"] + ["false"] * (len(buttons) - 1)
        assert section["data-mode"] == buttons[0]["data-mode"]
        # The other modes' images travel with their buttons.
        assert all(b["data-src"].startswith("data:image/png;base64,") for b in buttons[1:])
        images = [a for t, a in inside if t == "image" and "cells" in _classes(a)]
        assert len(images) == 1 and images[0]["href"].startswith("data:image/png;base64,")
        assert len([1 for t, a in inside if t == "svg" and "map-svg" in _classes(a)]) == 1
        borders = [a for t, a in inside if t == "path" and "border" in _classes(a)]
        assert len(borders) == len(shapes)
        circles = [a for t, a in inside if t == "circle" and "facility" in _classes(a)]
        assert len(circles) == len(profile.facility_points(ftype)) > 0
        assert any(t == "div" and "legend" in _classes(a) for t, a in inside)
    choropleths = [a for t, a, _ in parsed.elements
                   if t == "section" and "choropleth" in _classes(a)]
    assert [c["data-type"] for c in choropleths] == profile.types
    areas = [a for t, a, s in parsed.elements
             if t == "path" and "area" in _classes(a) and s and s[-1] is choropleths[0]]
    assert len(areas) == len(shapes)
    assert all(a["fill"].startswith("#") for a in areas)
    figures = [a for t, a, _ in parsed.elements if t == "img" and "figure" in _classes(a)]
    assert len(figures) >= 7
    assert all(a["src"].startswith("data:image/png;base64,") for a in figures)


def test_the_headline_numbers_are_the_summary_s(folders, pages):
    summary = pd.read_csv(folders["baseline"] / "summary.csv")
    region = summary[summary["level"] == "region"]
    for lang in LANGUAGES:
        texts = _i18n.Texts(lang)
        cells = {(m.group(1), m.group(2), m.group(3)): m.group(4) for m in re.finditer(
            r'data-stat="(\w+)" data-type="(\w+)" data-mode="(\w+)">([^<]*)<', pages[lang])}
        assert len(cells) == 6 * len(region)
        for row in region.itertuples():
            key = (row.type, row.mode)
            assert cells[("median", *key)] == texts.minutes(row.median_time_s)
            assert cells[("p90", *key)] == texts.minutes(row.p90_time_s)
            assert cells[("within_norm", *key)] == texts.percent(1 - row.share_beyond_norm)
            assert cells[("beyond_all", *key)] == texts.count(
                row.share_beyond_norm * row.population)
            assert cells[("beyond_65", *key)] == texts.count(
                row.share_65_plus_beyond_norm * row.population_65_plus)
    # By eye: 11.4 minutes is "11,4" in Dutch and "11.4" in English.
    assert _i18n.format_number(683.0 / 60, 1, "nl") == "11,4"
    assert _i18n.format_number(683.0 / 60, 1, "en") == "11.4"
    assert _i18n.format_number(-12345.67, 1, "nl") == "\u221212.345,7"
    assert _i18n.format_number(12345.67, 0, "en") == "12,346"
    assert _i18n.format_number(-0.04, 1, "en") == "0.0"
    assert _i18n.format_number(float("nan"), 1, "nl") == "–"


def test_both_languages_have_every_text_and_no_words_of_the_other(pages):
    assert set(_i18n.TEXTS["nl"]) == set(_i18n.TEXTS["en"])
    for key in _i18n.TEXTS["nl"]:
        fields = set(re.findall(r"{(\w+)}", _i18n.TEXTS["nl"][key]))
        assert fields == set(re.findall(r"{(\w+)}", _i18n.TEXTS["en"][key])), key
    english, dutch = _visible_text(pages["en"]), _visible_text(pages["nl"])
    for word in ("Reistijd", "reistijd", "inwoners", "binnen de norm", "gemeentegrens",
                 "Kerncijfers", "vervoerwijze", "te voet", "fiets", "huisarts "):
        assert word not in english, word
    for word in ("Travel time", "travel time", "residents", "within the norm",
                 "municipality border", "Key figures", "walking", "cycling", "GP practice"):
        assert word not in dutch, word
    with pytest.raises(ValueError, match="unknown language 'de'"):
        _i18n.Texts("de")


def test_a_scenario_report_has_difference_maps_and_tables(folders):
    folder = folders["scenario"]
    index = build_report(folder, lang="en")
    html = index.read_text(encoding="utf-8")
    profile = _data.load(folder)
    parsed = _parse(html)
    differences = [a for t, a, _ in parsed.elements
                   if t == "section" and _classes(a) == {"map", "difference"}]
    assert [d["data-type"] for d in differences] == profile.types
    for section in differences:
        inside = [(t, a) for t, a, s in parsed.elements if s and s[-1] is section]
        buttons = [a for t, a in inside if t == "button" and "mode-button" in _classes(a)]
        assert [b["data-mode"] for b in buttons] == profile.modes[section["data-type"]]
        assert len([a for t, a in inside if t == "image" and "cells" in _classes(a)]) == 1
    names = {p.name for p in (folder / "report" / "figures").glob("diff_*.png")}
    assert names == {f"diff_{t}_{m}.png" for t in profile.types for m in profile.modes[t]}
    # The closed practice is in the facility table, and the region's median
    # change by walking is on the page.
    assert "osm:w1454" in html and ">closed<" in html
    diff = pd.read_csv(folder / "diff_summary.csv")
    row = diff[(diff["level"] == "region") & (diff["type"] == "gp") & (diff["mode"] == "walk")]
    change = _i18n.Texts("en").minutes_change(row["median_time_s_change"].iloc[0])
    assert f">{change}<" in html and change.startswith("+")  # slower: a closed practice
    assert "close-village-gp" in html


def test_a_profile_before_schema_1_5_builds_without_borders_and_facilities(folders, tmp_path):
    folder = _old(folders["baseline"], tmp_path / "old")
    html = build_report(folder).read_text(encoding="utf-8")
    parsed = _parse(html)
    assert not [1 for t, a, _ in parsed.elements if t == "path" and "border" in _classes(a)]
    assert not [1 for t, a, _ in parsed.elements if t == "circle"]
    assert not [1 for t, a, _ in parsed.elements if t == "section"
                and "choropleth" in _classes(a)]
    maps = [a for t, a, _ in parsed.elements if t == "section" and _classes(a) == {"map"}]
    assert len(maps) == len(_data.load(folder).types)
    assert "areas.parquet" in html and "1.5.0" in html  # said why
    assert (folder / "report" / "figures" / "map_gp_walk.png").is_file()


def test_a_folder_that_is_no_profile_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError) as caught:
        build_report(tmp_path)
    assert caught.value.path == tmp_path and "manifest.json" in caught.value.message
    missing = tmp_path / "nowhere"
    with pytest.raises(InputError) as caught:
        build_report(missing)
    assert caught.value.path == missing
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="summary.csv"):
        build_report(tmp_path)
    pd.DataFrame({"level": ["region"], "area_code": ["x"], "type": ["gp"], "mode": ["car"],
                  "median_time_s": [1.0], "share_beyond_norm": [0.0]}).to_csv(
        tmp_path / "summary.csv", index=False)
    (tmp_path / "cells.parquet").write_text("not parquet", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        build_report(tmp_path)
    assert caught.value.path == tmp_path / "cells.parquet"
    assert not (tmp_path / "report").exists()


def test_an_unknown_language_is_a_value_error_before_anything_is_read(tmp_path):
    with pytest.raises(ValueError, match="expected one of nl, en"):
        build_report(tmp_path / "nowhere", lang="fr")


def test_a_rebuild_replaces_the_whole_report(folders, tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(folders["baseline"], folder, ignore=shutil.ignore_patterns("report"))
    build_report(folder)
    stray = folder / "report" / "figures" / "left-over.png"
    stray.write_bytes(b"")
    build_report(folder, lang="en")
    assert not stray.exists()
    assert '<html lang="en">' in (folder / "report" / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


# -- the raster of the cells -------------------------------------------------------


def test_three_cells_land_on_their_pixels_with_their_classes():
    # Cells of 100 m with centroids (50, 150), (150, 150) and (250, 50): a
    # 2 x 3 image, north row first. 1 minute is class 0 (0-5), 11.7
    # minutes class 2 (10-15), no time class 5 (unreachable).
    x, y = np.array([50.0, 150.0, 250.0]), np.array([150.0, 150.0, 50.0])
    classes = _raster.time_classes(np.array([60.0, 700.0, np.nan]), [5, 10, 15, 30])
    assert classes.tolist() == [0, 2, 5]
    where = _raster.layout(x, y, 100.0)
    assert where.factor == 1 and where.shape == (2, 3)
    assert where.extent == (0.0, 300.0, 0.0, 200.0)
    palette = _raster.time_palette(5)
    image = _raster.paint(where, classes, palette)
    b = _raster.BACKGROUND
    assert image.tolist() == [[0, 2, b], [b, b, 5]]
    # The PNG keeps the classes as palette indices, background transparent.
    with Image.open(io.BytesIO(_raster.png(image, palette.colours))) as picture:
        assert picture.mode == "P" and picture.size == (3, 2)
        assert np.asarray(picture).tolist() == image.tolist()
        assert picture.info["transparency"] == b
        rgb = picture.getpalette()[3 * 5:3 * 6]
        assert "#{:02x}{:02x}{:02x}".format(*rgb) == _raster.UNREACHABLE_GREY


def test_a_time_on_a_threshold_is_within_it():
    classes = _raster.time_classes(np.array([0.0, 300.0, 300.001, 1800.0, 1800.5]),
                                   [5, 10, 15, 30])
    assert classes.tolist() == [0, 0, 1, 3, 4]


def test_a_reduced_raster_keeps_the_worst_class_of_each_block():
    # A 4 x 4 grid of cells at most 2 pixels a side: blocks of 2 x 2 cells.
    xs, ys = np.meshgrid(np.arange(4) * 100.0 + 50, np.arange(4) * 100.0 + 50)
    x, y = xs.ravel(), ys.ravel()
    classes = np.zeros(16, dtype=np.uint8)
    classes[(x < 200) & (y > 200)] = [0, 1, 0, 3]      # north-west block: worst 3
    classes[(x > 200) & (y > 200)] = [5, 0, 0, 0]      # north-east: one unreachable
    classes[(x < 200) & (y < 200)] = [2, 2, 2, 2]      # south-west: all 2
    keep = ~((x > 200) & (y < 200))                    # south-east: no cells
    where = _raster.layout(x[keep], y[keep], 100.0, max_pixels=2)
    assert where.factor == 2 and where.shape == (2, 2) and where.pixel_m == 200.0
    image = _raster.paint(where, classes[keep], _raster.time_palette(5))
    assert image.tolist() == [[3, 5], [2, _raster.BACKGROUND]]


def test_difference_classes_and_their_block_order():
    change_s = np.array([-600.0, -120.0, 0.0, 30.0, 120.0, 600.0, np.nan, np.nan, np.nan])
    scenario_s = np.array([60.0, 60.0, 60.0, 60.0, 60.0, 900.0, 300.0, np.nan, np.nan])
    within = np.array([0, 0, 0, 0, 0, 0, 0, 0, -1])
    classes = _raster.change_classes(change_s, scenario_s, within)
    assert classes.tolist() == [0, 1, 2, 2, 3, 4, 0, 5, 6]
    palette = _raster.change_palette()
    # Two cells per pixel: a loss outweighs a gain, anything outweighs grey.
    x = np.array([50.0, 150.0, 250.0, 350.0])
    y = np.full(4, 50.0)
    where = _raster.layout(x, y, 100.0, max_pixels=2)
    image = _raster.paint(where, np.array([0, 4, 5, 1]), palette)
    assert image.tolist() == [[4, 1]]


def test_the_cumulative_share_counts_the_unreached_as_never_within():
    # 1 resident at 1 minute, 2 at 10 minutes, 1 never: 25 % within 5, 75 % within 10.
    share = _data.cumulative_share(np.array([60.0, 600.0, np.nan]), np.array([1.0, 2.0, 1.0]),
                                   np.array([0.0, 1.0, 5.0, 10.0, 60.0]))
    assert share.tolist() == [0.0, 0.25, 0.25, 0.75, 0.75]
    assert _data.weighted_quantile(np.array([60.0, 600.0]), np.array([1.0, 3.0]), 0.5) == 600.0


def test_closures_are_shown_on_a_map_and_in_a_table(demo_region, folders, pages, tmp_path):
    """A profile written with --each-closure: a section with every closed GP
    on a map (coloured by the residents pushed beyond the norm, sized by the
    extra minutes) and the worst fifteen in rank order; none without it."""
    from bereikbaarheid import cli

    assert 'id="closures"' not in pages["nl"]
    code = cli.main(["scenario", str(demo_region.config), "--each-closure", "gp", "--output",
                     str(tmp_path / "p"), "--cache", str(folders["work"] / "cache"),
                     "--lang", "en", "-q"])
    assert code == 0
    html = (tmp_path / "p" / "demo" / "report" / "index.html").read_text(encoding="utf-8")
    parser = _Elements()
    parser.feed(html)
    table = pd.read_csv(tmp_path / "p" / "demo" / "closure_impact.csv")
    circles = [a for tag, a, _ in parser.elements if tag == "circle"
               and a.get("class") == "closure"]
    assert sorted(int(a["data-rank"]) for a in circles) == list(range(1, len(table) + 1))
    assert {a["data-facility"] for a in circles} == set(table["facility_id"])
    worst = table.sort_values("rank").iloc[0]
    first = next(a for a in circles if a["data-rank"] == "1")
    others = [float(a["r"]) for a in circles]
    assert float(first["r"]) == max(others)  # no one pushed beyond: the most minutes
    assert first["data-facility"] == worst["facility_id"]
    assert "If one facility closes" in html and "All 23 are in closure_impact.csv" in html
    rows = [a for tag, a, sections in parser.elements if tag == "tr"
            and any(s.get("id") == "closures" for s in sections)]
    assert len(rows) == 1 + 15  # the header and the worst fifteen
