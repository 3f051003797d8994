"""The hierarchy's arrays and their checks (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Version of the arrays a Hierarchy stores (their names and meaning); bump it
# when they change, so cached hierarchies are rebuilt.
HIERARCHY_FORMAT = 1

# Sums of costs or lengths must stay exact in float64.
_EXACT_LIMIT = 2.0 ** 53

_INT_MAX = np.iinfo(np.int64).max


# --------------------------------------------------------------------------
# The hierarchy
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Hierarchy:
    """A contraction hierarchy of a CSR graph, as plain arrays (rank numbering).

    Attributes
    ----------
    n
        Number of nodes.
    rank
        int32 per node: contraction position (0 is contracted first).
    order
        int32 per rank: the node with that rank (``order[rank[v]] == v``).
    up_indptr, up_indices, up_cost, up_length
        Upward edges ``r -> s`` (``s > r``) as CSR over ranks: int64, int32,
        float64, float64.
    down_indptr, down_indices, down_cost, down_length
        Downward edges ``s -> r`` (``s > r``) grouped by head ``r``, as CSR
        over ranks (``down_indices`` holds the tail ``s``).
    shortcuts
        Number of shortcut edges added during contraction.
    build_s
        Seconds the contraction took.
    """

    n: int
    rank: np.ndarray
    order: np.ndarray
    up_indptr: np.ndarray
    up_indices: np.ndarray
    up_cost: np.ndarray
    up_length: np.ndarray
    down_indptr: np.ndarray
    down_indices: np.ndarray
    down_cost: np.ndarray
    down_length: np.ndarray
    shortcuts: int
    build_s: float

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every field as a numpy array (scalars 0-d), e.g. for ``.npy`` files."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Hierarchy:
        """The hierarchy written by :meth:`to_arrays` (arrays may be memory-mapped)."""
        values = {}
        for f in fields(cls):
            if f.name not in arrays:
                raise ValueError(f"hierarchy arrays lack {f.name!r}")
            values[f.name] = arrays[f.name]
        values["n"] = int(values["n"])
        values["shortcuts"] = int(values["shortcuts"])
        values["build_s"] = float(values["build_s"])
        h = cls(**values)
        _check_hierarchy(h)
        return h


def _check_hierarchy(h: Hierarchy) -> None:
    """Raise ValueError unless the arrays of ``h`` have consistent shapes."""
    n = h.n
    shapes = {"rank": (n,), "order": (n,), "up_indptr": (n + 1,), "down_indptr": (n + 1,)}
    for name, shape in shapes.items():
        if np.shape(getattr(h, name)) != shape:
            raise ValueError(f"hierarchy {name} must have shape {shape}, "
                             f"got {np.shape(getattr(h, name))}")
    for side in ("up", "down"):
        m = int(getattr(h, f"{side}_indptr")[-1])
        for part in ("indices", "cost", "length"):
            if np.shape(getattr(h, f"{side}_{part}")) != (m,):
                raise ValueError(f"hierarchy {side}_{part} must have {m} entries")


def _whole(name: str, a: np.ndarray) -> np.ndarray:
    """``a``, checked to hold whole numbers (so that every sum is exact)."""
    if a.size and not (np.floor(a) == a).all():
        i = int(np.flatnonzero(np.floor(a) != a)[0])
        raise ValueError(f"{name} must be whole numbers (e.g. milliseconds), "
                         f"found {a[i]} at position {i}")
    return a
