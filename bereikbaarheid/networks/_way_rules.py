"""Per-way OSM tag rules: access, direction, speed and ferry duration per mode."""

from __future__ import annotations

import math
import re
from typing import Mapping

from ..config import Settings

# ``delivery`` denies: a Dutch shopping street tagged ``highway=pedestrian,
# motor_vehicle=delivery`` is open to cars only for loading, not for a trip to
# the shops. ``official`` allows: ``bicycle=official`` marks a path signed for
# that mode.
ALLOWED_VALUES = frozenset(
    {"yes", "permissive", "designated", "official", "destination", "customers"}
)
DENIED_VALUES = frozenset(
    {"no", "private", "agricultural", "forestry", "use_sidepath", "delivery"}
)

# Access keys from general to specific; the most specific key present with a
# known value decides.
ACCESS_KEYS: dict[str, tuple[str, ...]] = {
    "car": ("access", "vehicle", "motor_vehicle", "motorcar"),
    "bike": ("access", "vehicle", "bicycle"),
    "walk": ("access", "foot"),
}
# Keys that may open a highway class the mode does not use by default
# (``foot=yes`` on a trunk road); a bare ``access=yes`` never does.
OPENING_KEYS: dict[str, tuple[str, ...]] = {
    "car": ("motor_vehicle", "motorcar"),
    "bike": ("bicycle",),
    "walk": ("foot",),
}

# Highway values of a way that is not (or no longer) there to be used: the
# stages of OSM's lifecycle (``highway=construction`` + ``construction=
# residential`` is a road being built, closed to all). No access tag opens
# them. ``disused:highway=*`` and the like carry no ``highway`` key: no road
# at all. ``construction=*``/``proposed=*`` on an ordinary highway class leave
# it open: there they mean minor works (``construction=minor``), a planned
# change or a tag left behind after the works, while the road is in use.
LIFECYCLE_HIGHWAYS = frozenset({
    "proposed", "planned", "construction", "disused", "abandoned", "ruins", "razed",
    "demolished", "destroyed", "removed", "was",
})

# Modes that may not use a ``motorroad=yes`` way (a Dutch "autoweg" tagged on
# a primary road) unless ``foot``/``bicycle`` explicitly allow them.
MOTORROAD_DENIED_MODES = frozenset({"walk", "bike"})

# Implicit limits of maxspeed zone values (looked up case-insensitively, so
# ``nl:urban`` works too). NL, plus Germany and Belgium for extracts that cross
# the border; "walk" is the speed on a woonerf as in the living_street
# default. None means "no general limit" (German motorways): the class
# default speed applies. Belgian regions differ outside built-up areas;
# Brussels has 30 in built-up areas since 2021.
MAXSPEED_ZONES_KMH: dict[str, float | None] = {
    "NL:urban": 50.0, "NL:rural": 80.0, "NL:motorway": 130.0, "NL:trunk": 100.0,
    "NL:zone30": 30.0, "NL:zone60": 60.0, "NL:living_street": 15.0,
    "DE:urban": 50.0, "DE:rural": 100.0, "DE:zone30": 30.0, "DE:living_street": 7.0,
    "DE:motorway": None,
    "BE:urban": 50.0, "BE:rural": 90.0, "BE:zone30": 30.0, "BE:motorway": 120.0,
    "BE:living_street": 20.0,
    "BE-VLG:urban": 50.0, "BE-VLG:rural": 70.0,
    "BE-WAL:urban": 50.0, "BE-WAL:rural": 90.0,
    "BE-BRU:urban": 30.0,
    "walk": 15.0,
}
_ZONES_LOWER = {zone.lower(): kmh for zone, kmh in MAXSPEED_ZONES_KMH.items()}
_MPH_TO_KMH = 1.609344
_KNOT_TO_KMH = 1.852
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")
_CLOCK = re.compile(r"^\s*(\d+):(\d{1,2})(?::(\d{1,2}))?\s*$")
_MINUTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")
_ISO = re.compile(r"^\s*PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?\s*$",
                  re.IGNORECASE)

_TRUE = frozenset({"yes", "true", "1"})
_REVERSE = frozenset({"-1", "reverse"})
_OPPOSITE = frozenset({"opposite", "opposite_lane", "opposite_track"})


def _first_value(value: str | None) -> str | None:
    return None if value is None else value.split(";")[0].strip().lower()


