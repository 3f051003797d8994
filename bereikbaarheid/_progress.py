"""Progress bars and step messages, quiet in CI and with ``--quiet``."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) every progress bar and step message."""
    global _quiet
    _quiet = quiet


def is_quiet() -> bool:
    """True with ``--quiet``, under CI (``CI`` set) or when stderr is no terminal."""
    return _quiet or bool(os.environ.get("CI")) or not sys.stderr.isatty()


def bar(iterable: Iterable[T] | None = None, *, desc: str, total: int | None = None,
        unit: str = "it") -> "tqdm[T]":
    """A tqdm progress bar on stderr, disabled when quiet."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=is_quiet(),
                leave=False, file=sys.stderr, dynamic_ncols=True)


def say(message: str) -> None:
    """Print a step message to stderr unless quiet."""
    if not _quiet:
        print(message, file=sys.stderr, flush=True)


class Timings(dict):
    """Wall-clock seconds per named step, in the order the steps ran."""

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = round(self.get(name, 0.0) + time.perf_counter() - start, 3)
