"""Settings: the one place for every default, documented field by field.

All defaults live here. A TOML run configuration (see ``examples/run.toml``)
overrides them under a ``[settings]`` table; unknown keys are an error, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

ROAD_MODES: tuple[str, ...] = ("walk", "bike", "car")
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
        raise ConfigError(f"{name}: {text!r} is not a time like '07:30' (hours may pass 24)") from None
    return h * 3600 + m * 60 + s


@dataclass(frozen=True)
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
    modes: tuple[str, ...] = MODES
    facility_types: tuple[str, ...] = FACILITY_TYPES
    ignore_facility_types: tuple[str, ...] = ()
    walk_speed_kmh: float = 5.0
    bike_speed_kmh: float = 15.0
    car_speeds_kmh: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CAR_SPEEDS_KMH))
    use_maxspeed: bool = True
    allowed_highways: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_ALLOWED_HIGHWAYS)
    )
    unlinkable_highways: tuple[str, ...] = DEFAULT_UNLINKABLE_HIGHWAYS
    ferry_speed_kmh: float = 10.0
    connector_speed_kmh: dict[str, float] = field(
        default_factory=lambda: {"walk": 5.0, "bike": 15.0, "car": 15.0}
    )
    max_link_distance_m: float = 1600.0
    keep_largest_component: bool = True
    thresholds_min: tuple[int, ...] = (5, 10, 15, 30)
    hierarchy_min_nodes: int = 50_000
    facility_tags: dict[str, dict[str, list[dict[str, list[str]]]]] = field(
        default_factory=lambda: json.loads(json.dumps(DEFAULT_FACILITY_TAGS))
    )
    missing_below: float = -99000.0
    pt_date: str = ""
    pt_window: tuple[str, str] = ("07:00", "09:00")
    pt_step_min: int = 1
    pt_percentiles: tuple[int, ...] = (25, 50, 75)
    pt_time_percentile: int = 50
    pt_max_rides: int = 4
    pt_max_time_min: float = 120.0
    pt_access_mode: str = "walk"
    pt_max_access_min: float = 15.0
    pt_max_egress_min: float = 15.0
    pt_transfer_max_m: float = 400.0
    pt_min_change_s: int = 60
    gp_patients_per_fte: float = 2095.0
    default_gp_fte: float = 1.5
    default_capacity: dict[str, float] = field(
        default_factory=lambda: {"school": 225.0, "supermarket": 1000.0})
    demand_weights: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "gp": {band: 1.0 for band in AGE_BANDS},
        "school": {"0_14": 0.6},
        "supermarket": {band: 0.25 for band in AGE_BANDS},
    })
    norm_min: dict[str, float] = field(
        default_factory=lambda: {"gp": 15.0, "school": 15.0, "supermarket": 15.0})
    fca_mode: str = "car"
    fca_decay: str = "step"
    fca_decay_param: float = 0.0
    area_buffer_m: float = 15000.0
    facility_scope: str = "cross-border"
    compare_scopes: bool = True
    cbs_distance_columns: dict[str, str] = field(
        default_factory=lambda: dict(CBS_DISTANCE_COLUMNS))

    def __post_init__(self) -> None:
        for mode in self.modes:
            if mode not in MODES:
                raise ConfigError(f"unknown mode {mode!r}; expected one of {MODES}")
            if mode in ROAD_MODES and mode not in self.connector_speed_kmh:
                raise ConfigError(f"connector_speed_kmh has no speed for mode {mode!r}")
        for speed_name in ("walk_speed_kmh", "bike_speed_kmh", "ferry_speed_kmh"):
            if not getattr(self, speed_name) > 0:
                raise ConfigError(f"{speed_name} must be positive")
        if any(v <= 0 for v in self.car_speeds_kmh.values()):
            raise ConfigError("car_speeds_kmh values must be positive")
        if not self.max_link_distance_m > 0:
            raise ConfigError("max_link_distance_m must be positive")
        t = list(self.thresholds_min)
        if not t or t[0] <= 0 or any(b <= a for a, b in zip(t, t[1:])):
            raise ConfigError("thresholds_min must be a non-empty, strictly increasing list "
                              f"of positive minutes; got {t}")
        if not (isinstance(self.hierarchy_min_nodes, int) and self.hierarchy_min_nodes >= 0):
            raise ConfigError("hierarchy_min_nodes must be a whole number >= 0; "
                              f"got {self.hierarchy_min_nodes!r}")
        for ftype in self.facility_types:
            if ftype not in self.facility_tags:
                raise ConfigError(f"facility type {ftype!r} has no rule in facility_tags")
        self._check_transit()
        self._check_capacity()
        if self.facility_scope not in FACILITY_SCOPES:
            raise ConfigError(f"facility_scope must be one of {FACILITY_SCOPES}; "
                              f"got {self.facility_scope!r}")
        if not self.area_buffer_m >= 0:
            raise ConfigError(f"area_buffer_m must be >= 0; got {self.area_buffer_m}")

    def _check_capacity(self) -> None:
        if not self.gp_patients_per_fte > 0 or not self.default_gp_fte >= 0:
            raise ConfigError("gp_patients_per_fte must be positive and default_gp_fte >= 0")
        for ftype in self.facility_types:
            if ftype not in self.norm_min or not self.norm_min[ftype] > 0:
                raise ConfigError(f"norm_min needs a positive norm (minutes) for {ftype!r}")
            weights = self.demand_weights.get(ftype)
            if not weights:
                raise ConfigError(f"demand_weights has no weights for {ftype!r}")
            unknown = sorted(set(weights) - set(AGE_BANDS))
            if unknown or any(not w >= 0 for w in weights.values()):
                raise ConfigError(f"demand_weights[{ftype!r}]: bands must be among {AGE_BANDS} "
                                  f"with weights >= 0; got {weights}")
            if ftype != "gp" and ftype in CAPACITY_UNITS and not (
                    self.default_capacity.get(ftype, 0) > 0):
                raise ConfigError(f"default_capacity needs a positive value for {ftype!r}")
        if self.fca_mode not in ROAD_MODES:
            raise ConfigError(f"fca_mode must be a road mode {ROAD_MODES}; got {self.fca_mode!r}")
        if self.fca_decay not in DECAY_FUNCTIONS:
            raise ConfigError(f"fca_decay must be one of {DECAY_FUNCTIONS}; got {self.fca_decay!r}")
        if self.fca_decay in ("exponential", "gaussian") and not self.fca_decay_param > 0:
            raise ConfigError(f"fca_decay {self.fca_decay!r} needs fca_decay_param > 0 "
                              "(exponential: beta per minute; gaussian: sigma in minutes)")

    def _check_transit(self) -> None:
        if self.pt_date:
            try:
                datetime.date.fromisoformat(str(self.pt_date))
                if not isinstance(self.pt_date, str):
                    raise ValueError
            except ValueError:
                raise ConfigError(f"pt_date must be an ISO date like '2026-03-10'; "
                                  f"got {self.pt_date!r}") from None
        if len(self.pt_window) != 2:
            raise ConfigError(f"pt_window must be two times ('07:00', '09:00'); got {self.pt_window}")
        start_s, end_s = (parse_clock(t, "pt_window") for t in self.pt_window)
        if not end_s > start_s:
            raise ConfigError(f"pt_window must end after it starts; got {self.pt_window}")
        if not (isinstance(self.pt_step_min, int) and self.pt_step_min >= 1):
            raise ConfigError(f"pt_step_min must be a whole number of minutes >= 1; "
                              f"got {self.pt_step_min!r}")
        p = list(self.pt_percentiles)
        if not p or any(not 0 < v <= 100 for v in p) or any(b <= a for a, b in zip(p, p[1:])):
            raise ConfigError(f"pt_percentiles must be strictly increasing values in (0, 100]; got {p}")
        if self.pt_time_percentile not in p:
            raise ConfigError(f"pt_time_percentile {self.pt_time_percentile} must be one of "
                              f"pt_percentiles {p}")
        if not (isinstance(self.pt_max_rides, int) and self.pt_max_rides >= 1):
            raise ConfigError(f"pt_max_rides must be a whole number >= 1; got {self.pt_max_rides!r}")
        if self.pt_access_mode not in ("walk", "bike"):
            raise ConfigError(f"pt_access_mode must be 'walk' or 'bike'; got {self.pt_access_mode!r}")
        for name in ("pt_max_time_min", "pt_max_access_min", "pt_max_egress_min"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive")
        if not self.pt_transfer_max_m >= 0 or not self.pt_min_change_s >= 0:
            raise ConfigError("pt_transfer_max_m and pt_min_change_s must be >= 0")

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
    def from_dict(cls, values: dict[str, Any]) -> "Settings":
        """Defaults overridden by ``values``; unknown keys raise ConfigError.

        Dict-valued settings (``car_speeds_kmh``, ``connector_speed_kmh``,
        ``allowed_highways``, ``facility_tags``, ``default_capacity``,
        ``norm_min``) are merged key by key into the defaults, so a user may
        override one highway speed alone; ``demand_weights`` is merged per
        type and band (``{gp = {65_plus = 1.5}}`` changes that weight only).
        """
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"unknown setting(s) {unknown}; known: {sorted(known)}")
        defaults = cls()
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            default = getattr(defaults, name)
            if isinstance(default, dict):
                if not isinstance(value, dict):
                    raise ConfigError(f"setting {name!r} must be a table")
                merged = dict(default)
                if name == "demand_weights":
                    # One band of one type may be changed: merge per type too.
                    value = {k: {**default.get(k, {}), **v} if isinstance(v, dict) else v
                             for k, v in value.items()}
                merged.update(value)
                if name == "allowed_highways":
                    merged = {k: tuple(v) for k, v in merged.items()}
                value = merged
            elif isinstance(default, tuple):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)

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
