"""Where a batch runs: here (serially), on a local cluster of worker processes, or
on a running Dask cluster (a scheduler started with the dask CLI, dask-jobqueue,
Kubernetes ...)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

logger = logging.getLogger(__name__)

# How long to wait for a scheduler to answer, and for it to have a worker.
CONNECT_TIMEOUT_S = 20
WORKER_TIMEOUT_S = 120


@dataclass(frozen=True)
class Cluster:
    """Where to run.

    Attributes
    ----------
    workers
        Start a local cluster of this many worker processes (one task each
        at a time) on 127.0.0.1, stopped when the batch ends.
    scheduler
        The address of a running Dask scheduler (``tcp://HOST:8786``); when
        neither is given, ``DASK_SCHEDULER_ADDRESS`` if set, else serially.
    memory_limit
        Per local worker (``"4GB"``, ``"auto"`` for the machine's memory
        shared out); a worker that goes over it is restarted and its task
        run again elsewhere, up to the scheduler's ``allowed-failures``.
        Workers of a running cluster have the limit they were started with
        (``dask worker --memory-limit``).
    """

    workers: int | None = None
    scheduler: str | None = None
    memory_limit: str | None = None

    def resolved(self) -> Cluster:
        """The environment's scheduler when none was chosen."""
        if self.workers is None and self.scheduler is None:
            address = os.environ.get("DASK_SCHEDULER_ADDRESS")
            if address:
                return Cluster(scheduler=address, memory_limit=self.memory_limit)
        return self

    @property
    def serial(self) -> bool:
        return self.resolved().workers is None and self.resolved().scheduler is None

    def describe(self) -> str:
        c = self.resolved()
        if c.scheduler is not None:
            return f"on the Dask cluster at {c.scheduler}"
        if c.workers is not None:
            limit = f", {c.memory_limit} memory each" if c.memory_limit else ""
            return f"on a local Dask cluster of {c.workers} worker process(es){limit}"
        return "serially in this process"


@contextmanager
def connect(cluster: Cluster, *, verbose: bool = False) -> Iterator[tuple[Any, int | None]]:
    """A Dask client for ``cluster`` (None: serially) and the number of
    compiled-kernel threads each worker may use (None: its own choice)."""
    cluster = cluster.resolved()
    if cluster.workers is None and cluster.scheduler is None:
        yield None, None
        return
    import dask
    from distributed import Client, LocalCluster

    # Dask's own messages (a worker restarted, a task rescheduled, a task
    # given up on) only when asked: what matters of them is reported as each
    # task ends.
    level = logging.INFO if verbose else logging.CRITICAL
    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(level)
    # A national task may hold the interpreter for minutes: its worker is not
    # dead for that (a worker that dies is noticed by its nanny anyway).
    with dask.config.set({"distributed.scheduler.worker-ttl": None}):
        if cluster.scheduler is not None:
            if cluster.memory_limit is not None:
                logger.warning(f"--memory-limit is for the local workers of --workers; the "
                               f"workers of {cluster.scheduler} keep the limit they were "
                               "started with (dask worker --memory-limit)")
            client = _client(cluster.scheduler)
            try:
                _wait_for_workers(client, cluster.scheduler)
                yield client, None
            finally:
                client.close()
            return
        threads = max(1, (os.cpu_count() or 1) // cluster.workers)
        local = LocalCluster(n_workers=cluster.workers, threads_per_worker=1, processes=True,
                             host="127.0.0.1", dashboard_address=None,
                             memory_limit=cluster.memory_limit or "auto",
                             silence_logs=level)
        try:
            client = Client(local)
            try:
                yield client, threads
            finally:
                client.close()
        finally:
            local.close()


def _client(address: str) -> Any:
    from distributed import Client

    try:
        return Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"no Dask scheduler answered within {CONNECT_TIMEOUT_S} s ({exc}); "
                          "expected the address of a running scheduler, e.g. "
                          "tcp://HOST:8786 (`dask scheduler` prints it)",
                          path=f"--scheduler {address}") from None
    except ValueError as exc:
        raise ConfigError(f"{exc}; expected an address such as tcp://HOST:8786",
                          path=f"--scheduler {address}") from None


def _wait_for_workers(client: Any, address: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
    except (TimeoutError, OSError):
        raise ConfigError(f"the scheduler has no worker after {WORKER_TIMEOUT_S} s; expected "
                          f"workers started with `dask worker {address}`",
                          path=f"--scheduler {address}") from None


def memory_limit_of(client: Any) -> str | None:
    """The workers' memory limits, for an error message (``"2.0 GB"``), or
    None when they have none (or it cannot be known)."""
    try:
        limits = {w.get("memory_limit") for w in client.scheduler_info()["workers"].values()}
    except Exception:  # noqa: BLE001 - a message only
        return None
    return ", ".join(f"{v / 1e9:.1f} GB" for v in sorted(v for v in limits if v)) or None
