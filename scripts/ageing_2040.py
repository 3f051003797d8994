"""Scenario: the region in 2040, with fewer young people and more elderly. Where do gaps open?

Usage::

    python scripts/ageing_2040.py [--folder demo_region] [--output profiles]

Runs ``examples/scenarios/ageing-2040.toml`` on the demo region (generated
when missing; the scenario applies the demo's ``projection.csv`` for 2040).
Travel times do not change, demand does: prints per municipality and type the
demand and capacity gap now and in 2040 (in patients, pupils and m2), the GP
FTE shortfall, and the share of residents aged 65+ beyond the norm.
"""

from __future__ import annotations

from _scenario_example import run_example


def main() -> None:
    result = run_example("ageing-2040.toml", __doc__)
    capacity = result.diff["capacity"]
    print(f"\n{'area':<16}{'type':<12}{'demand now':>12}{'2040':>10}{'gap now':>10}{'2040':>10}"
          "  unit")
    for row in capacity.itertuples():
        print(f"{row.area_name:<16}{row.type:<12}{row.demand_baseline:>12,.0f}"
              f"{row.demand_scenario:>10,.0f}{row.gap_baseline:>10,.0f}{row.gap_scenario:>10,.0f}"
              f"  {row.unit}")
    gp = capacity[capacity["type"] == "gp"]
    for row in gp.itertuples():
        print(f"GP FTE shortfall {row.area_name:<16}{row.fte_shortfall_baseline:>6.1f} -> "
              f"{row.fte_shortfall_scenario:>5.1f} FTE (negative: room to spare)")
    summary = result.diff["summary"]
    walk = summary[(summary["type"] == "gp") & (summary["mode"] == "walk")]
    for row in walk.itertuples():
        print(f"65+ beyond the GP norm on foot, {row.area_name:<16}"
              f"{row.population_65_plus_baseline:>7,.0f} -> {row.population_65_plus_scenario:>7,.0f}"
              f" residents aged 65+, {row.share_65_plus_beyond_norm_baseline:.1%} -> "
              f"{row.share_65_plus_beyond_norm_scenario:.1%} beyond the norm")


if __name__ == "__main__":
    main()
