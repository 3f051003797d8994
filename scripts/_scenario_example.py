"""Shared steps of the scenario example scripts: the demo region, a scenario file, the run."""

from __future__ import annotations

import argparse
from pathlib import Path

from bereikbaarheid import RunConfig, generate_demo, read_scenario, run_scenario, scenario

ROOT = Path(__file__).resolve().parents[1]


def run_example(scenario_file: str, doc: str) -> scenario.ScenarioResult:
    """Generate (or refresh) the demo region, run the scenario and print what changed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("demo_region"),
                        help="demo region folder (generated or refreshed)")
    parser.add_argument("--output", type=Path, default=Path("profiles"))
    parser.add_argument("--cache", type=Path, default=Path("network_cache"))
    args = parser.parse_args()
    region = generate_demo(args.folder)
    config = RunConfig.from_toml(region.config, output_dir=args.output, cache_dir=args.cache)
    # The example points at ../../demo_region/; a copy beside the demo folder
    # points at the projection of the region actually generated.
    text = (ROOT / "examples" / "scenarios" / scenario_file).read_text(encoding="utf-8")
    copy = region.folder / "scenarios" / scenario_file
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(text.replace("../../demo_region/projection.csv", "../projection.csv"),
                    encoding="utf-8")
    result = run_scenario(config, read_scenario(copy))
    for line in scenario.describe(result):
        print(line)
    print(f"written: {result.baseline.files['summary_csv'].parent} and "
          f"{result.scenario.files['summary_csv'].parent}")
    return result
