"""Progress bars and step timings.

The library never prints: step messages go through :mod:`logging` (a logger
per module), and progress bars are off until someone asks for them. The
command line turns them on when stderr is a terminal, ``-q`` is not given and
``CI`` is not set; a notebook or script calls
:func:`bereikbaarheid.show_progress`.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")

_show = False


def show_progress(show: bool = True) -> None:
    """Show (or hide) progress bars for long steps on stderr.

    Off by default, so that library use stays quiet in notebooks, CI and
    logs; the ``bereikbaarheid`` command turns them on at a terminal.
    """
    global _show
    _show = bool(show)


def is_quiet() -> bool:
    """True unless progress bars were turned on with :func:`show_progress`."""
    return not _show


def bar(iterable: Iterable[T] | None = None, *, desc: str, total: int | None = None,
        unit: str = "it", unit_scale: bool = False):
    """A tqdm progress bar on stderr, disabled unless bars are shown;
    ``unit_scale`` shows large counts as k, M, G (for bytes)."""
    from tqdm import tqdm  # only a run that shows progress pays for the import

    return tqdm(iterable, desc=desc, total=total, unit=unit, unit_scale=unit_scale,
                disable=is_quiet(), leave=False, file=sys.stderr, dynamic_ncols=True)


def watch(work: Callable[[np.ndarray], T], *, desc: str, total: int, unit: str) -> T:
    """Run ``work(counter)`` and show the count it writes into ``counter[0]``
    (an int64 array of one element) in a progress bar.

    For compiled kernels that run without the GIL: ``work`` runs in a thread
    while this one updates the bar; without bars it simply runs here.
    """
    import numpy as np

    counter = np.zeros(1, dtype=np.int64)
    if is_quiet():
        return work(counter)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = work(counter)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = exc

    # A daemon: Ctrl-C ends the process without waiting for the kernel.
    thread = threading.Thread(target=run, name=desc, daemon=True)
    with bar(desc=desc, total=total, unit=unit) as progress:
        thread.start()
        while thread.is_alive():
            thread.join(0.25)
            progress.update(int(counter[0]) - progress.n)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


class Timings(dict):
    """Wall-clock seconds per named step, in the order the steps ran."""

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = round(self.get(name, 0.0) + time.perf_counter() - start, 3)
