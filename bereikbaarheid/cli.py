"""Command line: ``bereikbaarheid demo``, ``run``, ``scenario``, ``report``, ``catalog``,
``regions``, ``download`` and ``gtfs-check``.

It behaves like git, uv or ruff: results and the paths written on stdout;
step messages, progress, warnings and errors on stderr; ``-q`` prints only
errors and the paths written. Exit status 0 on success, 2 for bad input or
usage (one line: ``error: <file>: <what was wrong and what was expected>``),
1 for a bug (the traceback only with ``--debug``), 130 when interrupted.

Only ``argparse`` is imported up front, so ``--help`` answers at once; each
command imports what it needs.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import logging
import os
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, NoReturn

from . import __version__, _process, _progress
from .errors import BereikbaarheidError, ConfigError, interrupted

logger = logging.getLogger("bereikbaarheid")

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse with this command's error line and exit status."""

    def error(self, message: str) -> NoReturn:
        where, sep, what = message.partition(": ")
        if sep and where.startswith("argument "):  # "argument --scale: 0 is outside ..."
            where, message = where.removeprefix("argument "), what
        else:
            where = self.prog
        print(f"error: {where}: {message}; see `{self.prog} --help`", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bereikbaarheid`` command; returns the exit status.

    Run as the command (``argv`` None), a command that runs first sets the
    process's memory settings for large arrays
    (:func:`bereikbaarheid._process.tune_memory`); called from Python with
    ``argv`` it leaves the process as it is.
    """
    as_command = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, commands = _parser()
    if len(argv) <= 1 and (not argv or argv[0] in _NEEDS_INPUT):
        # A bare command, or a bare command that needs input: its help.
        (commands[argv[0]] if argv else parser).print_help()
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    debug = args.debug
    if as_command:
        _process.tune_memory()
    saved = logger.handlers[:], logger.level, _progress.is_quiet()
    _configure_output(args)
    try:
        return _dispatch(args, time.perf_counter())
    except BrokenPipeError:  # output piped into e.g. `head`: the work itself succeeded
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    except BaseException as exc:  # noqa: BLE001 - the one place every failure ends
        return _failure(exc, debug)
    finally:
        # Called from Python (a test, a notebook): leave logging as it was.
        logger.handlers[:], level, quiet = saved
        logger.setLevel(level)
        _progress.show_progress(not quiet)


def _failure(exc: BaseException, debug: bool) -> int:
    """Report a failure in one line on stderr and return its exit status."""
    if interrupted(exc):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if isinstance(exc, SystemExit):
        return int(exc.code or 0)
    status, line = _error_line(exc)
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    print(line, file=sys.stderr)
    return status


def _error_line(exc: BaseException, where: str = "") -> tuple[int, str]:
    """The exit status of a failure and its one line: ``error: <file>: <what
    was wrong>; expected ...``, with `` (where)`` after it when given."""
    after = f" ({where})" if where else ""
    if isinstance(exc, BereikbaarheidError):
        return EXIT_USAGE, f"error: {exc}{after}"
    if isinstance(exc, OSError):
        # A folder that is read-only or full, a path naming a file: the
        # system's own words, with the file it was about.
        path = exc.filename if exc.filename is not None else "(unknown file)"
        # numpy reports a short write (a full disk) without an errno.
        reason = exc.strerror or f"{exc} (is the disk full?)"
        expected = _OS_EXPECTED.get(exc.errno, "a readable input, and a writable output "
                                               "and cache folder with free space")
        return EXIT_USAGE, f"error: {path}: {reason}; expected {expected}{after}"
    if isinstance(exc, MemoryError):
        return EXIT_USAGE, ("error: out of memory; expected a smaller region, or fewer modes "
                            f"(--set 'modes=[\"car\"]'){after}")
    return EXIT_BUG, (f"error: internal error (a bug){' in ' + where if where else ''}: "
                      f"{type(exc).__name__}: {exc}; rerun with --debug for the traceback "
                      "and report it")


# What a path should have been, by the system's error.
_OS_EXPECTED: dict[int, str] = {
    errno.ENOSPC: "free space on the disk", errno.EDQUOT: "free space within the quota",
    errno.EFBIG: "a file within the size the system allows",
    errno.EROFS: "a folder on a writable file system",
    errno.EACCES: "permission to read it (and to write in the output and cache folders)",
    errno.EPERM: "permission to read it (and to write in the output and cache folders)",
    errno.EEXIST: "a folder, not a file", errno.ENOTDIR: "a folder, not a file",
    errno.EISDIR: "a file, not a folder", errno.ENOENT: "a file or folder that exists",
}


def _configure_output(args: argparse.Namespace) -> None:
    """Attach the package's log handler and turn progress bars on or off:
    bars only at a terminal, never under ``-q`` or in CI."""
    quiet = args.quiet
    level = logging.ERROR if quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    _progress.show_progress(not quiet and sys.stderr.isatty() and not os.environ.get("CI"))


class _Format(logging.Formatter):
    """Step messages as they are; warnings and errors prefixed with their level."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {text}"
        if record.levelno <= logging.DEBUG:
            return f"debug: {record.name}: {text}"
        return text


def _dispatch(args: argparse.Namespace, start: float) -> int:
    command = args.command
    if command == "gtfs-check":
        return _gtfs_check(args)
    if command == "regions":
        return _regions(args)
    if command == "download":
        return _download(args)
    if command == "run" and args.all_regions:
        return _run_all(args, start)
    if command == "scenario" and args.each_closure:
        return _closures(args, start)
    if command == "scenario":
        return _scenario(args, start)
    if command == "batch":
        return _batch(args, start)
    if command == "run" and (args.workers or args.scheduler):
        raise ConfigError("--workers and --scheduler spread regions over workers; expected "
                          "them with --all-regions (or use `bereikbaarheid batch`)",
                          path="command line")
    if command == "report":
        return _report(args)
    if command == "catalog":
        return _catalog(args)
    from . import pipeline

    if command == "demo":
        result = _demo(args)
    else:
        config = _run_config(args)
        with _located(config):
            result = pipeline.run_profile(config)
    if command == "demo" and not args.quiet:
        print(f"demo inputs: {args.folder}")
    _print_summary(result, time.perf_counter() - start, args.quiet)
    # The profile is written and said so: the report comes last, so that
    # should it fail, the paths of the profile are printed already.
    _print_reports(_reports(args, [result]), args.quiet)
    return EXIT_OK


def _reports(args: argparse.Namespace, results: list) -> list[Path]:
    """Build the report of each profile written, unless ``--no-report``."""
    if args.no_report:
        return []
    sys.stdout.flush()  # what was printed shows while the report is built
    return [_build_report(result.files["manifest"].parent, args.lang) for result in results]


def _build_report(folder: Path, lang: str) -> Path:
    """Write ``folder/report`` and return the path of its ``index.html``."""
    from . import report

    logger.info(f"report: building {Path(folder) / 'report'}")
    return report.build_report(folder, lang=lang)


def _print_reports(reports: list[Path], quiet: bool) -> None:
    """The reports' paths: ``report: PATH``, or the bare path under ``-q``."""
    for path in reports:
        print(path if quiet else f"report: {path}", flush=True)


def _report(args: argparse.Namespace) -> int:
    """Build (and open) the report of one profile folder; print its path."""
    index = _build_report(args.folder, args.lang)
    if args.open:
        import webbrowser

        if not webbrowser.open(Path(index).resolve().as_uri()):
            logger.warning(f"no web browser could be started; open {index} yourself")
    print(index)
    return EXIT_OK


def _catalog(args: argparse.Namespace) -> int:
    """Rebuild the catalogue of an output folder from its profiles; print its path."""
    from . import catalog

    path = args.catalog if args.catalog is not None else catalog.default_path(args.folder)
    logger.info(f"catalogue: rebuilding {path} from the profiles in {args.folder}")
    catalog.rebuild(path, args.folder)
    print(path)
    return EXIT_OK


def _catalog_choice(args: argparse.Namespace) -> Path | bool | None:
    """The catalogue of ``--catalog PATH`` / ``--no-catalog``: a path, False
    (none), or None (the run file's or the default)."""
    return False if args.no_catalog else args.catalog


@contextmanager
def _located(config: Any) -> Iterator[None]:
    """Name the run's configuration file (or the command line) in a settings
    error raised during the run."""
    try:
        yield
    except ConfigError as exc:
        raise exc.located(getattr(config, "source", None) or "command line") from None


def _demo_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError(f"{text} is outside the range 1 to 200 (1 is the "
                                         "20 x 15 km demo; 33 gives about 1.1 million road "
                                         "nodes)")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{text} is outside the range 0 to 4,294,967,295")
    return value


def _iso_date(text: str) -> str:
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD, "
                                         "e.g. 2026-03-10") from None


