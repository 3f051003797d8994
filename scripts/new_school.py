"""Scenario: a new primary school. Who gains, and which schools lose pupils to it?

Usage::

    python scripts/new_school.py [--folder demo_region] [--output profiles]

Runs ``examples/scenarios/new-school.toml`` on the demo region (generated when
missing): a 250-pupil school on the edge of the town. Prints the children
(0-14) whose walk to school gets shorter and who now reach one within the
norm, the pupils the new school would draw (nearest school by car, the
``fca_mode``) against its capacity, and the schools that lose pupils.
"""

from __future__ import annotations

import numpy as np

from _scenario_example import run_example


def main() -> None:
    result = run_example("new-school.toml", __doc__)
    cells = result.diff["cells"]
    base = result.baseline.cells.set_index("cell_id")
    children = np.nan_to_num(base.loc[cells["cell_id"], "aantal_inwoners_0_tot_15_jaar"]
                             .to_numpy())
    change = np.nan_to_num(cells["school_walk_time_change_s"].to_numpy())
    gained = (cells["school_walk_within_norm_change"] > 0).to_numpy()
    print(f"\n{children[change < 0].sum():,.0f} children (0-14) get a shorter walk to school, "
          f"by {-np.average(change[change < 0], weights=np.maximum(children[change < 0], 1e-9)) / 60:.1f} "
          f"min on average; {children[gained].sum():,.0f} now walk to one within the norm")
    facilities = result.diff["facilities"]
    new = facilities[facilities["status"] == "added"].iloc[0]
    print(f"{new['name']}: {new['assigned_demand_scenario']:,.0f} pupils nearest to it for "
          f"{new['capacity_scenario']:,.0f} places ({new['utilisation_scenario']:.0%})")
    losers = facilities[facilities["assigned_demand_change"] < 0]
    for row in losers.sort_values("assigned_demand_change").itertuples():
        print(f"  {row.name:<36} {row.assigned_demand_change:>6,.0f} pupils "
              f"({row.assigned_demand_baseline:,.0f} -> {row.assigned_demand_scenario:,.0f}, "
              f"capacity {row.capacity_baseline:,.0f})")


if __name__ == "__main__":
    main()
