"""Errors raised for bad input, each naming the file and what was expected."""

from __future__ import annotations

from pathlib import Path


class BereikbaarheidError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(BereikbaarheidError):
    """An input file is missing, unreadable or not what was expected.

    Parameters
    ----------
    path
        The offending file (or folder).
    message
        What was wrong and what was expected, e.g. ``"column 'aantal_inwoners'
        missing; expected a CBS grid GeoPackage"``.
    """

    def __init__(self, path: str | Path | None, message: str):
        self.path = None if path is None else Path(path)
        self.message = message
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{message}")

    def __reduce__(self):
        # Rebuilt from its own arguments when it crosses a process (a Dask
        # worker's error reaching the command line).
        return type(self), (self.path, self.message)


class ConfigError(BereikbaarheidError):
    """A setting or configuration file is invalid.

    Parameters
    ----------
    message
        What was wrong and what was expected.
    path
        Where the setting came from: the configuration file, or a command
        line option such as ``--set``; None when not known (yet).
    key
        The offending setting (``"walk_speed_kmh"``, ``"norm_min.gp"``), or
        None when the problem is not one key's.
    """

    def __init__(self, message: str, path: str | Path | None = None, key: str | None = None):
        self.message = message
        self.path = path
        self.key = key
        where = "".join(f"{part}: " for part in (path, key) if part is not None)
        super().__init__(f"{where}{message}")

    def __reduce__(self):
        return type(self), (self.message, self.path, self.key)

    def located(self, path: str | Path | None) -> "ConfigError":
        """This error naming ``path`` as its source, unless it names one already."""
        if self.path is not None or path is None:
            return self
        return type(self)(self.message, path=path, key=self.key)


class CacheError(BereikbaarheidError):
    """A cached network failed verification (it is rebuilt, never trusted)."""


class DownloadError(BereikbaarheidError):
    """A public input could not be downloaded, or its bytes were not the expected ones.

    The message names the source and URL and, where the network was the
    problem, where to place a file downloaded by hand.
    """


class GtfsError(InputError):
    """A GTFS feed cannot be routed on: it has fatal problems.

    ``report`` holds every problem found (fatal ones and warnings), each with
    its file, row and field; the message lists the fatal ones.
    """

    def __init__(self, path: str | Path | None, message: str, report=None):
        super().__init__(path, message)
        self.report = report

    def __reduce__(self):
        return type(self), (self.path, self.message, self.report)


def interrupted(exc: BaseException | None) -> bool:
    """Whether ``exc`` is Ctrl-C, also when it surfaced inside compiled code
    as another error (Numba raises SystemError with the KeyboardInterrupt as
    its cause)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