# Commands that do nothing without arguments: alone, they print their help.
_NEEDS_INPUT = ("run", "scenario", "batch", "report", "catalog", "gtfs-check")

# What --each-closure takes, as ``batch.CLOSURE_CHOICES`` (a test checks).
_CLOSURE_CHOICES = ("gp", "school", "supermarket", "all")


def _worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 512:
        raise argparse.ArgumentTypeError(f"{text} is outside the range 1 to 512")
    return value

# The report's languages, as ``report.LANGUAGES`` (not imported here: it
# would load matplotlib for ``--help``; a test checks the two agree).
_LANGUAGES = ("nl", "en")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser and each command's own parser, by name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors and the paths written (no progress, "
                             "steps, warnings or summary)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="also print debugging messages")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an internal error")

    parser = _Parser(
        prog="bereikbaarheid", parents=[common],
        description="Accessibility profiles of Dutch regions: travel times from CBS grid "
                    "cells to GP practices, primary schools and supermarkets.",
        epilog="Exit status: 0 success, 1 internal error (a bug), 2 bad input or usage, "
               "130 interrupted.")
    parser.set_defaults(quiet=False, verbose=False, debug=False)
    parser.add_argument("--version", action="version", version=f"bereikbaarheid {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kwargs)

    demo = command("demo", help="generate the built-in demo region and profile it")
    demo.add_argument("--folder", type=Path, default=Path("demo_region"),
                      help="where the demo inputs are written (default: demo_region)")
    demo.add_argument("--seed", type=_seed, default=2024,
                      help="generator seed, 0 to 2**32 - 1 (default: 2024)")
    demo.add_argument("--scale", type=_demo_scale, default=1.0,
                      help="area multiplier, 1 to 200; 33 gives about 1.1 million road nodes")
    demo.add_argument("--facilities", choices=("csv", "osm"), default="csv",
                      help="facility source: the demo's register with capacities (csv, "
                           "default) or the OSM tags (default capacities)")

    run = command("run", help="profile a region: from a TOML run configuration, or an NPVR "
                              "region (--region, --all-regions) on national inputs given by "
                              "the flags")
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

    listing = command("regions", help="list the NPVR regions and their municipalities")
    listing.add_argument("--registry", type=Path, default=None,
                         help="region registry file replacing the packaged one")
    listing.add_argument("--boundaries", type=Path, default=None,
                         help="check every code against this boundary file")

    fetch = command("download", help="download the public inputs (OSM, GTFS, CBS grid, "
                                     "boundaries) into a folder")
    fetch.add_argument("names", nargs="*", help="sources to fetch (default: see --list)")
    fetch.add_argument("--folder", type=Path, default=Path("downloads"),
                       help="download folder (default: downloads)")
    fetch.add_argument("--sources", type=Path, default=None,
                       help="sources file (TOML) replacing the packaged one")
    fetch.add_argument("--list", action="store_true", help="list the known sources")

    check = command("gtfs-check",
                    help="validate GTFS feeds and list every problem (file, row, field)")
    check.add_argument("feeds", type=Path, nargs="+", help="GTFS zip files or folders")
    check.add_argument("--date", type=_iso_date, default=None,
                       help="analysis date (YYYY-MM-DD): also check there is service that day")
    check.add_argument("--csv", type=Path, default=None,
                       help="write the full report to this CSV")

    what_if = command("scenario", help="run a baseline and a scenario (see "
                                       "examples/scenarios) and write both with their "
                                       "difference")
    what_if.add_argument("config", type=Path, help="run configuration of the baseline")
    what_if.add_argument("scenario", type=Path, nargs="?", default=None,
                         help="scenario file (TOML); optional with --each-closure")
    what_if.add_argument("--full", action="store_true",
                         help="recompute road travel times in full instead of updating them "
                              "incrementally (same tables, slower)")
    what_if.add_argument("--each-closure", choices=_CLOSURE_CHOICES, default=None,
                         help="close every facility of this type (or all) on its own and "
                              "write the ranked closure_impact.csv into the profile (the "
                              "scenario's, when one is given)")

    many = command("batch", help="run a batch file: regions x scenario files x projection "
                                 "years (see examples/batch.toml), serially or on Dask")
    many.add_argument("file", type=Path, metavar="BATCH_FILE", help="batch file (TOML)")

    for p in (run, what_if, many):
        p.add_argument("--workers", type=_worker_count, default=None, metavar="N",
                       help="run the tasks on a local Dask cluster of N worker processes "
                            "(default: serially)")
        p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the tasks on a running Dask cluster, e.g. tcp://HOST:8786 "
                            "(default: $DASK_SCHEDULER_ADDRESS if set); the workers must see "
                            "the inputs, the output and the cache folders at the same paths")
        p.add_argument("--memory-limit", default=None, metavar="SIZE",
                       help="memory per local worker, e.g. 4GB (default: the machine's "
                            "memory shared out); a task over it is rerun, then reported")

    for p in (demo, run, what_if, many):
        p.add_argument("--output", type=Path, default=None,
                       help="profiles folder (default: profiles, or the config's)")
        p.add_argument("--cache", type=Path, default=None,
                       help="network cache folder (default: network_cache)")
        p.add_argument("--no-report", action="store_true",
                       help="write no report (PROFILE/report/index.html) after the run")
        p.add_argument("--lang", choices=_LANGUAGES, default="nl",
                       help="language of the report: nl (default) or en")
        stored = p.add_mutually_exclusive_group()
        stored.add_argument("--catalog", type=Path, default=None, metavar="PATH",
                            help="catalogue (DuckDB) the run is added to (default: "
                                 "catalog.duckdb in the profiles folder, or the config's)")
        stored.add_argument("--no-catalog", action="store_true",
                            help="add the run to no catalogue")

    show = command("report", help="write a profile's report (PROFILE/report/index.html: "
                                  "maps, tables, figures; opens offline)")
    show.add_argument("folder", type=Path, metavar="PROFILE_FOLDER",
                      help="a profile or scenario folder, e.g. profiles/demo")
    show.add_argument("--lang", choices=_LANGUAGES, default="nl",
                      help="language of the report: nl (default) or en")
    show.add_argument("--open", action="store_true",
                      help="open the report in the web browser")

    store = command("catalog", help="rebuild the catalogue (DuckDB) of an output folder "
                                    "from every profile and scenario in it")
    store.add_argument("folder", type=Path, metavar="OUTPUT_FOLDER",
                       help="the profiles folder, e.g. profiles")
    store.add_argument("--catalog", type=Path, default=None, metavar="PATH",
                       help="the catalogue file (default: OUTPUT_FOLDER/catalog.duckdb)")
    return parser, {"run": run, "scenario": what_if, "batch": many, "report": show,
                    "catalog": store, "gtfs-check": check}


