"""The batch file: regions x scenario files x projection years, checked in full before
anything runs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .. import _io
from .._schema import describe_errors
from ..closures import CLOSURE_TYPES
from ..errors import ConfigError, InputError
from ..run_config import RunConfig
from ..sources import projection as projection_source
from ..sources import regions
from ..sources import scenario as scenario_source

# What --each-closure and each_closure accept.
CLOSURE_CHOICES = CLOSURE_TYPES


class _Table(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class BatchTable(_Table):
    """``[batch]``: the run configuration and what to vary."""

    config: str
    regions: list[str] = []
    scenarios: list[str] = []
    projection: str | None = None
    years: list[int] = []
    each_closure: str | None = None

    @field_validator("each_closure")
    @classmethod
    def _closure_type(cls, value: str | None) -> str | None:
        if value is not None and value not in CLOSURE_TYPES:
            raise ValueError(f"expected one of {', '.join(CLOSURE_TYPES)}; got {value!r}")
        return value

    @field_validator("regions", mode="before")
    @classmethod
    def _all(cls, value: Any) -> Any:
        """``regions = "all"``: every region of the registry."""
        return [value] if isinstance(value, str) else value


class RegionEntry(_Table):
    """``[[region]]``: a region of one's own, by municipality codes or a polygon file."""

    name: str
    municipalities: list[str] = []
    polygon: str | None = None


class BatchFile(_Table):
    batch: BatchTable
    region: list[RegionEntry] = []


@dataclass
class Batch:
    """A batch as read: one run configuration per region and the scenario
    variants applied to every region.

    Attributes
    ----------
    path
        The batch file.
    configs
        Region name -> its run configuration (the batch's configuration
        with the region set), in the file's order: registry regions first.
    variants
        The scenarios run on every region's baseline: each scenario file as
        written, the projection to each year on its own (``projection-YEAR``),
        and each scenario file in each year (``NAME-YEAR``).
    each_closure
        The facility type (or ``all``) whose closures are each assessed on
        every region's baseline, or None.
    """

    path: Path
    configs: dict[str, RunConfig]
    variants: list[scenario_source.Scenario]
    each_closure: str | None = None

    def describe(self) -> str:
        """One line: how many regions, variants and tasks."""
        n = len(self.configs)
        tasks = n * (1 + len(self.variants) + (1 if self.each_closure else 0))
        closures = f", each {self.each_closure} closure" if self.each_closure else ""
        return (f"batch {self.path.name}: {n} region(s) x (baseline + "
                f"{len(self.variants)} scenario(s){closures}) = {tasks} task(s)")


def read_batch(path: str | Path, **overrides: Any) -> Batch:
    """Read and check a batch file; paths in it are relative to it.

    ``overrides`` (``output_dir``, ``cache_dir``, ``catalog``) replace the
    run configuration's values. Every file named is read and every scenario
    checked here, so that a mistake stops the batch before it starts.
    """
    path = Path(path)
    data = _io.read_toml(path, "a TOML batch file")
    try:
        spec = BatchFile.model_validate(data)
    except ValidationError as exc:
        key, message = describe_errors(exc, known=_table_keys, word="key", examples={
            "batch.regions": ["zeeuws-vlaanderen", "achterhoek"],
            "batch.scenarios": ["scenarios/close-village-gp.toml"],
            "batch.years": [2030, 2040]})
        raise ConfigError(message, path=path, key=key) from None
    base_dir = path.parent
    table = spec.batch
    config = RunConfig.from_toml(base_dir / table.config, **overrides)
    analysed = list(config.settings.facility_types)
    if table.each_closure not in (None, "all", *analysed):
        raise ConfigError(f"{table.each_closure!r} is not analysed; expected one of the "
                          f"analysed types {analysed} or 'all' (the settings' facility_types)",
                          path=path, key="batch.each_closure")
    configs = _region_configs(path, config, table.regions, spec.region, base_dir)
    variants = _variants(path, table, base_dir)
    names = [v.name for v in variants]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"scenario name(s) {twice} occur more than once; expected each "
                          "variant to have its own name (its folder is REGION@NAME)",
                          path=path, key="batch.scenarios")
    return Batch(path=path, configs=configs, variants=variants,
                 each_closure=table.each_closure)


