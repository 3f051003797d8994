"""Contraction hierarchy: exact one-to-all and nearest (PHAST), counts and 2SFCA (batched RPHAST).

A hierarchy is built once per network (:func:`build_hierarchy`): nodes are
contracted cheapest first, in rounds of nodes that are cheaper than all their
neighbours (in parallel, with the same result for any number of threads),
and a shortcut ``u -> w`` is added for ``u -> v -> w`` unless a witness path
avoiding ``v`` is at least as good. A
query (:func:`one_to_all`, :func:`nearest_source`) then runs PHAST (Delling
et al. 2011): a search from the source(s) over upward edges only, followed by
one linear sweep over all nodes in descending rank that relaxes the downward
edges into each node. :func:`nearest_source_split` runs the same nearest on a
graph whose edges are split at points the hierarchy does not know (cells and
facilities on roads): the sources enter the network with their cost and the
length travelled so far, and the split nodes are filled in from the network
nodes at the ends of their roads. :func:`count_within` counts, for every target, the
sources within each cutoff: RPHAST (PHAST restricted to the nodes that lead
down to a target, bounded by the last cutoff) for batches of sources;
:func:`two_step_fca` runs the same batches for a two-step floating catchment.
:func:`prepare_targets` arranges their targets once for several queries.

Exactness. Costs and lengths must be whole numbers (milliseconds,
millimetres) stored as floats, so every sum is exact and the results equal
those of :mod:`.dijkstra` bit for bit. The hierarchy preserves, between every
pair of nodes, the lexicographically smallest ``(cost, length)`` path value:
witness searches order paths by ``(cost, length)`` pairs (a combined integer
key ``cost * 2**K + length`` would overflow int64 on national networks in
millimetres, and pairs are just as exact). Queries carry ``(cost, label,
length)`` and compare lexicographically at every relaxation, so the winner
of every node is the one :func:`.dijkstra.nearest_source` picks.

Numbering. All hierarchy arrays are in *rank* numbering: row ``r`` belongs
to node ``order[r]`` and an edge's other end is given by its rank. The
upward graph has, for row ``r``, the edges ``r -> s`` with ``s > r``; the
downward graph has, for row ``r``, the edges ``s -> r`` with ``s > r``
(grouped by their head, the order in which the sweep reads them).

Bounded witness searches (a settled-node limit) may add superfluous
shortcuts, never wrong ones.
"""

from ._batched import Targets, count_within, prepare_targets, two_step_fca
from ._build import build_hierarchy
from ._hierarchy import HIERARCHY_FORMAT, Hierarchy
from ._query import nearest_source, nearest_source_split, one_to_all

__all__ = ["HIERARCHY_FORMAT", "Hierarchy", "Targets", "build_hierarchy", "count_within",
           "nearest_source", "nearest_source_split", "one_to_all", "prepare_targets",
           "two_step_fca"]