def _run_config(args: argparse.Namespace, region_id: str | None = None):
    """The run configuration of ``run``: the TOML file (if any) with the flags over it."""
    import dataclasses

    from . import pipeline
    from .config import Settings

    inputs: dict[str, Any] = {
        "osm": args.osm, "grid": args.grid, "municipalities": args.boundaries,
        "facilities": args.facilities, "gtfs": None if args.gtfs is None else tuple(args.gtfs),
        "registry": args.registry, "output_dir": args.output, "cache_dir": args.cache,
        "catalog": _catalog_choice(args)}
    if args.network:
        pairs = [item.partition("=") for item in args.network]
        bad = [item for item, (mode, sep, file) in zip(args.network, pairs)
               if not sep or not mode or not file]
        if bad:
            raise ConfigError("expected MODE=FILE, e.g. walk=walk.graphml",
                              path=f"--network {bad[0]}")
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
    missing = [f"--{flag}" for flag, key in (("osm", "osm"), ("grid", "grid"),
                                              ("boundaries", "municipalities"))
               if inputs[key] is None]
    if "region" not in inputs:
        missing.append("--region (or a config file)")
    if missing:
        raise ConfigError(f"run needs a configuration file or {', '.join(missing)}",
                          path="command line")
    inputs["settings"] = _settings(args.overrides, Settings())
    values = {k: v for k, v in inputs.items() if v is not None}
    values.setdefault("facilities", "osm")
    try:
        return pipeline.RunConfig(**values)
    except ConfigError as exc:
        raise exc.located("command line") from None


