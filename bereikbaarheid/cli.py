"""Command line: ``bereikbaarheid demo``, ``run CONFIG.toml``, ``scenario CONFIG.toml
SCENARIO.toml`` and ``gtfs-check FEED``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import _progress, pipeline, scenario
from .errors import BereikbaarheidError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bereikbaarheid`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    _progress.set_quiet(args.quiet)
    start = time.perf_counter()
    if args.command == "gtfs-check":
        return _gtfs_check(args)
    try:
        if args.command == "demo":
            result = _demo(args)
            print(f"demo inputs: {args.folder}")
        elif args.command == "scenario":
            config = pipeline.RunConfig.from_toml(
                args.config, output_dir=args.output, cache_dir=args.cache)
            outcome = scenario.run_scenario(config, args.scenario,
                                            incremental=not args.full)
            _print_scenario(outcome, time.perf_counter() - start)
            return 0
        else:
            config = pipeline.RunConfig.from_toml(
                args.config, output_dir=args.output, cache_dir=args.cache)
            result = pipeline.run_profile(config)
    except BereikbaarheidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        _print_summary(result, time.perf_counter() - start)
    except BrokenPipeError:  # output piped into e.g. `head`: the run itself succeeded
        sys.stdout = open(os.devnull, "w")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bereikbaarheid",
        description="Accessibility profiles of Dutch regions: travel times from CBS grid "
                    "cells to GP practices, primary schools and supermarkets.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the built-in demo region and profile it")
    demo.add_argument("--folder", type=Path, default=Path("demo_region"),
                      help="where the demo inputs are written (default: demo_region)")
    demo.add_argument("--seed", type=int, default=2024, help="generator seed (default: 2024)")
    demo.add_argument("--scale", type=float, default=1.0,
                      help="area multiplier; 33 gives about 1.1 million road nodes")
    demo.add_argument("--facilities", choices=("csv", "osm"), default="csv",
                      help="facility source: the demo's register with capacities (csv, "
                           "default) or the OSM tags (default capacities)")

    run = sub.add_parser("run", help="profile a region from a TOML run configuration")
    run.add_argument("config", type=Path, help="run configuration (see examples/run.toml)")

    check = sub.add_parser(
        "gtfs-check", help="validate GTFS feeds and list every problem (file, row, field)")
    check.add_argument("feeds", type=Path, nargs="+", help="GTFS zip files or folders")
    check.add_argument("--date", default=None,
                       help="analysis date (YYYY-MM-DD): also check there is service that day")
    check.add_argument("--csv", type=Path, default=None, help="write the full report to this CSV")
    check.add_argument("-q", "--quiet", action="store_true", help="only the summary line")

    what_if = sub.add_parser(
        "scenario", help="run a baseline and a scenario (see examples/scenarios) and write "
                         "both with their difference")
    what_if.add_argument("config", type=Path, help="run configuration of the baseline")
    what_if.add_argument("scenario", type=Path, help="scenario file (TOML)")
    what_if.add_argument("--full", action="store_true",
                         help="recompute road travel times in full instead of updating them "
                              "incrementally (same tables, slower)")

    for p in (demo, run, what_if):
        p.add_argument("--output", type=Path, default=None,
                       help="profiles folder (default: profiles, or the config's)")
        p.add_argument("--cache", type=Path, default=None,
                       help="network cache folder (default: network_cache)")
        p.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bars or step messages")
    return parser


def _gtfs_check(args: argparse.Namespace) -> int:
    """Print the validation report; exit status 1 when a problem is fatal."""
    from . import _io
    from .sources import gtfs

    try:
        report = gtfs.validate_gtfs(args.feeds, service_date=args.date)
    except BereikbaarheidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        for issue in report.issues:
            print(f"{issue.severity:<8}{issue.feed}: {issue}")
    if args.csv is not None:
        with _io.atomic_open(args.csv, "w", encoding="utf-8", newline="") as f:
            report.to_frame().to_csv(f, index=False, lineterminator="\n")
    print(report.summary())
    return 1 if report.fatal else 0


def _print_scenario(outcome: "scenario.ScenarioResult", seconds: float) -> None:
    for line in scenario.describe(outcome):
        print(line)
    print(f"total {seconds:.1f}s; written:")
    for path in (*outcome.baseline.files.values(), *outcome.scenario.files.values()):
        print(f"  {path}")


def _demo(args: argparse.Namespace) -> pipeline.ProfileResult:
    from .demo import generate

    _progress.say(f"generating the demo region in {args.folder} (seed {args.seed}, "
                  f"scale {args.scale:g})")
    region = generate.generate_demo(args.folder, seed=args.seed, scale=args.scale)
    config = pipeline.RunConfig.from_toml(
        region.config,
        facilities="osm" if args.facilities == "osm" else None,
        output_dir=args.output, cache_dir=args.cache)
    return pipeline.run_profile(config)


def _print_summary(result: pipeline.ProfileResult, seconds: float) -> None:
    manifest = result.manifest
    summary = result.summary
    region = summary[summary["level"] == "region"]
    print(f"region {manifest['region']}: {len(result.cells)} cells, "
          f"{region['population'].iloc[0]:,.0f} inhabitants; "
          f"facilities {manifest['facilities']}")
    thresholds = manifest["settings"]["thresholds_min"]
    minutes = 15 if 15 in thresholds else thresholds[-1]
    print(f"{'type':<12}{'mode':<6}{'median min':>11}{'p90 min':>9}"
          f"{f'<={minutes} min':>10}{'unlinked':>10}{'unreached':>10}")
    for row in region.to_dict(orient="records"):
        print(f"{row['type']:<12}{row['mode']:<6}{row['median_time_s'] / 60:>11.1f}"
              f"{row['p90_time_s'] / 60:>9.1f}{row[f'share_within_{minutes}min']:>10.1%}"
              f"{row['population_unlinked']:>10,.0f}{row['population_unreachable']:>10,.0f}")
    transit = manifest.get("transit", {})
    if "query" in transit:
        q, stats = transit["query"], transit["stats"]
        print(f"public transport {q['date']} {q['window'][0]}-{q['window'][1]} "
              f"(every {q['step_min']} min, p{q['time_percentile']} shown): "
              f"{stats['stops']} stops, {stats['routes']} routes, {stats['trips']} trips; "
              f"timetable {transit['status']}; GTFS issues: {transit['issues']['fatal']} fatal, "
              f"{transit['issues']['warning']} warnings")
    elif transit.get("status") == "skipped":
        print(f"public transport skipped: {transit['reason']}")
    for warning in manifest["warnings"]:
        print(f"warning: {warning}")
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in manifest["timings_s"].items())
    print(f"steps: {steps}; total {seconds:.1f}s")
    print("written:")
    for path in result.files.values():
        print(f"  {path}")
