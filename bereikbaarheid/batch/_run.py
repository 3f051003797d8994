"""Run a batch's tasks: one after another in this process, or on Dask workers.

Either way the same task functions run on the same arguments, so the files
written are the same. A task that fails is reported and the others go on;
a task whose input failed is not run. On Dask a task whose worker dies (killed,
or over its memory limit) is run again on another worker by the scheduler;
its writes are atomic, so a half-written profile is never left behind.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import _progress
from ..errors import interrupted

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ref:
    """An argument that is another task's result."""

    key: str


@dataclass
class Task:
    """One unit of work.

    ``args`` may hold :class:`Ref` to other tasks' results; ``after`` names
    tasks that must have succeeded first (their results are not passed).
    ``label`` is what the user reads; ``counted`` tasks count in the
    progress (not the small steps that only pass a result on); ``collect``
    marks a task whose result (a small report) comes back to the caller, the
    others' results stay where they were made until no task needs them.
    """

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    after: tuple[str, ...] = ()
    label: str = ""
    counted: bool = True
    collect: bool = True

    def needs(self) -> list[str]:
        return [a.key for a in self.args if isinstance(a, Ref)] + list(self.after)


@dataclass
class Failure:
    """A task that failed (``error``), or was not run because ``cause`` failed."""

    task: Task
    error: BaseException | None = None
    cause: str | None = None
    traceback: str | None = None


@dataclass
class Outcome:
    """Per task key, its collected result or its failure; in task order."""

    results: dict[str, Any] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0


# Called with (task, result or Failure, tasks done, tasks counted, tasks running)
# as each task ends.
Listener = Callable[[Task, Any, int, int, int], None]


def run_tasks(tasks: Sequence[Task], client: Any = None, *, numba_threads: int | None = None,
              listener: Listener | None = None) -> Outcome:
    """Run ``tasks`` (in an order where each comes after what it needs):
    here, one after another, without a Dask ``client``; else on its
    workers, each worker limited to ``numba_threads`` compiled-kernel
    threads when given."""
    _check_order(tasks)
    started = time.perf_counter()
    with _progress.bar(desc="tasks", total=sum(t.counted for t in tasks), unit="task") as bar:
        def heard(task: Task | None, value: Any, done: int, total: int, running: int) -> None:
            if task is not None and task.counted:
                bar.update(1)
            bar.set_postfix_str(f"{running} running", refresh=True)
            if listener is not None and task is not None:
                listener(task, value, done, total, running)

        if client is None:
            outcome = _serial(tasks, heard)
        else:
            outcome = _on_dask(tasks, client, numba_threads, heard)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _check_order(tasks: Sequence[Task]) -> None:
    seen: set[str] = set()
    for task in tasks:
        missing = [k for k in task.needs() if k not in seen]
        if missing or task.key in seen:
            raise ValueError(f"task {task.key!r} comes before {missing} or twice")
        seen.add(task.key)


def _uses(tasks: Sequence[Task]) -> dict[str, int]:
    """How many tasks need each task's result."""
    uses = {t.key: 0 for t in tasks}
    for task in tasks:
        for key in task.needs():
            uses[key] += 1
    return uses


def _serial(tasks: Sequence[Task], heard: Listener) -> Outcome:
    outcome = Outcome()
    values: dict[str, Any] = {}
    failed: dict[str, str] = {}  # key -> the label of the task that failed first
    uses = _uses(tasks)
    total, done = sum(t.counted for t in tasks), 0
    for task in tasks:
        cause = next((failed[k] for k in task.needs() if k in failed), None)
        if cause is not None:
            failed[task.key] = cause
            result: Any = Failure(task, cause=cause)
        else:
            args = [values[a.key] if isinstance(a, Ref) else a for a in task.args]
            try:
                result = task.fn(*args)
            except Exception as exc:
                if interrupted(exc):
                    raise
                failed[task.key] = task.label
                result = Failure(task, error=exc, traceback=traceback.format_exc())
            else:
                values[task.key] = result
        for key in task.needs():  # let a baseline go once its scenarios are done
            uses[key] -= 1
            if uses[key] == 0 and key not in outcome.results:
                values.pop(key, None)
        done += task.counted
        _record(outcome, task, result)
        heard(task, result, done, total, 0)
    return outcome