def _settings(overrides: list[str], base):
    """``base`` with ``KEY=VALUE`` overrides (values in TOML syntax; a bare
    word is text); an error names the option."""
    import tomllib

    from .config import Settings

    values = base.to_dict()
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("expected KEY=VALUE, e.g. --set pt_date=2026-03-10",
                              path=f"--set {item}")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        if isinstance(value, (datetime.date, datetime.time)):
            value = value.isoformat()  # a TOML date: settings hold ISO text
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            value = {**values[key], **value}  # one key of a table, as in a file
        try:
            values = Settings.from_dict({**values, key: value}).to_dict()
        except ConfigError as exc:
            nested = None if exc.key == key else exc.key  # the option names the key
            raise ConfigError(exc.message, path=f"--set {item}", key=nested) from None
    return base if not overrides else Settings.from_dict(values)


def _scenario(args: argparse.Namespace, start: float) -> int:
    from . import pipeline, scenario

    if args.scenario is None:
        raise ConfigError("expected a scenario file (SCENARIO), or --each-closure TYPE",
                          path="command line")
    if args.workers or args.scheduler:
        raise ConfigError("--workers and --scheduler spread closures over workers; expected "
                          "them with --each-closure (or use `bereikbaarheid batch`)",
                          path="command line")

    config = pipeline.RunConfig.from_toml(args.config, output_dir=args.output,
                                          cache_dir=args.cache, catalog=_catalog_choice(args))
    with _located(config):
        outcome = scenario.run_scenario(config, args.scenario, incremental=not args.full)
    if not args.quiet:
        for line in scenario.describe(outcome):
            print(line)
        print(f"total {time.perf_counter() - start:.1f}s; written:")
    for path in (*outcome.baseline.files.values(), *outcome.scenario.files.values()):
        print(f"  {path}" if not args.quiet else path)
    # The baseline's report first, the scenario's (with its differences) last.
    for result in (outcome.baseline, outcome.scenario):
        _print_reports(_reports(args, [result]), args.quiet)
    return EXIT_OK