def access_allowed(tags: Mapping[str, str], mode: str, settings: Settings) -> bool:
    """May ``mode`` use this way (``highway`` or ``route=ferry``)?

    A highway class in ``settings.allowed_highways[mode]`` is usable unless the
    most specific access tag denies it; any other class only when a
    mode-specific tag (``foot``, ``bicycle``, ``motor_vehicle``/``motorcar``)
    allows it. Ferries are open to walking and cycling unless denied, and to
    cars only with an explicit ``motor_vehicle``/``motorcar`` allowance
    (a plain passenger ferry carries no cars). On a ``motorroad=yes`` way
    walking and cycling are denied unless ``foot``/``bicycle`` allow them.
    A way without ``highway`` (a ``disused:highway=*`` way, a building in an
    OSM XML graph) that is no ferry, and a way being built, planned or gone
    (``LIFECYCLE_HIGHWAYS``), is usable by no mode, whatever its access tags.
    """
    ferry = tags.get("route") == "ferry"
    highway = _first_value(tags.get("highway"))
    if not ferry and (tags.get("area") == "yes" or highway is None):
        return False
    if highway in LIFECYCLE_HIGHWAYS:
        return False
    verdict = None
    for key in ACCESS_KEYS[mode]:
        value = _first_value(tags.get(key))
        if value in ALLOWED_VALUES:
            verdict = True
        elif value in DENIED_VALUES:
            verdict = False
    opened = any(_first_value(tags.get(k)) in ALLOWED_VALUES for k in OPENING_KEYS[mode])
    if ferry:
        default = mode != "car"
    else:
        default = tags.get("highway") in settings.allowed_highways.get(mode, ()) and not (
            mode in MOTORROAD_DENIED_MODES and _first_value(tags.get("motorroad")) in _TRUE
        )
    if verdict is None:
        return default
    if verdict and not default:
        return opened
    return verdict


def directions(tags: Mapping[str, str], mode: str) -> tuple[bool, bool]:
    """(forward, backward) usable along the way's node order for ``mode``."""
    if mode == "walk" or tags.get("route") == "ferry":
        return True, True
    oneway = _first_value(tags.get("oneway"))
    if oneway is None and (
        tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway"
    ):
        oneway = "yes"
    if mode == "bike":
        bike_oneway = _first_value(tags.get("oneway:bicycle"))
        if bike_oneway is not None:
            oneway = bike_oneway
        elif any(tags.get(k) in _OPPOSITE for k in
                 ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both")):
            oneway = "no"
    if oneway in _TRUE:
        return True, False
    if oneway in _REVERSE:
        return False, True
    return True, True


def parse_maxspeed_kmh(value: str | None) -> float | None:
    """Speed of a ``maxspeed`` value in km/h, or None when it gives none.

    Numbers (``"50"``, ``"50 mph"``), the zones of ``MAXSPEED_ZONES_KMH``
    (``"NL:urban"``, ``"de:rural"``; any case) and ``"walk"`` are understood;
    of several values (``"60;50"``) the lowest is taken; ``"none"``,
    ``"signals"``, ``"DE:motorway"``, unknown zones and the like give None
    (class default).
    """
    if value is None:
        return None
    speeds = []
    for part in value.split(";"):
        part = part.strip().lower()
        if part in _ZONES_LOWER:
            zone_kmh = _ZONES_LOWER[part]
            if zone_kmh is not None:
                speeds.append(zone_kmh)
            continue
        match = _SPEED.match(part)
        if match:
            speed = float(match.group(1))
            unit = match.group(2)
            if unit == "mph":
                speed *= _MPH_TO_KMH
            elif unit == "knots":
                speed *= _KNOT_TO_KMH
            if speed > 0:
                speeds.append(speed)
    return min(speeds) if speeds else None


def parse_duration_s(value: str | None) -> float | None:
    """Seconds of an OSM ``duration`` (``"HH:MM"``, ``"HH:MM:SS"``, minutes
    ``"MM"``, ISO 8601 ``"PT1H10M"``), or None when unparseable or zero."""
    if value is None:
        return None
    seconds = None
    if match := _CLOCK.match(value):
        h, m, s = match.groups()
        seconds = int(h) * 3600 + int(m) * 60 + int(s or 0)
    elif match := _MINUTES.match(value):
        seconds = float(match.group(1)) * 60
    elif (match := _ISO.match(value)) and any(match.groups()):
        h, m, s = (float(g or 0) for g in match.groups())
        seconds = h * 3600 + m * 60 + s
    return float(seconds) if seconds and seconds > 0 else None


def car_speed_kmh(tags: Mapping[str, str], settings: Settings) -> float:
    """Car speed of a way: usable ``maxspeed`` when enabled, else the class
    default; a class without a configured speed (``track`` opened by
    ``motor_vehicle=yes``) gets the slowest configured speed."""
    if settings.use_maxspeed:
        speed = parse_maxspeed_kmh(tags.get("maxspeed"))
        if speed is not None:
            return speed
    speed = settings.car_speeds_kmh.get(tags.get("highway", ""))
    return speed if speed is not None else min(settings.car_speeds_kmh.values())


def speed_kmh(tags: Mapping[str, str], mode: str, settings: Settings) -> float:
    """Speed of ``mode`` on a (non-ferry) way in km/h."""
    if mode == "car":
        return car_speed_kmh(tags, settings)
    return settings.mode_speed_kmh(mode)


def ferry_duration_s(tags: Mapping[str, str]) -> float:
    """Crossing time of a ferry way from its ``duration`` tag, NaN if absent."""
    seconds = parse_duration_s(tags.get("duration"))
    return math.nan if seconds is None else seconds
