"""Batches as tasks: what runs, on what, after what."""

from __future__ import annotations

from collections.abc import Mapping

from ..run_config import RunConfig
from ..sources import scenario as scenario_source
from . import _tasks
from ._run import Ref, Task
from ._spec import Batch


def plan_regions(configs: Mapping[str, RunConfig], *, lang: str | None,
                 clip: bool = True) -> list[Task]:
    """Profile every region: first clip the inputs of the regions that clip,
    in one pass, then one task per region."""
    tasks = _clipping(configs) if clip else []
    after = tuple(t.key for t in tasks)
    for name, config in configs.items():
        tasks.append(Task(key=name, fn=_tasks.profile_region, args=(config, lang), after=after,
                          label=name))
    return tasks


def plan_batch(batch: Batch, *, lang: str | None, parts: int = 1) -> list[Task]:
    """Every region of ``batch``: its baseline once (written as its profile),
    then each scenario variant on it, and the closures when asked for."""
    tasks = _clipping(batch.configs)
    after = tuple(t.key for t in tasks)
    for name, config in batch.configs.items():
        if not batch.variants and not batch.each_closure:
            tasks.append(Task(key=name, fn=_tasks.profile_region, args=(config, lang),
                              after=after, label=name))
            continue
        tasks += _region_tasks(name, config, batch.variants, batch.each_closure, lang, parts,
                               after)
    return tasks


def plan_closures(config: RunConfig, which: str, scenario: scenario_source.Scenario | None,
                  *, lang: str | None, parts: int = 1) -> list[Task]:
    """The impact of closing each facility of ``which`` on the region's
    baseline, or on ``scenario`` applied to it: the baseline (written as the
    profile when a scenario follows), the scenario, then the closures in
    ``parts`` tasks, ranked and written into the profile they were assessed on."""
    tasks = _clipping({config.region: config})
    after = tuple(t.key for t in tasks)
    name = config.region
    if scenario is None:
        return tasks + _region_tasks(name, config, [], which, lang, parts, after)
    tasks += _baseline(name, config, lang, write=True, after=after)
    target = f"{name}@{scenario.name}/kept"
    tasks.append(Task(key=target, fn=_tasks.apply_kept, args=(Ref(f"{name}/baseline"), scenario),
                      label=f"{name}@{scenario.name}", counted=True, collect=False))
    return tasks + _closure_tasks(f"{name}@{scenario.name}", target, which, lang, parts)


def _clipping(configs: Mapping[str, RunConfig]) -> list[Task]:
    """One task clipping the national inputs for every region that clips."""
    clipped = [name for name, c in configs.items() if c.clip]
    if not clipped:
        return []
    base = configs[clipped[0]]
    return [Task(key="clip", fn=_tasks.clip_regions, args=(base, clipped, dict(configs)),
                 label="clipping the inputs", collect=False)]


def _baseline(name: str, config: RunConfig, lang: str | None, *, write: bool,
              after: tuple[str, ...]) -> list[Task]:
    key = f"{name}/baseline"
    tasks = [Task(key=key, fn=_tasks.measure_baseline, args=(config, lang, write), after=after,
                  label=name, collect=False)]
    if write:
        tasks.append(Task(key=name, fn=_tasks.report_of, args=(Ref(key),), label=name,
                          counted=False))
    return tasks


def _region_tasks(name: str, config: RunConfig, variants: list[scenario_source.Scenario],
                  which: str | None, lang: str | None, parts: int,
                  after: tuple[str, ...]) -> list[Task]:
    # With closures the baseline profile is written with their table, at the end.
    tasks = _baseline(name, config, lang, write=not which, after=after)
    for variant in variants:
        key = f"{name}@{variant.name}"
        tasks.append(Task(key=key, fn=_tasks.apply_scenario,
                          args=(Ref(f"{name}/baseline"), variant, lang), label=key))
    if which:
        tasks += _closure_tasks(name, f"{name}/baseline", which, lang, parts)
    return tasks


def _closure_tasks(name: str, target: str, which: str, lang: str | None,
                   parts: int) -> list[Task]:
    base = f"{name}/closures"
    tasks = [Task(key=base, fn=_tasks.prepare_closures, args=(Ref(target), which),
                  label=f"{name}: closures", counted=False, collect=False)]
    for part in range(parts):
        tasks.append(Task(key=f"{base}/{part + 1}", fn=_tasks.closure_part,
                          args=(Ref(base), which, part, parts),
                          label=f"{name}: closures {part + 1}/{parts}", collect=False))
    rows = tuple(Ref(f"{base}/{part + 1}") for part in range(parts))
    tasks.append(Task(key=name, fn=_tasks.write_closures,
                      args=(Ref(target), Ref(base), which, lang, *rows), label=name))
    return tasks
