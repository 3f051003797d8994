"""bereikbaarheid: accessibility of facilities in Dutch regions.

The public API for scenario scripts::

    from bereikbaarheid import RunConfig, Settings, run_profile, generate_demo

    region = generate_demo("demo_region")
    result = run_profile(RunConfig.from_toml(region.config))
    result.summary  # per region / municipality, type and mode

Names are imported on first use, so ``import bereikbaarheid`` stays cheap.
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
    "InputError": "errors",
    "DemoRegion": "demo.generate",
    "generate_demo": "demo.generate",
    "ProfileResult": "pipeline",
    "RunConfig": "pipeline",
    "run_profile": "pipeline",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    if name in _API:
        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'bereikbaarheid' has no attribute {name!r}")
