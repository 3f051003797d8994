"""What one task of a batch does: profile a region, measure a baseline, apply a
scenario, assess closures. Each is a plain function of picklable arguments, so
that it runs the same in this process or on a Dask worker; what it hands back to
the one who asked is a small :class:`TaskReport`, except a baseline, which stays
on its worker for the region's scenarios."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import closures, pipeline, regional, scenario
from ..run_config import RunConfig
from ..sources import boundaries
from ..sources import scenario as scenario_source

logger = logging.getLogger(__name__)


@dataclass
class TaskReport:
    """What a finished task hands back: small, whatever the region's size.

    ``folder`` is the profile folder written, ``files`` every file in it
    (the report's ``index.html`` among them when one was built),
    ``warnings`` those of the profile's manifest, ``line`` one line for the
    user, ``seconds`` the task's wall time.
    """

    key: str
    folder: Path | None = None
    files: list[Path] = field(default_factory=list)
    report: Path | None = None
    warnings: list[str] = field(default_factory=list)
    line: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def clip_regions(config: RunConfig, names: list[str], configs: dict[str, RunConfig]) -> TaskReport:
    """Clip the national inputs for every region in one pass (cached in the
    shared network cache); a region that cannot be resolved is left to its
    own task to report."""
    from ..errors import BereikbaarheidError

    started = time.perf_counter()
    munis = boundaries.read_municipalities(config.municipalities, config.settings)
    areas = {}
    for name in names:
        try:
            areas[name] = regional.resolve(configs[name], munis).area
        except BereikbaarheidError:
            pass
    regional.clipped_inputs(config, areas)
    return TaskReport(key="clip", line=f"inputs clipped for {len(areas)} region(s)",
                      seconds=time.perf_counter() - started)


def profile_region(config: RunConfig, lang: str | None) -> TaskReport:
    """Profile one region (no scenario follows, so no search is kept)."""
    started = time.perf_counter()
    result = pipeline.run_profile(dataclasses.replace(config, catalog=False))
    return _written(config.region, result, lang, started, _profile_line(result))


def measure_baseline(config: RunConfig, lang: str | None, write: bool = True
                     ) -> tuple[scenario.Baseline, TaskReport | None]:
    """A region's baseline, written as its profile (unless ``write`` is
    False: a closure assessment writes it with its table), and kept
    (searches and all) for the scenarios that follow."""
    started = time.perf_counter()
    config = dataclasses.replace(config, catalog=False)
    base = scenario.baseline(config)
    if not write:
        return base, None
    result = scenario.write_baseline(base)
    return base, _written(config.region, result, lang, started, _profile_line(result))


def report_of(pair: tuple[scenario.Baseline, TaskReport]) -> TaskReport:
    """The report of :func:`measure_baseline`'s pair (the baseline stays where it is)."""
    return pair[1]


def apply_scenario(pair: tuple[scenario.Baseline, TaskReport], what: scenario_source.Scenario,
                   lang: str | None) -> TaskReport:
    """One scenario on a region's baseline (the pair of
    :func:`measure_baseline`), updated incrementally, written to
    ``REGION@NAME`` with its differences."""
    started = time.perf_counter()
    applied = scenario.apply(pair[0], what, keep_state=False)
    result = scenario.write_applied(applied)
    key = applied.folder.name
    return _written(key, result, lang, started, f"{key}: written {applied.folder}")


def apply_kept(pair: tuple[scenario.Baseline, TaskReport | None],
               what: scenario_source.Scenario) -> scenario.Applied:
    """A scenario applied with its road searches kept, for closures on top
    of it; written with the closures' table (:func:`write_closures`)."""
    return scenario.apply(pair[0], what, keep_state=True)


def prepare_closures(target: tuple[scenario.Baseline, Any] | scenario.Applied,
                     which: str) -> closures.ClosureBase:
    """What every closure starts from: the baseline (the first of the pair
    of :func:`measure_baseline`) or an applied scenario."""

    types = None if which == "all" else [which]
    if isinstance(target, scenario.Applied):
        base = closures.closure_base(target.inputs, target.measured, cells=target.cells,
                                     timetable=target.timetable, types=types)
    else:
        base = closures.closure_base(target[0].inputs, target[0].measured, types=types)
    closures.candidates(base, which)  # an unknown type fails here, once
    return base


def closure_part(base: closures.ClosureBase, which: str, part: int, parts: int
                 ) -> pd.DataFrame:
    """The impact of closing every ``part``-th of ``parts`` facilities of ``which``."""

    ids = closures.candidates(base, which)[part::parts]
    return closures.impact_rows(base, ids)


def write_closures(target: tuple[scenario.Baseline, Any] | scenario.Applied,
                   base: closures.ClosureBase, which: str, lang: str | None,
                   *rows: pd.DataFrame) -> TaskReport:
    """Rank the closures and write them (``closure_impact.csv``) into the
    profile they were assessed on: the baseline's, or the scenario's."""

    started = time.perf_counter()
    table = closures.ranked(pd.concat(rows, ignore_index=True))
    extra = {"closures": {"type": which, "facilities": len(table),
                          "file": closures.CLOSURE_FILE}}
    tables = {closures.CLOSURE_FILE: table}
    if isinstance(target, scenario.Applied):
        target.manifest.update(extra)
        result = scenario.write_applied(target, extra_tables=tables)
        key = target.folder.name
    else:
        base_run = target[0]
        result = pipeline.write(base_run.inputs, base_run.measured, base_run.folder,
                                extra=extra, extra_tables=tables)
        key = base_run.folder.name
    folder = result.files["manifest"].parent
    return _written(key, result, lang, started,
                    f"{key}: {len(table)} {which} closure(s) ranked; written "
                    f"{folder / closures.CLOSURE_FILE}",
                    extra={"describe": closures.describe(table)})


def _written(key: str, result: pipeline.ProfileResult, lang: str | None, started: float,
             line: str, extra: dict[str, Any] | None = None) -> TaskReport:
    """The report of a written profile, with its HTML report built when
    ``lang`` is given."""
    folder = result.files["manifest"].parent
    files = list(result.files.values())
    index = None
    if lang is not None:
        from .. import report

        index = report.build_report(folder, lang=lang)
    return TaskReport(key=key, folder=folder, files=files, report=index,
                      warnings=list(result.manifest.get("warnings", [])), line=line,
                      seconds=time.perf_counter() - started, extra=extra or {})


def _profile_line(result: pipeline.ProfileResult) -> str:
    """``NAME: cells, inhabitants, median car time to a GP; written FOLDER``."""
    name = result.manifest["region"]
    summary = result.summary
    region = summary[summary["level"] == "region"]
    gp = region[(region["type"] == "gp") & (region["mode"] == "car")]
    median = f"{gp['median_time_s'].iloc[0] / 60:.1f} min" if len(gp) else "n/a"
    return (f"{name}: {len(result.cells)} cells, {region['population'].iloc[0]:,.0f} "
            f"inhabitants, median car time to a GP {median}; written "
            f"{result.files['manifest'].parent}")