def _record(outcome: Outcome, task: Task, result: Any) -> None:
    if isinstance(result, Failure):
        outcome.failures.append(result)
    elif task.collect:
        outcome.results[task.key] = result


def _call(fn: Callable[..., Any], numba_threads: int | None, n_args: int, *values: Any) -> Any:
    """A task on a worker: its compiled kernels limited to ``numba_threads``
    (workers sharing a machine would otherwise each take every core), the
    library's log kept to itself (what a profile warns of is in its
    manifest, and the caller shows it). The values after the first
    ``n_args`` are the results of the tasks it comes after, unused."""
    if numba_threads:
        import numba

        numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
    logging.getLogger("bereikbaarheid").setLevel(logging.ERROR)
    return fn(*values[:n_args])


def _on_dask(tasks: Sequence[Task], client: Any, numba_threads: int | None,
             heard: Listener) -> Outcome:
    from distributed import wait

    outcome = Outcome()
    token = uuid.uuid4().hex[:8]
    futures: dict[str, Any] = {}
    by_key: dict[str, Task] = {}
    for task in tasks:
        args = [futures[a.key] if isinstance(a, Ref) else a for a in task.args]
        after = [futures[k] for k in task.after]
        future = client.submit(_call, task.fn, numba_threads, len(args), *args, *after,
                               key=f"bereikbaarheid-{task.key}-{token}", pure=False)
        futures[task.key] = future
        by_key[future.key] = task
    uses = _uses(tasks)
    failed: dict[str, str] = {}
    results: dict[str, Any] = {}
    total, done = sum(t.counted for t in tasks), 0
    pending = set(futures.values())
    order = {t.key: i for i, t in enumerate(tasks)}
    try:
        while pending:
            try:
                finished, pending = wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
            except TimeoutError:  # none finished: show what runs
                finished = set()
            running = _running(client, set(by_key))
            if not finished:
                heard(None, None, done, total, running)
            # Several at once: in task order, so that what needs a failed
            # task learns of it.
            for future in sorted(finished, key=lambda f: order[by_key[f.key].key]):
                task = by_key[future.key]
                cause = next((failed[k] for k in task.needs() if k in failed), None)
                if future.status == "finished":
                    result = future.result() if task.collect else None
                elif cause is not None:
                    result = Failure(task, cause=cause)
                else:
                    error = future.exception()
                    if interrupted(error):
                        raise KeyboardInterrupt
                    tb = future.traceback()
                    result = Failure(task, error=error, traceback="".join(
                        traceback.format_exception(type(error), error, tb)))
                if isinstance(result, Failure):
                    failed[task.key] = result.cause or task.label
                else:
                    results[task.key] = result
                for key in task.needs():
                    uses[key] -= 1
                    if uses[key] == 0:
                        futures.pop(key, None)  # the worker may let it go
                if uses[task.key] == 0:
                    futures.pop(task.key, None)
                done += task.counted
                _record(outcome, task, result)
                heard(task, result, done, total, running)
    finally:
        for future in pending:
            future.cancel()
    # In task order, whatever order they finished in.
    outcome.results = {t.key: outcome.results[t.key] for t in tasks if t.key in outcome.results}
    outcome.failures.sort(key=lambda f: order[f.task.key])
    return outcome


def _running(client: Any, keys: set[str]) -> int:
    """How many of ``keys`` a worker is executing now (not only holds in
    its queue)."""
    try:
        executing = client.run(_executing)
    except Exception:  # noqa: BLE001 - progress only; a worker may be restarting
        return 0
    return sum(1 for held in executing.values() for key in held if key in keys)


def _executing(dask_worker: Any) -> list[str]:
    """On a worker: the keys of the tasks it is executing."""
    return [ts.key for ts in dask_worker.state.executing]