def _run_all(args: argparse.Namespace, start: float) -> int:
    """Every registry region: clip the national inputs for all in one pass, then
    profile each, serially or on Dask; a region that fails is reported and the
    others still run."""
    from . import batch, pipeline
    from .sources import regions

    registry = args.registry
    if registry is None and args.config is not None:
        registry = pipeline.RunConfig.from_toml(args.config).registry
    names = list(regions.read_registry(registry))
    configs = {name: _run_config(args, region_id=name) for name in names}
    tasks = batch.plan_regions(configs, lang=_report_lang(args), clip=not args.no_clip)
    return _run_batch(args, tasks, configs[names[0]], start, what="region(s)")


def _batch(args: argparse.Namespace, start: float) -> int:
    """A batch file: per region its baseline, scenarios and closures."""
    from . import batch

    spec = batch.read_batch(args.file, output_dir=args.output, cache_dir=args.cache,
                            catalog=_catalog_choice(args))
    cluster = _cluster(args)
    logger.info(spec.describe())
    tasks = batch.plan_batch(spec, lang=_report_lang(args), parts=_parts(cluster))
    return _run_batch(args, tasks, next(iter(spec.configs.values())), start, what="task(s)",
                      cluster=cluster)


def _closures(args: argparse.Namespace, start: float) -> int:
    """``scenario CONFIG [SCENARIO] --each-closure TYPE``."""
    from . import batch, pipeline
    from .sources import scenario as scenario_source

    config = pipeline.RunConfig.from_toml(args.config, output_dir=args.output,
                                          cache_dir=args.cache, catalog=_catalog_choice(args))
    what = None if args.scenario is None else scenario_source.read_scenario(args.scenario)
    if args.full:
        raise ConfigError("--each-closure always updates the road travel times "
                          "incrementally; expected no --full", path="command line")
    cluster = _cluster(args)
    tasks = batch.plan_closures(config, args.each_closure, what, lang=_report_lang(args),
                                parts=_parts(cluster))
    return _run_batch(args, tasks, config, start, what="task(s)", cluster=cluster)


