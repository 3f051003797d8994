"""Array-based d-ary min-heap of (cost, node) pairs for Numba Dijkstra kernels.

The heap is two parallel arrays, ``keys`` (float64) and ``nodes`` (int32),
plus a size held by the caller. The capacity is fixed: ``push`` does not
check it, the caller does (reassigning a grown array inside a Numba hot loop
halves its speed). Deletion is lazy: a node whose cost improves is pushed
again, and the caller skips popped entries that are stale (whose cost is above
the node's current cost), so there is no position index to keep up to date.
"""

from __future__ import annotations

import numba
import numpy as np

# Children per node. A 4-ary heap is shallower than a binary one and its
# children share a cache line; on road-like graphs Dijkstra runs ~30% faster
# with 4 than with 2.
ARITY = 4


@numba.njit(cache=True)
def push(keys: np.ndarray, nodes: np.ndarray, size: int, key: float, node: int) -> int:
    """Add ``(key, node)``; returns the new size. The caller ensures ``size < capacity``."""
    # Sift up with a hole: move parents down until the slot for ``key`` is found.
    i = size
    while i > 0:
        parent = (i - 1) // ARITY
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    return size + 1


@numba.njit(cache=True)
def pop(keys: np.ndarray, nodes: np.ndarray, size: int) -> tuple[float, int, int]:
    """Remove the smallest entry; returns ``(key, node, new_size)``. ``size`` > 0."""
    top_key = keys[0]
    top_node = nodes[0]
    size -= 1
    if size > 0:
        key = keys[size]
        node = nodes[size]
        # Sift down with a hole from the root.
        i = 0
        while True:
            first = ARITY * i + 1
            if first >= size:
                break
            child = first
            child_key = keys[first]
            for c in range(first + 1, min(first + ARITY, size)):
                if keys[c] < child_key:
                    child = c
                    child_key = keys[c]
            if child_key >= key:
                break
            keys[i] = child_key
            nodes[i] = nodes[child]
            i = child
        keys[i] = key
        nodes[i] = node
    return top_key, top_node, size
