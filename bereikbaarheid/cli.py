"""Command line: ``bereikbaarheid demo``, ``run``, ``scenario``, ``regions``, ``download``
and ``gtfs-check``."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import os
import sys
import time
import tomllib
from pathlib import Path

from . import _progress, pipeline, scenario
from .config import Settings
from .errors import BereikbaarheidError, ConfigError

logger = logging.getLogger("bereikbaarheid")


def _attach_handler(level: int) -> None:
    """Messages of the package on stderr: steps as they are, warnings and
    errors prefixed."""
    class _Format(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            text = record.getMessage()
            if record.levelno >= logging.WARNING:
                return f"{record.levelname.lower()}: {text}"
            return text

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bereikbaarheid`` command."""
    args = _parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    _progress.show_progress(not quiet and sys.stderr.isatty() and not os.environ.get("CI"))
    _attach_handler(logging.ERROR if quiet else logging.INFO)
    try:
        return _dispatch(args, time.perf_counter())
    except BrokenPipeError:  # output piped into e.g. `head`: the work itself succeeded
        sys.stdout = open(os.devnull, "w")
        return 0


def _dispatch(args: argparse.Namespace, start: float) -> int:
    if args.command == "gtfs-check":
        return _gtfs_check(args)
    if args.command == "regions":
        return _regions(args)
    if args.command == "download":
        return _download(args)
    try:
        if args.command == "run" and args.all_regions:
            return _run_all(args, start)
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
            result = pipeline.run_profile(_run_config(args))
    except BereikbaarheidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_summary(result, time.perf_counter() - start)
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

    run = sub.add_parser(
        "run", help="profile a region: from a TOML run configuration, or an NPVR region "
                    "(--region, --all-regions) on national inputs given by the flags")
    run.add_argument("config", type=Path, nargs="?", default=None,
                     help="run configuration (see examples/run.toml); flags override it")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--region", default=None,
                       help="an NPVR region id (see `bereikbaarheid regions`)")
    where.add_argument("--all-regions", action="store_true",
                       help="every region of the registry, clipping the inputs in one pass")
    where.add_argument("--municipalities", default=None,
                       help="a custom region: comma-separated municipality codes "
                            "(GM0400,GM0441); name it with --name")
    where.add_argument("--polygon", type=Path, default=None,
                       help="a custom region: polygon file (any CRS); name it with --name")
    run.add_argument("--name", default=None, help="name (output folder) of a custom region")
    run.add_argument("--osm", type=Path, default=None, help="OpenStreetMap .osm.pbf")
    run.add_argument("--gtfs", type=Path, nargs="+", default=None, help="GTFS feeds")
    run.add_argument("--grid", type=Path, default=None, help="CBS grid GeoPackage")
    run.add_argument("--boundaries", type=Path, default=None,
                     help="municipality boundaries (GeoPackage/GeoJSON, any CRS)")
    run.add_argument("--facilities", default=None,
                     help="'osm' (the OSM tags) or a facility file (CSV/GeoPackage)")
    run.add_argument("--registry", type=Path, default=None,
                     help="region registry file replacing the packaged one")
    run.add_argument("--network", action="append", default=[], metavar="MODE=FILE",
                     help="a road network of one's own for a mode: an OSMnx GraphML or an "
                          "OSM XML file (e.g. --network walk=walk.graphml; repeatable)")
    run.add_argument("--no-clip", action="store_true",
                     help="use the inputs as they are (already regional extracts)")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE",
                     help="override a setting, e.g. --set pt_date=2026-03-10 or "
                          "--set facility_scope=nl-only (TOML values; repeatable)")

    listing = sub.add_parser("regions", help="list the NPVR regions and their municipalities")
    listing.add_argument("--registry", type=Path, default=None,
                         help="region registry file replacing the packaged one")
    listing.add_argument("--boundaries", type=Path, default=None,
                         help="check every code against this boundary file")

    fetch = sub.add_parser("download", help="download the public inputs (OSM, GTFS, CBS "
                                            "grid, boundaries) into a folder")
    fetch.add_argument("names", nargs="*", help="sources to fetch (default: see --list)")
    fetch.add_argument("--folder", type=Path, default=Path("downloads"),
                       help="download folder (default: downloads)")
    fetch.add_argument("--sources", type=Path, default=None,
                       help="sources file (TOML) replacing the packaged one")
    fetch.add_argument("--list", action="store_true", help="list the known sources")
    fetch.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

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