def _cluster(args: argparse.Namespace):
    from . import batch

    return batch.Cluster(workers=args.workers, scheduler=args.scheduler,
                         memory_limit=args.memory_limit)


def _parts(cluster) -> int:
    """Closure tasks per region: a few per worker, so that a slow one does
    not hold the others up; one serially. The rows do not depend on it."""
    c = cluster.resolved()
    return 1 if cluster.serial else 4 * (c.workers or 8)


def _report_lang(args: argparse.Namespace) -> str | None:
    return None if args.no_report else args.lang


def _run_batch(args: argparse.Namespace, tasks: list, config, start: float, *, what: str,
               cluster=None) -> int:
    """Run ``tasks`` where ``args`` says, say what each did as it finishes,
    add every profile written to the catalogue once, and return the exit
    status: 0 when all went well, 2 when a task failed on its input (or its
    worker died), 1 when one met a bug."""
    from . import batch

    cluster = cluster or _cluster(args)
    if config.catalog_path is not None:
        from . import catalog

        catalog.check(config.catalog_path)  # before the long work, not after
    serial = cluster.serial
    logger.info(f"{sum(t.counted for t in tasks)} task(s) {cluster.describe()}")
    status = EXIT_OK
    said: set[tuple[str, str]] = set()  # (region, warning): a scenario repeats its baseline's

    with batch.connect(cluster, verbose=args.verbose) as (client, threads):
        # Asked now: a worker that died may be gone from the list when it matters.
        limit = None if client is None else batch.memory_limit_of(client)

        def heard(task, value, done: int, total: int, running: int) -> None:
            nonlocal status
            if isinstance(value, batch.Failure):
                if not task.counted and value.error is None:
                    return  # a step that passes a result on: its task is reported
                code, line = _task_failure(value, limit, args.debug)
                status = max(status, code) if status != EXIT_BUG else status
                print(line, file=sys.stderr, flush=True)
                return
            if not task.counted:
                return
            line = value.line if isinstance(value, batch.TaskReport) else task.label
            logger.info(f"[{done}/{total}, {running} running] {line}")
            if isinstance(value, batch.TaskReport) and not serial:
                region = value.key.split("@")[0]
                for warning in value.warnings:  # a worker's: logged there to no one
                    if (region, warning) not in said:
                        said.add((region, warning))
                        logger.warning(f"{value.key}: {warning}")

        outcome = batch.run_tasks(tasks, client, numba_threads=threads, listener=heard)
    reports = [r for r in outcome.results.values() if isinstance(r, batch.TaskReport)]
    folders = [r.folder for r in reports if r.folder is not None]
    if folders and config.catalog_path is not None:
        from . import pipeline

        pipeline.update_catalog(config, folders)
    for report in reports:
        if args.quiet:
            for path in (*report.files, *([report.report] if report.report else [])):
                print(path)
        else:
            for line in report.extra.get("describe", []):
                print(line)
    if not args.quiet:
        failed = sum(f.task.counted for f in outcome.failures)
        counted = [t for t in tasks if t.counted]
        print(f"{len(counted) - failed} of {len(counted)} {what} done in "
              f"{time.perf_counter() - start:.1f}s {cluster.describe()}"
              + (f"; {failed} failed" if failed else ""))
        for report in reports:
            print(f"  {report.folder}")
        _print_reports([r.report for r in reports if r.report is not None], quiet=False)
    return status


def _task_failure(failure, limit: str | None, debug: bool) -> tuple[int, str]:
    """The exit status and the line of a task that failed; ``limit`` is the
    workers' memory limit, as :func:`batch.memory_limit_of` says it."""
    label = failure.task.label
    if failure.error is None:
        return EXIT_USAGE, f"error: {label}: not run, as {failure.cause} failed (above)"
    if type(failure.error).__name__ == "KilledWorker":
        over = f"over the memory limit of {limit} per worker" if limit else "out of memory"
        return EXIT_USAGE, (f"error: {label}: its worker died each time it ran it (killed, or "
                            f"{over}); expected a task that fits in a worker (--memory-limit, "
                            "fewer workers, or a smaller region)")
    if debug and failure.traceback:
        print(failure.traceback, file=sys.stderr, end="")
    return _error_line(failure.error, label)


