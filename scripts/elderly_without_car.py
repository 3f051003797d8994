"""Scenario script: who reaches a GP within 15 minutes without a car?

Usage::

    python scripts/elderly_without_car.py [--folder demo_region] [--minutes 15]

Generates the demo region (or reuses the folder), runs the road profile through
the public API and prints, per municipality, the share of all residents and of
residents aged 65+ who reach a GP practice within the threshold on foot, by
bike, by public transport (median over the 07:00-09:00 departures) and by
car, and the best a resident without a car can do (walk, bike or public
transport, whichever is fastest per cell). The PBL (2022) finding that rural
elderly people often cannot reach facilities without a car is the question
behind it.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from bereikbaarheid import RunConfig, generate_demo, run_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("demo_region"))
    parser.add_argument("--minutes", type=int, default=15)
    parser.add_argument("--output", type=Path, default=Path("profiles"))
    args = parser.parse_args()

    region = generate_demo(args.folder)
    config = RunConfig.from_toml(region.config, output_dir=args.output)
    thresholds = sorted({5, 10, args.minutes, 30})
    config.settings = dataclasses.replace(config.settings, thresholds_min=tuple(thresholds))
    result = run_profile(config)

    rows = result.summary[result.summary["type"] == "gp"]
    col_all = f"share_within_{args.minutes}min"
    col_65 = f"share_65_plus_within_{args.minutes}min"
    print(f"GP practice within {args.minutes} minutes (share of residents)")
    print(f"{'area':<24}{'mode':<10}{'all':>8}{'65+':>8}")
    for row in rows.itertuples():
        print(f"{row.area_name:<24}{row.mode:<10}{getattr(row, col_all):>8.1%}"
              f"{getattr(row, col_65):>8.1%}")

    # Without a car: per cell the fastest of walking, cycling and public transport.
    cells = result.cells
    no_car = cells[[f"gp_{m}_time_s" for m in ("walk", "bike", "pt")
                    if f"gp_{m}_time_s" in cells]].min(axis=1)
    within = (no_car <= args.minutes * 60).to_numpy()
    print(f"\nwithout a car (fastest of walk, bike, public transport), within {args.minutes} min:")
    for code, group in cells.groupby("municipality_code"):
        sel = cells["municipality_code"].to_numpy() == code
        people = group["aantal_inwoners"].fillna(0).to_numpy()
        elderly = group["aantal_inwoners_65_jaar_en_ouder"].fillna(0).to_numpy()
        print(f"{group['municipality_name'].iloc[0]:<24}{'no car':<10}"
              f"{people[within[sel]].sum() / people.sum():>8.1%}"
              f"{elderly[within[sel]].sum() / elderly.sum():>8.1%}")
    print(f"written: {result.files['summary_csv'].parent}")


if __name__ == "__main__":
    main()
