"""Batches: many regions, scenarios and projection years, serially or on Dask.

A batch is planned as tasks (:mod:`._run`): per region, its profile, or its
baseline measured once with each scenario applied to it incrementally; per
region and closure type, the impact of closing each facility. The tasks run
here one after another, on a local cluster of worker processes, or on a
running Dask cluster (:class:`Cluster`), with the same results bit for bit.
Workers share the network cache and the output folder: a network is built by
one worker while the others wait for it (a file lock), and every profile is
written atomically. The catalogue is updated once, at the end, by the caller.

This module sits above the run (:mod:`bereikbaarheid.pipeline`,
:mod:`bereikbaarheid.scenario`); nothing below it knows of Dask.
"""

from __future__ import annotations

from ._cluster import Cluster, connect, memory_limit_of
from ._plan import plan_batch, plan_closures, plan_regions
from ._run import Failure, Outcome, Ref, Task, run_tasks
from ._spec import CLOSURE_CHOICES, Batch, read_batch
from ._tasks import TaskReport

__all__ = [
           "CLOSURE_CHOICES",
           "Batch",
           "Cluster",
           "Failure",
           "Outcome",
           "Ref",
           "Task",
           "TaskReport",
           "connect",
           "memory_limit_of",
           "plan_batch",
           "plan_closures",
           "plan_regions",
           "read_batch",
           "run_tasks",
]