def _regions(args: argparse.Namespace) -> int:
    """List the registry; with --boundaries, check every code is in the file."""
    from .config import Settings
    from .sources import boundaries, regions

    registry = regions.read_registry(args.registry)
    munis = (None if args.boundaries is None
             else boundaries.read_municipalities(args.boundaries, Settings()))
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
    if missing_any:
        print(f"error: {args.boundaries}: municipalities of the registry are absent, listed "
              "above; expected boundaries of the current municipal division", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _download(args: argparse.Namespace) -> int:
    """Fetch the named sources (or list them)."""
    from .sources import download

    sources = download.read_sources(args.sources)
    if args.list or not args.names:
        for line in download.describe(sources):
            print(line)
        if not args.names:
            print("name the sources to fetch, e.g. `bereikbaarheid download gemeenten`")
        return EXIT_OK
    fetched = download.fetch(args.names, args.folder, sources=sources,
                             progress=not _progress.is_quiet())
    for item in fetched:
        if args.quiet:
            print(item.path)
        else:
            print(f"{item.name}: {item.status} {item.path} ({item.bytes:,} bytes, "
                  f"sha256 {item.sha256})")
    if not args.quiet:
        print(f"checksums recorded in {Path(args.folder) / 'checksums.json'}")
    return EXIT_OK


def _gtfs_check(args: argparse.Namespace) -> int:
    """Print the validation report; exit status 2 when a problem is fatal."""
    from . import _io
    from .sources import gtfs

    # The report below lists every warning: the reader's log of them would
    # say each twice.
    reader_log = logging.getLogger(gtfs.__name__)
    level = reader_log.level
    reader_log.setLevel(logging.ERROR)
    try:
        report = gtfs.validate_gtfs(args.feeds, service_date=args.date)
    finally:
        reader_log.setLevel(level)
    if not args.quiet:
        for issue in report.issues:
            print(f"{issue.severity:<8}{issue.feed}: {issue}")
    if args.csv is not None:
        with _io.atomic_open(args.csv, "w", encoding="utf-8", newline="") as f:
            report.to_frame().to_csv(f, index=False, lineterminator="\n")
        if args.quiet:
            print(args.csv)
    print(report.summary())
    if report.fatal:
        feeds = ", ".join(str(f) for f in args.feeds)
        print(f"error: {feeds}: {len(report.fatal)} fatal problem(s), listed above; expected "
              "a feed that can be routed on" + (f" on {args.date}" if args.date else ""),
              file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _demo(args: argparse.Namespace):
    from . import pipeline
    from .demo import generate

    logger.info(f"generating the demo region in {args.folder} (seed {args.seed}, "
                f"scale {args.scale:g})")
    region = generate.generate_demo(args.folder, seed=args.seed, scale=args.scale)
    config = pipeline.RunConfig.from_toml(
        region.config,
        facilities="osm" if args.facilities == "osm" else None,
        output_dir=args.output, cache_dir=args.cache, catalog=_catalog_choice(args))
    with _located(config):
        return pipeline.run_profile(config)


def _print_summary(result, seconds: float, quiet: bool) -> None:
    """The region's table (unless quiet) and the paths written."""
    if quiet:
        for path in result.files.values():
            print(path)
        return
    manifest = result.manifest
    summary = result.summary
    region = summary[summary["level"] == "region"]
    print(f"region {manifest['region']}: {len(result.cells)} cells, "
          f"{region['population'].iloc[0]:,.0f} inhabitants; "
          f"facilities {manifest['facilities']}")
    thresholds = manifest["settings"]["thresholds_min"]
    minutes = 15 if 15 in thresholds else thresholds[-1]
    within = f"<={minutes} min"
    # The share and the last two columns count inhabitants, not cells.
    print(f"{'':<38}{' inhabitants ':-^30}")
    print(f"{'type':<12}{'mode':<6}{'median min':>11}{'p90 min':>9}"
          f"{within:>10}{'unlinked':>10}{'unreached':>10}")
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
    if manifest["warnings"]:
        print(f"{len(manifest['warnings'])} warning(s), listed above and in "
              f"{result.files['manifest']}")
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in manifest["timings_s"].items())
    print(f"steps: {steps}; total {seconds:.1f}s")
    print("written:")
    for path in result.files.values():
        print(f"  {path}")
