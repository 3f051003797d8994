"""Scenario: the village GP retires. Who loses out, by how much, and where do the patients go?

Usage::

    python scripts/close_village_gp.py [--folder demo_region] [--output profiles]

Runs ``examples/scenarios/close-village-gp.toml`` on the demo region (generated
when missing): the baseline profile goes to ``profiles/demo/``, the scenario
with its differences to ``profiles/demo@close-village-gp/``. Prints the
residents whose nearest practice closed and how much longer they now travel
per mode, and which practices take over their patients.
"""

from __future__ import annotations

import numpy as np

from _scenario_example import run_example


def main() -> None:
    result = run_example("close-village-gp.toml", __doc__)
    cells = result.diff["cells"]
    people = np.nan_to_num(cells["aantal_inwoners_baseline"].to_numpy())
    print("\nresidents whose travel time to a GP grew:")
    for mode in ("walk", "bike", "car", "pt"):
        column = f"gp_{mode}_time_change_s"
        if column not in cells:
            continue
        change = cells[column].to_numpy()
        hit = np.nan_to_num(change) > 0
        lost = (cells[f"gp_{mode}_within_norm_change"] < 0).to_numpy()
        mean_min = np.average(change[hit], weights=people[hit]) / 60 if people[hit].sum() else 0
        print(f"  {mode:<5}{people[hit].sum():>8,.0f} residents, on average {mean_min:4.1f} min "
              f"longer; {people[lost].sum():,.0f} no longer within the norm")
    facilities = result.diff["facilities"]
    takers = facilities[facilities["assigned_demand_change"] > 0]
    print("practices taking over patients (by car, nearest practice):")
    for row in takers.sort_values("assigned_demand_change", ascending=False).itertuples():
        print(f"  {row.name:<36} +{row.assigned_demand_change:>6,.0f} patients, "
              f"utilisation {row.utilisation_baseline:.0%} -> {row.utilisation_scenario:.0%}")


if __name__ == "__main__":
    main()
