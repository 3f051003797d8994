"""What to run: a region, its input files, the output folders and settings.

It sits below the run itself (:mod:`bereikbaarheid.pipeline`), so that what
resolves and clips a region (:mod:`bereikbaarheid.regional`) and what runs
batches can take it without importing the run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _io
from . import config as config_file
from .config import Settings
from .errors import ConfigError


@dataclass
class RunConfig:
    """What to run: a region, its input files, the output folders and settings.

    Attributes
    ----------
    region
        Name of the region; the profile goes to ``output_dir / region``.
        For an NPVR region it is the registry id (``zeeuws-vlaanderen``).
    osm
        OpenStreetMap ``.osm.pbf`` covering the region (and a margin).
    grid
        CBS population grid GeoPackage (100 m or 500 m).
    municipalities
        Municipality boundaries (GeoPackage/GeoJSON, any CRS); the region is
        the union of the selected municipalities.
    facilities
        ``"osm"`` to take facilities from the OSM file by the tag rules, or a
        CSV/GeoPackage of facilities.
    gtfs
        GTFS feeds (zip files or folders) for public transport; none skips
        the ``pt`` mode.
    municipality_codes
        Restrict the region to these municipalities (all when empty).
    region_id
        An NPVR region of the registry (``bereikbaarheid regions`` lists
        them): its municipalities make the region.
    region_polygon
        A polygon file (any CRS) that is the region instead.
    registry
        A region registry file replacing the packaged one.
    clip
        Clip the OSM and GTFS inputs to the analysis area (region plus
        ``settings.area_buffer_m``) before building; the clipped files are
        cached. For national or provincial extracts.
    networks
        Road mode -> a network of one's own instead of the one built from
        ``osm``: a GraphML file saved by OSMnx or an OSM XML file (see
        :mod:`bereikbaarheid.networks.external`); it is not clipped.
    output_dir, cache_dir
        Where profiles and cached networks go.
    catalog
        The DuckDB catalogue (:mod:`bereikbaarheid.catalog`) that every
        profile written is added to: True (the default) for
        ``output_dir / "catalog.duckdb"``, a path for another file, False
        for none. :attr:`catalog_path` resolves it.
    settings
        Every tunable; see :class:`bereikbaarheid.config.Settings`.
    source
        The configuration file this was read from, if any; errors about a
        setting name it.
    """

    region: str
    osm: Path
    grid: Path
    municipalities: Path
    facilities: str | Path = "osm"
    gtfs: tuple[Path, ...] = ()
    municipality_codes: tuple[str, ...] = ()
    region_id: str | None = None
    region_polygon: Path | None = None
    registry: Path | None = None
    clip: bool = False
    networks: dict[str, Path] = field(default_factory=dict)
    output_dir: Path = Path("profiles")
    cache_dir: Path = Path("network_cache")
    catalog: Path | bool = True
    settings: Settings = field(default_factory=Settings)
    source: Path | None = None

    def __post_init__(self) -> None:
        problem = _io.folder_name_problem(self.region)
        if problem:
            raise ConfigError(problem, key="region name")
        # Paths may be given as text from Python.
        for name in ("osm", "grid", "municipalities", "output_dir", "cache_dir"):
            setattr(self, name, Path(getattr(self, name)))
        for name in ("region_polygon", "registry"):
            if getattr(self, name) is not None:
                setattr(self, name, Path(getattr(self, name)))
        if str(self.facilities) != "osm":
            self.facilities = Path(self.facilities)
        if not isinstance(self.catalog, (bool, str, os.PathLike)):
            raise ConfigError(f"expected a file path, True (catalog.duckdb in the output "
                              f"folder) or False (none); got {self.catalog!r}", key="catalog")
        if not isinstance(self.catalog, bool):
            self.catalog = Path(self.catalog)
        if isinstance(self.gtfs, (str, Path)):
            self.gtfs = (self.gtfs,)
        self.gtfs = tuple(Path(g) for g in self.gtfs)
        self.networks = {str(mode): Path(p) for mode, p in self.networks.items()}

    @property
    def catalog_path(self) -> Path | None:
        """The catalogue file the profiles are added to, or None for none."""
        if self.catalog is True:
            return Path(self.output_dir) / config_file.CATALOG_NAME
        return None if self.catalog is False else Path(self.catalog)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> RunConfig:
        """Read a run configuration; input paths are relative to the file.

        Every table, key and setting is checked (see
        :func:`bereikbaarheid.config.read_run_file`); ``overrides`` (e.g.
        ``output_dir``) replace values from the file.
        """
        path = Path(path)
        tables, settings = config_file.read_run_file(path)
        region, inputs, output = tables.region, tables.inputs, tables.output
        base = path.parent
        clip = inputs.clip
        if clip is None:
            clip = region.id is not None or region.polygon is not None
        values: dict[str, Any] = {
            "region": region.name or region.id,
            "region_id": region.id,
            "region_polygon": None if region.polygon is None else base / region.polygon,
            "registry": None if region.registry is None else base / region.registry,
            "clip": clip,
            "municipality_codes": tuple(region.municipalities),
            "networks": {mode: base / file for mode, file in inputs.networks.items()},
            "osm": base / inputs.osm,
            "grid": base / inputs.grid,
            "municipalities": base / inputs.municipalities,
            "facilities": inputs.facilities if inputs.facilities == "osm"
            else base / inputs.facilities,
            "gtfs": tuple(base / g for g in inputs.gtfs),
            "output_dir": Path(output.folder),
            "cache_dir": Path(output.cache),
            "catalog": output.catalog if isinstance(output.catalog, bool) else Path(output.catalog),
            "settings": settings,
            "source": path,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ConfigError as exc:
            raise exc.located(path) from None