def _table_keys(loc: tuple) -> list[str]:
    tables = {(): BatchFile, ("batch",): BatchTable, ("region",): RegionEntry}
    model = tables.get(tuple(p for p in loc if not isinstance(p, int)))
    return [] if model is None else list(model.model_fields)


def _region_configs(path: Path, config: RunConfig, ids: list[str], own: list[RegionEntry],
                    base_dir: Path) -> dict[str, RunConfig]:
    """One run configuration per region: the registry's (``"all"`` or ids) and
    the batch's own; none given is the configuration's own region."""
    out: dict[str, RunConfig] = {}
    if ids:
        registry = regions.read_registry(config.registry)
        wanted = list(registry) if ids == ["all"] else ids
        unknown = [i for i in wanted if i not in registry]
        if unknown:
            raise ConfigError(f"{unknown} are not regions of the registry; expected ids "
                              f"such as {list(registry)[:3]} (`bereikbaarheid regions`), "
                              'or "all"', path=path, key="batch.regions")
        for region_id in wanted:
            out[region_id] = dataclasses.replace(
                config, region=region_id, region_id=region_id, municipality_codes=(),
                region_polygon=None, clip=True)
    for i, entry in enumerate(own, start=1):
        where = f"region[{i}]"
        if bool(entry.municipalities) == (entry.polygon is not None):
            raise ConfigError("expected either municipalities or polygon", path=path,
                              key=where)
        problem = _io.folder_name_problem(entry.name)
        if problem:
            raise ConfigError(problem, path=path, key=f"{where}.name")
        if entry.name in out:
            raise ConfigError(f"region {entry.name!r} is named twice; expected one name per "
                              "region (its output folder)", path=path, key=f"{where}.name")
        polygon = None if entry.polygon is None else base_dir / entry.polygon
        if polygon is not None and not polygon.is_file():
            raise InputError(polygon, f"file not found; named by {where}.polygon of {path}")
        out[entry.name] = dataclasses.replace(
            config, region=entry.name, region_id=None,
            municipality_codes=tuple(entry.municipalities), region_polygon=polygon,
            clip=config.clip or polygon is not None)
    return out or {config.region: config}


def _variants(path: Path, table: BatchTable, base_dir: Path) -> list[scenario_source.Scenario]:
    """The scenario files as written, the projection per year, and each file per year."""
    files = [scenario_source.read_scenario(base_dir / s) for s in table.scenarios]
    if table.years and table.projection is None:
        raise ConfigError("years need a projection file: projection = \"projection.csv\" "
                          "(factors per municipality, age band and year)", path=path,
                          key="batch.projection")
    if table.projection is not None and not table.years:
        raise ConfigError("a projection needs the years to project to, e.g. years = "
                          "[2030, 2040]", path=path, key="batch.years")
    if not table.years:
        return files
    projection_file = (base_dir / table.projection).resolve()
    projection = projection_source.read_projection(projection_file)
    missing = [y for y in table.years if y not in projection.years]
    if missing:
        raise ConfigError(f"{missing} are not in {projection_file.name}; its years are "
                          f"{list(projection.years)}", path=path, key="batch.years")
    own = [s.name for s in files if s.projection is not None]
    if own:
        raise ConfigError(f"scenario(s) {own} have a [projection] of their own; with years "
                          "the batch projects each scenario itself; expected scenario files "
                          "without [projection]", path=path, key="batch.scenarios")
    out = list(files)
    for year in table.years:
        choice = scenario_source.ProjectionChoice(file=projection_file, year=year,
                                                  projection=projection)
        out.append(scenario_source.Scenario(
            path=path, name=f"projection-{year}",
            description=f"population projected to {year} ({projection_file.name})",
            projection=choice))
        out += [dataclasses.replace(s, name=f"{s.name}-{year}", projection=choice,
                                    description=f"{s.description} (population of {year})")
                for s in files]
    return out