def _run_config(args: argparse.Namespace, region_id: str | None = None) -> pipeline.RunConfig:
    """The run configuration of ``run``: the TOML file (if any) with the flags over it."""
    inputs = {"osm": args.osm, "grid": args.grid, "municipalities": args.boundaries,
              "facilities": args.facilities,
              "gtfs": None if args.gtfs is None else tuple(args.gtfs),
              "registry": args.registry, "output_dir": args.output, "cache_dir": args.cache}
    if args.network:
        pairs = [item.partition("=") for item in args.network]
        bad = [item for item, (mode, sep, file) in zip(args.network, pairs)
               if not sep or not mode or not file]
        if bad:
            raise ConfigError(f"--network {bad[0]!r}: expected MODE=FILE, e.g. walk=walk.graphml")
        inputs["networks"] = {mode: Path(file) for mode, _, file in pairs}
    region_id = region_id or args.region
    if region_id is not None:
        inputs.update(region=region_id, region_id=region_id, municipality_codes=(),
                      region_polygon=None, clip=True)
    elif args.municipalities is not None:
        codes = tuple(c.strip() for c in args.municipalities.split(",") if c.strip())
        inputs.update(region=args.name or "custom", region_id=None, municipality_codes=codes,
                      region_polygon=None, clip=True)
    elif args.polygon is not None:
        inputs.update(region=args.name or args.polygon.stem, region_id=None,
                      municipality_codes=(), region_polygon=args.polygon, clip=True)
    if args.no_clip:
        inputs["clip"] = False
    if args.config is not None:
        config = pipeline.RunConfig.from_toml(args.config, **inputs)
        return dataclasses.replace(config, settings=_settings(args.overrides, config.settings))
    inputs["settings"] = _settings(args.overrides, Settings())
    missing = [f"--{flag}" for flag, key in (("osm", "osm"), ("grid", "grid"),
                                              ("boundaries", "municipalities"))
               if inputs[key] is None]
    if "region" not in inputs:
        missing.append("--region (or a config file)")
    if missing:
        raise ConfigError(f"run needs a configuration file or {', '.join(missing)}")
    values = {k: v for k, v in inputs.items() if v is not None}
    values.setdefault("facilities", "osm")
    return pipeline.RunConfig(**values)


def _settings(overrides: list[str], base: "Settings") -> "Settings":
    """``base`` with ``KEY=VALUE`` overrides (values in TOML syntax; bare words
    are strings)."""
    if not overrides:
        return base
    values = base.to_dict()
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        if isinstance(value, (datetime.date, datetime.time)):
            value = value.isoformat()  # a TOML date: settings hold ISO text
        values[key.strip()] = value
    return Settings.from_dict(values)


def _run_all(args: argparse.Namespace, start: float) -> int:
    """Every registry region: clip the national inputs for all in one pass, then
    profile each; a region that fails is reported and the others still run."""
    from . import regional
    from .sources import boundaries, regions

    registry = args.registry
    if registry is None and args.config is not None:
        registry = pipeline.RunConfig.from_toml(args.config).registry
    names = list(regions.read_registry(registry))
    configs = {name: _run_config(args, region_id=name) for name in names}
    # The regions share every input and setting: any one's config clips for all.
    base = configs[names[0]]
    munis = boundaries.read_municipalities(base.municipalities, base.settings)
    if not args.no_clip:
        areas = {}
        for name, config in configs.items():
            try:
                areas[name] = regional.resolve(config, munis).area
            except BereikbaarheidError:
                pass  # reported by its own run below
        regional.clipped_inputs(base, areas)
    failed = 0
    for name, config in configs.items():
        logger.info(f"region {name}")
        try:
            result = pipeline.run_profile(config)
        except BereikbaarheidError as exc:
            failed += 1
            print(f"{name}: error: {exc}", file=sys.stderr)
            continue
        region = result.summary[result.summary["level"] == "region"]
        gp = region[(region["type"] == "gp") & (region["mode"] == "car")]
        median = f"{gp['median_time_s'].iloc[0] / 60:.1f} min" if len(gp) else "n/a"
        print(f"{name}: {len(result.cells)} cells, {region['population'].iloc[0]:,.0f} "
              f"inhabitants, median car time to a GP {median}; written "
              f"{result.files['manifest'].parent}")
    print(f"{len(configs) - failed} of {len(configs)} regions written in "
          f"{time.perf_counter() - start:.1f}s" + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0


def _regions(args: argparse.Namespace) -> int:
    """List the registry; with --boundaries, check every code is in the file."""
    from .sources import boundaries, regions

    try:
        registry = regions.read_registry(args.registry)
        munis = (None if args.boundaries is None
                 else boundaries.read_municipalities(args.boundaries, Settings()))
    except BereikbaarheidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missing_any = False
    for spec in registry.values():
        confidence = f" ({spec.confidence})" if spec.confidence else ""
        print(f"{spec.id:<26}{spec.name}{confidence}: {len(spec.codes)} municipalities")
        print("    " + ", ".join(f"{c} {n}" for c, n in spec.municipalities.items()))
        if munis is not None:
            region = regions.resolve_region(spec, munis, Settings(), strict=False)
            if region.missing:
                missing_any = True
                print("    absent from the boundary file: "
                      + ", ".join(f"{c} {n}" for c, n in region.missing))
            else:
                print(f"    all found; {region.polygon.area / 1e6:,.0f} km2")
    return 1 if missing_any else 0


def _download(args: argparse.Namespace) -> int:
    """Fetch the named sources (or list them)."""
    from .sources import download

    try:
        sources = download.read_sources(args.sources)
        if args.list or not args.names:
            for line in download.describe(sources):
                print(line)
            if not args.names:
                print("name the sources to fetch, e.g. `bereikbaarheid download gemeenten`")
            return 0
        fetched = download.fetch(args.names, args.folder, sources=sources,
                                 progress=not args.quiet)
    except BereikbaarheidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for item in fetched:
        print(f"{item.name}: {item.status} {item.path} ({item.bytes:,} bytes, "
              f"sha256 {item.sha256})")
    print(f"checksums recorded in {Path(args.folder) / 'checksums.json'}")
    return 0


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

    logger.info(f"generating the demo region in {args.folder} (seed {args.seed}, "
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
