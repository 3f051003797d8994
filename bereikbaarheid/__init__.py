"""bereikbaarheid: accessibility of facilities in Dutch regions.

The public API for scenario scripts::

    from bereikbaarheid import RunConfig, generate_demo, run_profile, run_scenario

    region = generate_demo("demo_region")
    config = RunConfig.from_toml(region.config)
    result = run_profile(config)
    result.summary  # per region / municipality, type and mode
    what_if = run_scenario(config, "examples/scenarios/close-village-gp.toml")
    build_report(result.files["cells"].parent)  # profiles/demo/report/index.html

Names are imported on first use, so ``import bereikbaarheid`` stays cheap.
The package logs through :mod:`logging` (loggers under ``bereikbaarheid``)
and never prints; ``show_progress()`` turns on progress bars for long steps.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bereikbaarheid")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

_API = {
    "Settings": "config",
    "BereikbaarheidError": "errors",
    "ConfigError": "errors",
    "GtfsError": "errors",
    "InputError": "errors",
    "DemoRegion": "demo.generate",
    "generate_demo": "demo.generate",
    "ProfileResult": "pipeline",
    "RunConfig": "run_config",
    "run_profile": "pipeline",
    "ScenarioResult": "scenario",
    "run_scenario": "scenario",
    "read_scenario": "sources.scenario",
    "show_progress": "_progress",
    "tune_memory": "_process",
    "build_report": "report",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    if name in _API:
        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'bereikbaarheid' has no attribute {name!r}")
