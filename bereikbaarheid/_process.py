"""Memory settings of the whole process, for runs on national-size arrays.

A national profile allocates and frees arrays of hundreds of megabytes
thousands of times. Two defaults make that slow on virtual machines:

- NumPy asks the kernel for transparent huge pages on every large array
  (``madvise(MADV_HUGEPAGE)``). Where the kernel compacts memory to find
  them (``/sys/kernel/mm/transparent_hugepage/defrag`` set to ``madvise``),
  each first touch of a page waits for that: on the development VM a fresh
  gigabyte took 3.4 s with the advice and 0.5 s without.
- glibc's ``malloc`` serves every block above 32 MB with its own ``mmap``
  and returns it with ``munmap`` when freed, so the next array of that size
  is faulted in from the kernel again, page by page.

:func:`tune_memory` turns the advice off and lets ``malloc`` keep freed
memory for the next array (``M_MMAP_MAX`` 0, ``M_TRIM_THRESHOLD`` -1).
Results do not change; the process keeps its peak memory until it ends.
Only the command line calls it (and the benchmarks, which measure what the
command does): the library never changes the process it runs in.
Setting ``BEREIKBAARHEID_SYSTEM_MEMORY=1`` leaves both as they are, and a
``NUMPY_MADVISE_HUGEPAGE`` set by the user is respected.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

logger = logging.getLogger(__name__)

OPT_OUT = "BEREIKBAARHEID_SYSTEM_MEMORY"

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def _madvise_switch():
    """NumPy's (private, long-standing) switch of the huge-page advice, or None."""
    import numpy as np  # here: the command's --help imports nothing heavy

    core = getattr(np, "_core", None) or getattr(np, "core", None)
    return getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)


def _mallopt():
    """glibc's ``mallopt``, or None where the C library has none (musl, macOS)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        fn = libc.mallopt
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def tune_memory() -> dict[str, bool]:
    """Apply the settings above to this process; returns which took effect.

    ``{"numpy_hugepages_off": bool, "malloc_keeps_memory": bool}``; both
    False when ``BEREIKBAARHEID_SYSTEM_MEMORY`` is set (to anything but 0).
    """
    applied = {"numpy_hugepages_off": False, "malloc_keeps_memory": False}
    if os.environ.get(OPT_OUT, "0") not in ("", "0"):
        logger.debug(f"{OPT_OUT} set: the process's memory settings are left as they are")
        return applied
    switch = _madvise_switch()
    if switch is not None and "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        switch(False)
        applied["numpy_hugepages_off"] = True
    mallopt = _mallopt()
    if mallopt is not None:
        applied["malloc_keeps_memory"] = bool(mallopt(_M_MMAP_MAX, 0)
                                              and mallopt(_M_TRIM_THRESHOLD, -1))
    logger.debug(f"process memory settings: {applied}")
    return applied
