"""Settings: the one place for every default, documented field by field.

All defaults live here. A TOML run configuration (see ``examples/run.toml``)
overrides them under a ``[settings]`` table; unknown keys are an error, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import json
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator,
                      model_validator)
from pydantic.dataclasses import dataclass

from . import _io
from ._schema import as_tuple, bounded, closest, describe_errors, listed, type_name
from .errors import ConfigError

ROAD_MODES: tuple[str, ...] = ("walk", "bike", "car")
# The DuckDB catalogue's file name in an output folder (bereikbaarheid.catalog).
CATALOG_NAME = "catalog.duckdb"
TRANSIT_MODE = "pt"
MODES: tuple[str, ...] = (*ROAD_MODES, TRANSIT_MODE)
FACILITY_TYPES: tuple[str, ...] = ("gp", "school", "supermarket")
# The unit of each type's capacity, and so of its demand and gaps.
CAPACITY_UNITS: dict[str, str] = {"gp": "patients", "school": "pupils", "supermarket": "m2"}
# CBS age bands (suffix of the grid's aantal_inwoners_* columns).
AGE_BANDS: tuple[str, ...] = ("0_14", "15_24", "25_44", "45_64", "65_plus")
DECAY_FUNCTIONS: tuple[str, ...] = ("step", "linear", "exponential", "gaussian")
# Which facilities count: all of the inputs, also across the border, or only
# those in the Netherlands (CBS's definition).
FACILITY_SCOPES: tuple[str, ...] = ("cross-border", "nl-only")
# CBS's own proximity columns in recent grids (distance over the car road
# network to the nearest facility in the Netherlands, km) per facility type.
# CBS's supermarket figure is for *large* supermarkets only.
CBS_DISTANCE_COLUMNS: dict[str, str] = {
    "gp": "dichtstbijzijnde_huisartsenpraktijk_afstand_in_km",
    "school": "dichtstbijzijnde_basisonderwijs_afstand_in_km",
    "supermarket": "dichtstbijzijnde_grote_supermarkt_afstand_in_km",
}

# Default car speeds (km/h) per OSM highway class, used when a way has no
# usable ``maxspeed``. Dutch general limits: 130/100 motorway, 100/80 autoweg
# (trunk), 80 outside and 50 inside built-up areas, 30 in residential zones,
# walking pace (15) on living streets ("woonerf").
DEFAULT_CAR_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 50.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 40.0,
    "unclassified": 45.0,
    "residential": 30.0,
    "living_street": 15.0,
    "service": 15.0,
    "road": 30.0,
}

# Highway classes each mode may use when no access tag says otherwise
# (Dutch defaults: no walking or cycling on motorways and "autowegen" (trunk);
# cyclists not on footways or pedestrian areas unless tagged bicycle=yes).
DEFAULT_ALLOWED_HIGHWAYS: dict[str, tuple[str, ...]] = {
    "car": tuple(DEFAULT_CAR_SPEEDS_KMH),
    "bike": (
        "primary", "primary_link", "secondary", "secondary_link", "tertiary",
        "tertiary_link", "unclassified", "residential", "living_street",
        "service", "road", "track", "cycleway", "path", "bridleway",
    ),
    "walk": (
        "primary", "primary_link", "secondary", "secondary_link", "tertiary",
        "tertiary_link", "unclassified", "residential", "living_street",
        "service", "road", "track", "cycleway", "path", "footway",
        "pedestrian", "steps", "bridleway", "corridor",
    ),
}

# Highway classes a cell or facility may be linked to (one does not step from
# a house onto a motorway). Ferries are never link targets.
DEFAULT_UNLINKABLE_HIGHWAYS: tuple[str, ...] = (
    "motorway", "motorway_link", "trunk", "trunk_link",
)

# Facility tag rules. A feature is of a type when it matches any ``include``
# rule and no ``exclude`` rule. A rule maps tag -> accepted values; "*" accepts
# any value; "v" means "one of the tag's values is v" and "!v" means "tag
# present and none of its values is v". A tag's values are its parts split on
# ";" and ",", stripped and compared case-insensitively; a numeric range "a-b"
# counts as every number from a to b. So ``healthcare:speciality=General;
# paediatrics`` still counts as a GP and ``isced:level=0,1`` or ``1-2`` as a
# primary school (see ``sources.osm.facility_types_of``).
DEFAULT_FACILITY_TAGS: dict[str, dict[str, list[dict[str, list[str]]]]] = {
    "gp": {
        "include": [{"amenity": ["doctors"]}, {"healthcare": ["doctor"]}],
        "exclude": [{"healthcare:speciality": ["!general"]}],
    },
    "school": {
        "include": [{"amenity": ["school"]}],
        "exclude": [{"isced:level": ["!1"]}, {"school": ["!primary"]}],
    },
    "supermarket": {
        "include": [{"shop": ["supermarket"]}],
        "exclude": [],
    },
}


def parse_clock(text: str, name: str) -> int:
    """Seconds since midnight of ``"HH:MM"`` or ``"HH:MM:SS"`` (hours may pass 24)."""
    parts = str(text).strip().split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        h, m, s = (int(p) for p in (parts + ["0"])[:3])
        if h < 0 or not 0 <= m < 60 or not 0 <= s < 60:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{text!r} is not a time like '07:30' (hours may pass 24)",
                          key=name) from None
    return h * 3600 + m * 60 + s


def _iso_date(value: Any) -> Any:
    """A TOML date (``pt_date = 2026-03-10``) as the ISO text the settings hold."""
    return value.isoformat() if isinstance(value, datetime.date) else value


# Value types with the ranges a plausible run stays within; a value outside
# is a typo or a unit mix-up (m for km), refused with the range in the message.
_WalkSpeed = bounded(float, 0, 15, "km/h", low_open=True)
_BikeSpeed = bounded(float, 0, 50, "km/h", low_open=True)
_Speed = bounded(float, 0, 200, "km/h", low_open=True)
_Minutes = bounded(float, 0, 1440, "minutes", low_open=True)
_WholeMinutes = bounded(int, 0, 1440, "minutes", low_open=True)
_Percentile = bounded(int, 0, 100, "", low_open=True)
_Weight = bounded(float, 0, 100)
_Capacity = bounded(float, 0, 1e6, low_open=True)
_Mode = Literal["walk", "bike", "car", "pt"]
_RoadMode = Literal["walk", "bike", "car"]
_TagRule = dict[str, list[str]]


@dataclass(frozen=True, config=ConfigDict(strict=True, allow_inf_nan=False,
                                          arbitrary_types_allowed=False))
class Settings:
    """Every tunable of a run, with its documented default.

    Attributes
    ----------
    crs
        Projected CRS all geometry is brought into (metres). RD New by default.
    modes
        Modes to compute: the road modes ``walk``, ``bike``, ``car`` and
        public transport ``pt`` (which needs a GTFS input; without one it is
        skipped and the manifest says so).
    facility_types
        Facility types to compute; each needs a rule in ``facility_tags`` when
        facilities come from OSM.
    walk_speed_kmh, bike_speed_kmh
        Uniform speeds on every usable way for walking and cycling.
    car_speeds_kmh
        Car speed per highway class when ``maxspeed`` is absent or unusable.
    use_maxspeed
        Use a way's ``maxspeed`` tag for cars: numbers (mph and knots
        converted) and the Dutch, German and Belgian zone values
        (``NL:urban`` = 50, ``NL:rural`` = 80, ``DE:rural`` = 100,
        ``BE-VLG:rural`` = 70, ...; see ``networks/_way_rules.py``).
    allowed_highways
        Highway classes each mode may use by default; explicit access tags
        (``access``, ``motor_vehicle``, ``bicycle``, ``foot`` ...) override.
    unlinkable_highways
        Highway classes never used as link targets for cells and facilities.
    ferry_speed_kmh
        Ferry speed when a ``route=ferry`` way has no ``duration`` tag.
    connector_speed_kmh
        Speed on the straight connector from a point (cell centroid, facility)
        to its nearest usable edge, per mode.
    max_link_distance_m
        A point farther than this from every usable edge is *unlinked*: it is
        counted and reported, never snapped far away.
    keep_largest_component
        Keep only the largest strongly connected component per mode.
    thresholds_min
        Travel-time thresholds (minutes) for counts and population shares.
    hierarchy_min_nodes
        A road network with at least this many nodes gets a contraction
        hierarchy (built once, cached beside the network) and its counts
        within the thresholds run on it; smaller ones, where building it
        costs more than it saves, use bounded Dijkstra searches. Both give
        the same counts exactly. 0: always; a huge number: never.
    facility_tags
        OSM tag rules per facility type (see ``DEFAULT_FACILITY_TAGS``).
    missing_below
        Grid values below this are CBS suppression codes (-99997 "secret",
        -99995 "not applicable") and become missing.
    pt_date
        Analysis day for public transport (ISO date, e.g. ``"2026-03-10"``);
        required when ``pt`` runs. It must lie in the feed's service period.
    pt_window
        Departure window ``("HH:MM", "HH:MM")``, start included, end
        excluded; times past 24:00 (``"25:00"``) reach into the next night.
    pt_step_min
        Minutes between departures in the window (1: every minute).
    pt_percentiles
        Percentiles of travel time over the window reported per cell (nearest
        rank over the departures; unreachable departures count as infinite).
    pt_time_percentile
        The percentile used as the mode's travel time in the profile (one of
        ``pt_percentiles``); 50 is the median over the window.
    pt_max_rides
        Most vehicles in one journey (a transfer is a second ride).
    pt_max_time_min
        Journeys longer than this are not reached (and the timetable is
        clipped to the window plus this horizon).
    pt_access_mode
        ``"walk"`` or ``"bike"``: how residents get to the first stop (bike
        parking at every stop assumed). The last stop to the facility is
        always walked.
    pt_max_access_min, pt_max_egress_min
        Longest access leg (walk or bike) and egress walk.
    pt_transfer_max_m
        Walking transfers between stops up to this distance over the walk
        network (platforms of one station always connect).
    pt_min_change_s
        Minimum time to change vehicles at one stop, unless ``transfers.txt``
        sets it.
    pt_method
        ``"profile"``: the nearest facility of each type by a backward profile
        search from the facilities to every stop at once (its cost does not
        grow with cells times timetable); ``"per-cell"``: a range-RAPTOR from
        every cell, which also gives each facility's time, and so the counts
        ``{type}_pt_n_{T}min``. Both give the same times.
    gp_patients_per_fte
        Registered patients per full-time GP: the NZa norm 2,095 ("normpraktijk";
        the GP association LHV argues for 1,800). A GP practice's capacity is
        its FTE times this.
    default_gp_fte
        FTE of a GP practice whose input gives neither FTE nor capacity (OSM
        practices): 1.5, about the national 4.3 GP FTE per 10,000 inhabitants
        spread over one practice per 3,500.
    default_capacity
        Capacity of a school (pupils; a Dutch primary school has about 225)
        or supermarket (m2 of sales floor) whose input gives none.
    demand_weights
        Demand per resident of each CBS age band, per type, in the type's
        unit (``CAPACITY_UNITS``): GP, everyone 1 patient (a heavier 65+
        weight may be set); school, 0.6 pupil per resident aged 0-14 (primary
        age 4-12 is 9 of the band's 15 years, assuming an even spread);
        supermarket, 0.25 m2 of sales floor per resident (an assumption to
        replace with a local planning figure).
    norm_min
        Norm travel time per type (minutes): residents beyond it are reported
        (equity, capacity) and it is the catchment of the floating catchment
        measure. No official norm exists; 15 minutes is a common municipal
        ambition for daily facilities.
    fca_mode
        The road mode whose travel times give catchments, the nearest
        facility for allocating demand, and the capacity gaps.
    fca_decay, fca_decay_param
        Distance decay of the floating catchment (E2SFCA) within the norm:
        ``step`` (1, plain 2SFCA), ``linear`` (1 - t / norm),
        ``exponential`` (exp(-param * t_min)), ``gaussian``
        (exp(-t_min^2 / (2 param^2)), param = sigma in minutes).
    area_buffer_m
        The analysis area is the region plus this buffer (15 km): inputs are
        clipped to it, and facilities within it count, so a GP just outside
        the region still serves its residents. Cells are those of the region
        only.
    facility_scope
        ``"cross-border"``: every facility of the inputs counts, also those
        across the border (in the OSM extract or the facility file);
        ``"nl-only"``: only facilities in a Dutch municipality of the
        boundary file, as CBS counts them. Travel times, counts and capacity
        follow this scope.
    compare_scopes
        Also compute the other scope's travel times and write, per
        municipality, the difference between the two (``border.csv``).
    cbs_distance_columns
        The grid's CBS proximity column per facility type; when present, the
        profile lays the engine's CBS-comparable distance beside it
        (``cbs_comparison.csv``).
    """

    crs: str = "EPSG:28992"
    modes: listed(_Mode) = MODES
    facility_types: listed(str) = FACILITY_TYPES
    ignore_facility_types: listed(str) = ()
    walk_speed_kmh: _WalkSpeed = 5.0
    bike_speed_kmh: _BikeSpeed = 15.0
    car_speeds_kmh: dict[str, _Speed] = field(
        default_factory=lambda: dict(DEFAULT_CAR_SPEEDS_KMH))
    use_maxspeed: bool = True
    allowed_highways: dict[_RoadMode, listed(str)] = field(
        default_factory=lambda: dict(DEFAULT_ALLOWED_HIGHWAYS)
    )
    unlinkable_highways: listed(str) = DEFAULT_UNLINKABLE_HIGHWAYS
    ferry_speed_kmh: bounded(float, 0, 100, "km/h", low_open=True) = 10.0
    connector_speed_kmh: dict[_RoadMode, _Speed] = field(
        default_factory=lambda: {"walk": 5.0, "bike": 15.0, "car": 15.0}
    )
    max_link_distance_m: bounded(float, 0, 20_000, "m", low_open=True) = 1600.0
    keep_largest_component: bool = True
    thresholds_min: listed(_WholeMinutes) = (5, 10, 15, 30)
    hierarchy_min_nodes: bounded(int, 0, None) = 50_000
    facility_tags: dict[str, dict[Literal["include", "exclude"], list[_TagRule]]] = field(
        default_factory=lambda: json.loads(json.dumps(DEFAULT_FACILITY_TAGS))
    )
    missing_below: bounded(float, -1e9, 0) = -99000.0
    pt_date: Annotated[str, BeforeValidator(_iso_date)] = ""
    pt_window: Annotated[tuple[str, str], BeforeValidator(as_tuple)] = ("07:00", "09:00")
    pt_step_min: _WholeMinutes = 1
    pt_percentiles: listed(_Percentile) = (25, 50, 75)
    pt_time_percentile: _Percentile = 50
    pt_max_rides: bounded(int, 1, 10) = 4
    pt_max_time_min: _Minutes = 120.0
    pt_access_mode: Literal["walk", "bike"] = "walk"
    pt_max_access_min: bounded(float, 0, 240, "minutes", low_open=True) = 15.0
    pt_max_egress_min: bounded(float, 0, 240, "minutes", low_open=True) = 15.0
    pt_transfer_max_m: bounded(float, 0, 5000, "m") = 400.0
    pt_min_change_s: bounded(int, 0, 3600, "s") = 60
    pt_method: Literal["profile", "per-cell"] = "profile"
    gp_patients_per_fte: bounded(float, 0, 10_000, "patients", low_open=True) = 2095.0
    default_gp_fte: bounded(float, 0, 40, "FTE") = 1.5
    default_capacity: dict[str, _Capacity] = field(
        default_factory=lambda: {"school": 225.0, "supermarket": 1000.0})
    demand_weights: dict[str, dict[str, _Weight]] = field(default_factory=lambda: {
        "gp": {band: 1.0 for band in AGE_BANDS},
        "school": {"0_14": 0.6},
        "supermarket": {band: 0.25 for band in AGE_BANDS},
    })
    norm_min: dict[str, _Minutes] = field(
        default_factory=lambda: {"gp": 15.0, "school": 15.0, "supermarket": 15.0})
    fca_mode: _RoadMode = "car"
    fca_decay: Literal["step", "linear", "exponential", "gaussian"] = "step"
    fca_decay_param: bounded(float, 0, 1000) = 0.0
    area_buffer_m: bounded(float, 0, 100_000, "m") = 15000.0
    facility_scope: Literal["cross-border", "nl-only"] = "cross-border"
    compare_scopes: bool = True
    cbs_distance_columns: dict[str, str] = field(
        default_factory=lambda: dict(CBS_DISTANCE_COLUMNS))

    @field_validator("crs")
    @classmethod
    def _projected_in_metres(cls, value: str) -> str:
        import pyproj  # only a run that sets a CRS pays for the import

        try:
            crs = pyproj.CRS.from_user_input(value)
        except pyproj.exceptions.CRSError:
            raise ValueError(f"{value!r} is not a CRS pyproj knows; expected e.g. "
                             "'EPSG:28992'") from None
        units = {axis.unit_name for axis in crs.axis_info}
        if not crs.is_projected or units != {"metre"}:
            raise ValueError(f"{value!r} is not a projected CRS in metres; expected e.g. "
                             "'EPSG:28992' (RD New)")
        return value

    @field_validator("modes", "facility_types", "thresholds_min", "pt_percentiles")
    @classmethod
    def _not_empty(cls, value: tuple) -> tuple:
        if not value:
            raise ValueError("expected a non-empty list")
        return value

    @field_validator("modes", "facility_types", "ignore_facility_types")
    @classmethod
    def _unique(cls, value: tuple) -> tuple:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"{repeated} listed more than once")
        return value

    @field_validator("facility_types")
    @classmethod
    def _type_names(cls, value: tuple) -> tuple:
        bad = [v for v in value if not v or v != v.strip().lower()]
        if bad:
            raise ValueError(f"{bad}: facility types are written in lower case, e.g. "
                             "'pharmacy'")
        return value

    @field_validator("ignore_facility_types")
    @classmethod
    def _as_read(cls, value: tuple) -> tuple:
        """As the facility reader reads types: stripped, in lower case."""
        names = tuple(v.strip().lower() for v in value)
        if not all(names):
            raise ValueError("expected type names, not empty text")
        return names

    @field_validator("thresholds_min", "pt_percentiles")
    @classmethod
    def _increasing(cls, value: tuple) -> tuple:
        if any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError(f"expected strictly increasing values; got {list(value)}")
        return value

    @field_validator("pt_date")
    @classmethod
    def _date(cls, value: str) -> str:
        if value:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO date; expected e.g. "
                                 "'2026-03-10'") from None
        return value

    @field_validator("pt_window")
    @classmethod
    def _window(cls, value: tuple[str, str]) -> tuple[str, str]:
        try:
            start_s, end_s = (parse_clock(t, "pt_window") for t in value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        if not end_s > start_s:
            raise ValueError(f"the window must end after it starts; got {list(value)}")
        return value

    @field_validator("facility_tags")
    @classmethod
    def _tag_rules(cls, value: dict) -> dict:
        for ftype, rules in value.items():
            if "include" not in rules:
                raise ValueError(f"{ftype}: expected an 'include' list of tag rules")
        return value

    @field_validator("demand_weights")
    @classmethod
    def _bands(cls, value: dict) -> dict:
        for ftype, weights in value.items():
            unknown = sorted(set(weights) - set(AGE_BANDS))
            if unknown:
                raise ValueError(f"{ftype}: unknown age band(s) {unknown}; expected among "
                                 f"{list(AGE_BANDS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        """Checks that involve several settings; each message names them."""
        for mode in self.modes:
            if mode in ROAD_MODES and mode not in self.connector_speed_kmh:
                raise ValueError(f"connector_speed_kmh has no speed for mode {mode!r}")
        both = sorted(set(self.facility_types) & set(self.ignore_facility_types))
        if both:
            raise ValueError(f"ignore_facility_types: {both} are also in facility_types")
        for ftype in self.facility_types:
            if ftype not in self.facility_tags:
                raise ValueError(f"facility type {ftype!r} has no rule in facility_tags")
            if ftype not in self.norm_min:
                raise ValueError(f"norm_min needs a norm (minutes) for {ftype!r}")
            if not self.demand_weights.get(ftype):
                raise ValueError(f"demand_weights has no weights for {ftype!r}")
            if ftype != "gp" and ftype in CAPACITY_UNITS and ftype not in self.default_capacity:
                raise ValueError(f"default_capacity needs a value for {ftype!r}")
        if self.pt_time_percentile not in self.pt_percentiles:
            raise ValueError(f"pt_time_percentile {self.pt_time_percentile} must be one of "
                             f"pt_percentiles {list(self.pt_percentiles)}")
        if self.fca_decay in ("exponential", "gaussian") and not self.fca_decay_param > 0:
            raise ValueError(f"fca_decay {self.fca_decay!r} needs fca_decay_param > 0 "
                             "(exponential: beta per minute; gaussian: sigma in minutes)")
        return self

    @property
    def road_modes(self) -> tuple[str, ...]:
        """The road modes among ``modes``, plus ``walk`` (and ``bike`` for bike
        access) when public transport needs them for access and transfers."""
        needed = set(self.modes)
        if TRANSIT_MODE in needed:
            needed.add("walk")
            if self.pt_access_mode == "bike":
                needed.add("bike")
        return tuple(m for m in ROAD_MODES if m in needed)

    def pt_departures_s(self) -> "list[int]":
        """Departure times of the window, seconds since the analysis day's midnight."""
        start_s, end_s = (parse_clock(t, "pt_window") for t in self.pt_window)
        return list(range(start_s, end_s, 60 * self.pt_step_min))

    # -- (de)serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists), for manifests and digests."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | Path | None = None) -> "Settings":
        """Defaults overridden by ``values``; anything invalid raises ConfigError.

        Dict-valued settings (``car_speeds_kmh``, ``connector_speed_kmh``,
        ``allowed_highways``, ``facility_tags``, ``default_capacity``,
        ``norm_min``) are merged key by key into the defaults, so a user may
        override one highway speed alone; ``demand_weights`` is merged per
        type and band (``{gp = {65_plus = 1.5}}`` changes that weight only).

        ``source`` names where the values come from (a TOML file, ``--set``);
        the error names it and the offending key.
        """
        if not isinstance(values, dict):
            raise ConfigError(f"expected a table of settings; got {type_name(values)}",
                              path=source, key="settings")
        known = [f.name for f in dataclasses.fields(cls)]
        defaults = cls()
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ConfigError(f"unknown setting{closest(name, known)} (known: "
                                  f"{', '.join(sorted(known))})", path=source, key=name)
            default = getattr(defaults, name)
            if isinstance(default, dict) and isinstance(value, dict):
                if name == "demand_weights":
                    # One band of one type may be changed: merge per type too.
                    value = {k: {**default.get(k, {}), **v} if isinstance(v, dict) else v
                             for k, v in value.items()}
                value = {**default, **value}
            kwargs[name] = value
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            raise exc.located(source) from None

    def digest(self, *names: str) -> str:
        """SHA-256 over the named settings (all when none), for cache keys."""
        data = self.to_dict()
        if names:
            data = {n: data[n] for n in names}
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def mode_speed_kmh(self, mode: str) -> float:
        """Uniform speed of a non-car mode."""
        if mode == "walk":
            return self.walk_speed_kmh
        if mode == "bike":
            return self.bike_speed_kmh
        raise ConfigError(f"mode {mode!r} has no uniform speed")


def _raise_config_error(init):
    """``init`` raising ConfigError (naming the setting and what was expected)
    instead of pydantic's ValidationError, for Python callers and files alike."""

    @functools.wraps(init)
    def validated_init(self, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except ValidationError as exc:
            defaults = _DEFAULTS or {}
            key, message = describe_errors(exc, known=list(defaults), examples=defaults)
            raise ConfigError(message, key=key) from None

    return validated_init


_DEFAULTS: dict[str, Any] | None = None  # the defaults as TOML shows them, for messages
Settings.__init__ = _raise_config_error(Settings.__init__)
_DEFAULTS = Settings().to_dict()


# -- the run configuration file ---------------------------------------------
class _Table(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class RegionTable(_Table):
    """``[region]``: the name of the output folder and what the region is."""

    name: str | None = None
    id: str | None = None
    municipalities: list[str] = []
    polygon: str | None = None
    registry: str | None = None

    @field_validator("municipalities", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        """Codes may be written as numbers (``[400, 441]``)."""
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                    for v in value]
        return value


class InputsTable(_Table):
    """``[inputs]``: the input files, relative to the configuration file."""

    osm: str
    grid: str
    municipalities: str
    facilities: str = "osm"
    gtfs: list[str] = []
    clip: bool | None = None
    networks: dict[_RoadMode, str] = {}

    @field_validator("gtfs", mode="before")
    @classmethod
    def _one_or_more_feeds(cls, value: Any) -> Any:
        """One feed may be written without a list."""
        return [value] if isinstance(value, str) else value


class OutputTable(_Table):
    """``[output]``: where profiles, the network cache and the catalogue go.

    ``catalog`` is the DuckDB catalogue every profile written is added to:
    true (the default) for ``catalog.duckdb`` in ``folder``, a path for
    another file, false for none.
    """

    folder: str = "profiles"
    cache: str = "network_cache"
    catalog: bool | str = True

    @field_validator("catalog")
    @classmethod
    def _catalog_file(cls, value: bool | str) -> bool | str:
        if isinstance(value, str) and not value.strip():
            raise ValueError("expected a file path such as \"profiles/catalog.duckdb\", or "
                             "false for no catalogue; got empty text")
        return value


class RunFile(_Table):
    """A run configuration file, every table checked (unknown keys refused)."""

    region: RegionTable
    inputs: InputsTable
    output: OutputTable = OutputTable()
    settings: dict[str, Any] = {}


def _table_keys(loc: tuple) -> list[str]:
    """The keys a table of the run file may hold, by its location."""
    tables = {(): RunFile, ("region",): RegionTable, ("inputs",): InputsTable,
              ("output",): OutputTable}
    model = tables.get(loc)
    return [] if model is None else list(model.model_fields)


def read_run_file(path: str | Path) -> tuple[RunFile, Settings]:
    """Read and check a TOML run configuration: its tables and its settings.

    Raises
    ------
    InputError
        The file is missing, unreadable, not UTF-8 or not TOML.
    ConfigError
        A key is unknown, missing or of the wrong type, or a setting is
        invalid; the error names the file and the key.
    """
    path = Path(path)
    data = _io.read_toml(path, "a TOML run configuration")
    try:
        tables = RunFile.model_validate(data)
    except ValidationError as exc:
        key, message = describe_errors(exc, known=_table_keys, word="key", examples={
            "inputs.gtfs": ["gtfs.zip"], "region.municipalities": ["GM0400", "GM0441"],
            "inputs.networks": {"walk": "walk.graphml"}})
        table, _, name = (key or "").partition(".")
        if message.startswith("expected a value") and not name:
            message = "missing table; expected one with at least " + (
                "name" if table == "region" else "osm, grid and municipalities")
        elif message.startswith("expected a value"):
            message = "missing; it is required"
        raise ConfigError(message, path=path,
                          key=f"[{table}]" + (f" {name}" if name else "")) from None
    if not (tables.region.name or tables.region.id):
        raise ConfigError('needs a name (or an NPVR region id), e.g. name = "my-area"',
                          path=path, key="[region]")
    return tables, Settings.from_dict(tables.settings, source=path)
