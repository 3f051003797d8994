"""The report's texts in Dutch and English, and numbers written the way each language writes them."""

from __future__ import annotations

import math

LANGUAGES = ("nl", "en")

# Every string a reader sees. Both languages hold the same keys (a test
# checks); ``{name}`` fields are filled in with str.format.
TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Bereikbaarheid van voorzieningen: {region}",
        "title_scenario": "Bereikbaarheid van voorzieningen: {region}, scenario {scenario}",
        "subtitle": "Profiel van {date}, gemaakt met bereikbaarheid {version}",
        "contents": "Inhoud",
        "type.gp": "huisarts",
        "type.school": "basisschool",
        "type.supermarket": "supermarkt",
        "types.gp": "huisartsen",
        "types.school": "basisscholen",
        "types.supermarket": "supermarkten",
        "mode.walk": "te voet",
        "mode.bike": "fiets",
        "mode.car": "auto",
        "mode.pt": "openbaar vervoer",
        "unit.min": "min",
        "unit.km": "km",
        "unit.points": "%-punt",
        "unit.patients": "patiënten",
        "unit.pupils": "leerlingen",
        "unit.m2": "m² winkelvloer",
        "missing": "–",
        "headline.heading": "Kerncijfers",
        "headline.intro": ("Reistijd van de inwoners tot de dichtstbijzijnde voorziening in de "
                           "regio {region}. Mediaan en p90 gelden voor de inwoners die een "
                           "voorziening bereiken; wie niet gekoppeld is of niets bereikt, telt "
                           "als buiten de norm."),
        "col.type": "voorziening",
        "col.mode": "vervoerwijze",
        "col.norm": "norm (min)",
        "col.median": "mediane reistijd (min)",
        "col.p90": "p90 reistijd (min)",
        "col.within_norm": "aandeel inwoners binnen de norm",
        "col.beyond_all": "inwoners buiten de norm",
        "col.beyond_0_14": "waarvan 0–14 jaar",
        "col.beyond_65": "waarvan 65+",
        "col.area": "gebied",
        "col.municipality": "gemeente",
        "col.unit": "eenheid",
        "col.demand": "vraag",
        "col.capacity": "capaciteit",
        "col.gap": "tekort (+) of ruimte (−)",
        "col.gap_share": "tekort als aandeel van de vraag",
        "col.fte_shortfall": "tekort huisarts-fte",
        "col.gini": "Gini (reistijd)",
        "col.palma": "Palma-ratio",
        "col.share_beyond": "aandeel buiten de norm",
        "col.share_beyond_0_14": "0–14 jaar buiten de norm",
        "col.share_beyond_65": "65+ buiten de norm",
        "col.median_cross": "mediaan met buitenland (min)",
        "col.median_nl": "mediaan alleen NL (min)",
        "col.within_cross": "binnen de norm, met buitenland",
        "col.within_nl": "binnen de norm, alleen NL",
        "col.nearest_abroad": "dichtstbijzijnde in het buitenland",
        "col.engine_km": "gemiddelde afstand, berekend (km)",
        "col.cbs_km": "gemiddelde afstand, CBS (km)",
        "col.ratio": "verhouding berekend / CBS",
        "col.correlation": "correlatie",
        "col.within_500m": "verschil ten hoogste 500 m",
        "col.spread_median": "mediane spreiding (min)",
        "col.spread_p90": "p90 spreiding (min)",
        "col.spread_over_10": "inwoners met spreiding boven 10 min",
        "col.baseline": "basis",
        "col.scenario": "scenario",
        "col.change": "verandering",
        "col.status": "status",
        "closures.heading": "Als één voorziening sluit",
        "closures.intro": ("Elke {type} is apart gesloten (alle andere bleven open). De kaart "
                           "toont per voorziening hoeveel inwoners daardoor buiten de norm "
                           "van {norm} min komen met de {mode} (kleur) en hoeveel extra "
                           "reisminuten dat samen kost (grootte); de tabel de {n} ergste "
                           "sluitingen. Alle {total} staan in closure_impact.csv."),
        "closures.caption": "Gevolg van het sluiten van elke {type}",
        "closures.none_beyond": ("Geen enkele sluiting brengt inwoners buiten de norm met de "
                                 "{mode}; de volgorde is die van de extra reisminuten."),
        "legend.closure_beyond": "inwoners buiten de norm na sluiting",
        "legend.closure_size": "grootte: extra reisminuten",
        "col.rank": "rang",
        "col.pushed": "buiten de norm ({mode})",
        "col.pushed_65": "waarvan 65+",
        "col.extra_min": "extra reisminuten ({mode})",
        "col.next": "volgende voorziening: bezetting voor → na",
        "col.gap_change": "tekort gemeente: verandering",
        "col.facility": "voorziening",
        "col.name": "naam",
        "col.key": "onderdeel",
        "col.value": "waarde",
        "col.file": "bestand",
        "col.path": "pad",
        "col.bytes": "bytes",
        "col.digest": "SHA-256",
        "col.package": "pakket",
        "col.version": "versie",
        "col.statistic": "kengetal",
        "col.assigned": "toegewezen vraag",
        "col.utilisation": "bezettingsgraad",
        "maps.heading": "Kaarten van de reistijd",
        "maps.intro": ("Elk vierkant van {cell_m} m is gekleurd naar de reistijd van zijn "
                       "middelpunt tot de dichtstbijzijnde voorziening. Kies een vervoerwijze "
                       "met de knoppen; zoom met het muiswiel, verschuif door te slepen. "
                       "{aggregated}"),
        "maps.aggregated": ("Bij deze omvang is elk beeldpunt een blok van {factor}×{factor} "
                            "vierkanten ({pixel_m} m), gekleurd naar de langste reistijd in "
                            "het blok."),
        "map.caption": "Reistijd tot de dichtstbijzijnde {type}",
        "map.reset": "Terug naar overzicht",
        "map.modes": "Vervoerwijze",
        "map.no_borders": ("Dit profiel bevat geen gemeentegrenzen (areas.parquet ontbreekt; "
                           "profielen van vóór schemaversie 1.5.0)."),
        "map.no_facilities": ("Dit profiel bevat geen coördinaten van voorzieningen "
                              "(facilities.csv zonder x/y; profielen van vóór schemaversie "
                              "1.5.0)."),
        "legend.time": "Reistijd (minuten)",
        "legend.unreachable": "niet gekoppeld of niets bereikbaar",
        "legend.facility": "{type} (locatie)",
        "legend.border": "gemeentegrens",
        "legend.change": "Verandering van de reistijd (minuten, scenario min basis)",
        "legend.gain": "sneller",
        "legend.loss": "langzamer",
        "legend.same": "nagenoeg gelijk",
        "legend.newly_unreachable": "niet meer binnen de norm en nu onbereikbaar",
        "legend.newly_reachable": "nu wel bereikbaar",
        "legend.share": "Aandeel inwoners binnen de norm",
        "corner": "{region} · {date} · Bron: {source}",
        "source.cbs": "CBS vierkantstatistieken",
        "source.osm": "OpenStreetMap",
        "source.facilities_file": "voorzieningenbestand",
        "source.gtfs": "GTFS-dienstregeling {date}",
        "source.engine": "berekening bereikbaarheid {version}",
        "diff.heading": "Verschilkaarten: scenario tegen basis",
        "diff.intro": ("Minuten gewonnen (paars) of verloren (oranje) per vierkant, scenario "
                       "min basis; lichtgrijs: nagenoeg gelijk. Grijs: niet gekoppeld of "
                       "onbereikbaar in het scenario, terwijl de basis de norm ook niet haalde "
                       "(de profielmap bevat geen reistijden van de basis om meer te zeggen); "
                       "zwart: onbereikbaar geworden terwijl de basis de norm haalde."),
        "diff.caption": "Verandering van de reistijd tot de dichtstbijzijnde {type}",
        "scenario.heading": "Scenario",
        "scenario.name": "naam",
        "scenario.description": "beschrijving",
        "scenario.changes": "wijzigingen",
        "scenario.baseline": "basisprofiel",
        "diff_tables.heading": "Verschiltabellen",
        "diff_tables.summary": "Reistijd en norm in de regio: basis, scenario en verandering",
        "diff_tables.capacity": "Capaciteit per gebied: basis, scenario en verandering",
        "diff_tables.facilities": "Voorzieningen die veranderen",
        "diff_tables.no_facilities": "Geen voorziening verandert.",
        "status.kept": "behouden",
        "status.closed": "gesloten",
        "status.added": "toegevoegd",
        "status.resized": "andere capaciteit",
        "choro.heading": "Aandeel inwoners binnen de norm per gemeente",
        "choro.intro": ("Per gemeente het aandeel inwoners dat de dichtstbijzijnde voorziening "
                        "binnen de norm bereikt (niet gekoppeld of onbereikbaar telt als "
                        "buiten). Kies de vervoerwijze met de knoppen."),
        "choro.caption": "Aandeel inwoners binnen de norm ({norm} min) tot de {type}",
        "choro.no_areas": ("Zonder areas.parquet (profielen van vóór schemaversie 1.5.0) "
                           "geen gemeentekaart; de tabel hieronder geeft dezelfde cijfers."),
        "choro.table": "Aandeel binnen de norm per gemeente en vervoerwijze",
        "curve.heading": "Cumulatieve bereikbaarheid",
        "curve.intro": ("Aandeel van alle inwoners dat de dichtstbijzijnde voorziening binnen "
                        "t minuten bereikt, per vervoerwijze; wie niets bereikt, komt nooit "
                        "binnen. De stippellijn is de norm."),
        "curve.x": "reistijd t (minuten)",
        "curve.y": "aandeel inwoners binnen t minuten",
        "curve.norm": "norm",
        "capacity.heading": "Capaciteit",
        "capacity.intro": ("Vraag tegenover capaciteit: per voorziening de toegewezen vraag "
                           "(de inwoners voor wie zij de dichtstbijzijnde per {mode} is) tegen "
                           "haar capaciteit, en per gemeente het tekort, met het tekort aan "
                           "huisarts-fte."),
        "capacity.none": "Dit profiel bevat geen capaciteitsberekening.",
        "capacity.scatter_x": "capaciteit",
        "capacity.scatter_y": "toegewezen vraag",
        "capacity.parity": "vraag = capaciteit",
        "capacity.over": "tekort",
        "capacity.under": "ruimte",
        "capacity.gap_x": "tekort als aandeel van de vraag",
        "capacity.fte_x": "tekort huisarts-fte (negatief: ruimte)",
        "equity.heading": "Gelijkheid",
        "equity.intro": ("Spreiding van de reistijd over de inwoners (Gini: 0 is voor iedereen "
                         "gelijk; Palma: reistijd van de 10 % met de langste tegenover die van "
                         "de 40 % met de kortste) en het aandeel buiten de norm naar leeftijd."),
        "equity.y": "aandeel buiten de norm",
        "equity.all": "alle inwoners",
        "equity.young": "0–14 jaar",
        "equity.old": "65+",
        "border.heading": "Over de grens en de vergelijking met CBS",
        "border.intro": ("Reistijd met voorzieningen over de grens tegenover alleen "
                         "Nederlandse voorzieningen."),
        "border.none": "Geen vergelijking over de grens in dit profiel.",
        "border.y": "aandeel binnen de norm",
        "border.cross": "met buitenland",
        "border.nl": "alleen NL",
        "cbs.intro": ("Gemiddelde afstand over de weg tot de dichtstbijzijnde voorziening "
                      "(CBS-vergelijkbaar) naast de door het CBS gepubliceerde afstand."),
        "cbs.none": "Geen vergelijking met CBS in dit profiel.",
        "cbs.engine": "berekend",
        "cbs.published": "CBS",
        "cbs.y": "gemiddelde afstand (km)",
        "pt.heading": "Openbaar vervoer: spreiding over het tijdvenster",
        "pt.intro": ("De ov-reistijd hangt af van het vertrekmoment. Per vierkant de "
                     "spreiding {high} min {low} over de vertrekken van {date}, {start}–{end} "
                     "(elke {step} min), gewogen naar inwoners. Boven: aandeel inwoners binnen "
                     "t minuten bij elk percentiel (de band is de spreiding); onder: aandeel "
                     "inwoners van wie de spreiding ten hoogste x minuten is."),
        "pt.none": "Dit profiel bevat geen openbaar vervoer.",
        "pt.x": "spreiding x = {high} − {low} (minuten)",
        "pt.y": "aandeel inwoners met spreiding ≤ x",
        "meta.heading": "Invoer, instellingen en versie",
        "meta.region": "regio",
        "meta.created": "gemaakt op",
        "meta.schema": "schemaversie",
        "meta.software": "softwareversie",
        "meta.python": "Python",
        "meta.facility_source": "bron van de voorzieningen",
        "meta.facility_scope": "voorzieningen over de grens",
        "meta.pt": "openbaar vervoer",
        "meta.pt_value": "{date}, {start}–{end}, elke {step} min, percentielen {percentiles}",
        "meta.inputs": "Invoerbestanden",
        "meta.settings": "Belangrijkste instellingen",
        "meta.all_settings": "Alle instellingen (zoals in manifest.json)",
        "meta.packages": "Pakketten",
        "meta.warnings": "Waarschuwingen van de berekening (zoals vastgelegd, in het Engels)",
        "meta.no_warnings": "Geen waarschuwingen.",
        "setting.modes": "vervoerwijzen",
        "setting.facility_types": "voorzieningen",
        "setting.norm_min": "norm per voorziening (min)",
        "setting.thresholds_min": "klassen reistijd (min)",
        "setting.walk_speed_kmh": "loopsnelheid (km/u)",
        "setting.bike_speed_kmh": "fietssnelheid (km/u)",
        "setting.max_link_distance_m": "grootste afstand tot de weg (m)",
        "setting.fca_mode": "vervoerwijze voor capaciteit",
        "setting.gp_patients_per_fte": "patiënten per huisarts-fte",
        "figures.note": ("Alle figuren staan ook als PNG (150 dpi) in de map figures/ naast "
                         "dit bestand, voor notities en presentaties."),
        "figure.maps_note": "Kaarten als PNG: figures/map_<voorziening>_<vervoerwijze>.png.",
        "footer": ("Gemaakt door bereikbaarheid {version} uit de bestanden van deze "
                   "profielmap. Alles staat in dit ene bestand; het opent zonder internet."),
        "yes": "ja",
        "no": "nee",
        "scope.cross-border": "meegeteld (ook over de grens)",
        "scope.nl-only": "alleen Nederlandse",
        "facility_source.osm": "OpenStreetMap",
        "facility_source.file": "bestand",
        "region_row": "regio",
    },
    "en": {
        "title": "Access to facilities: {region}",
        "title_scenario": "Access to facilities: {region}, scenario {scenario}",
        "subtitle": "Profile of {date}, made with bereikbaarheid {version}",
        "contents": "Contents",
        "type.gp": "GP practice",
        "type.school": "primary school",
        "type.supermarket": "supermarket",
        "types.gp": "GP practices",
        "types.school": "primary schools",
        "types.supermarket": "supermarkets",
        "mode.walk": "walking",
        "mode.bike": "cycling",
        "mode.car": "car",
        "mode.pt": "public transport",
        "unit.min": "min",
        "unit.km": "km",
        "unit.points": "pp",
        "unit.patients": "patients",
        "unit.pupils": "pupils",
        "unit.m2": "m² sales floor",
        "missing": "–",
        "headline.heading": "Key figures",
        "headline.intro": ("Travel time of the residents to the nearest facility in the "
                           "region {region}. Median and p90 are over the residents who reach "
                           "a facility; whoever is unlinked or reaches none counts as beyond "
                           "the norm."),
        "col.type": "facility",
        "col.mode": "mode",
        "col.norm": "norm (min)",
        "col.median": "median travel time (min)",
        "col.p90": "p90 travel time (min)",
        "col.within_norm": "share of residents within the norm",
        "col.beyond_all": "residents beyond the norm",
        "col.beyond_0_14": "of whom aged 0–14",
        "col.beyond_65": "of whom 65+",
        "col.area": "area",
        "col.municipality": "municipality",
        "col.unit": "unit",
        "col.demand": "demand",
        "col.capacity": "capacity",
        "col.gap": "shortage (+) or room (−)",
        "col.gap_share": "shortage as a share of demand",
        "col.fte_shortfall": "GP FTE shortfall",
        "col.gini": "Gini (travel time)",
        "col.palma": "Palma ratio",
        "col.share_beyond": "share beyond the norm",
        "col.share_beyond_0_14": "aged 0–14 beyond the norm",
        "col.share_beyond_65": "65+ beyond the norm",
        "col.median_cross": "median across the border (min)",
        "col.median_nl": "median Dutch only (min)",
        "col.within_cross": "within the norm, across the border",
        "col.within_nl": "within the norm, Dutch only",
        "col.nearest_abroad": "nearest abroad",
        "col.engine_km": "mean distance, computed (km)",
        "col.cbs_km": "mean distance, CBS (km)",
        "col.ratio": "ratio computed / CBS",
        "col.correlation": "correlation",
        "col.within_500m": "difference at most 500 m",
        "col.spread_median": "median spread (min)",
        "col.spread_p90": "p90 spread (min)",
        "col.spread_over_10": "residents with a spread over 10 min",
        "col.baseline": "baseline",
        "col.scenario": "scenario",
        "col.change": "change",
        "col.status": "status",
        "closures.heading": "If one facility closes",
        "closures.intro": ("Each {type} was closed on its own (every other stayed open). The "
                           "map shows per facility how many residents that pushes beyond the "
                           "norm of {norm} min by {mode} (colour) and how many extra minutes "
                           "of travel it costs them together (size); the table the {n} worst "
                           "closures. All {total} are in closure_impact.csv."),
        "closures.caption": "What closing each {type} does",
        "closures.none_beyond": ("No closure pushes residents beyond the norm by {mode}; the "
                                 "order is that of the extra minutes of travel."),
        "legend.closure_beyond": "residents beyond the norm after the closure",
        "legend.closure_size": "size: extra minutes of travel",
        "col.rank": "rank",
        "col.pushed": "beyond the norm ({mode})",
        "col.pushed_65": "of whom 65+",
        "col.extra_min": "extra minutes of travel ({mode})",
        "col.next": "next facility: utilisation before → after",
        "col.gap_change": "municipality's gap: change",
        "col.facility": "facility",
        "col.name": "name",
        "col.key": "item",
        "col.value": "value",
        "col.file": "file",
        "col.path": "path",
        "col.bytes": "bytes",
        "col.digest": "SHA-256",
        "col.package": "package",
        "col.version": "version",
        "col.statistic": "statistic",
        "col.assigned": "assigned demand",
        "col.utilisation": "utilisation",
        "maps.heading": "Travel time maps",
        "maps.intro": ("Each {cell_m} m square is coloured by the travel time from its centre "
                       "to the nearest facility. Choose a mode with the buttons; zoom with "
                       "the mouse wheel, pan by dragging. {aggregated}"),
        "maps.aggregated": ("At this size each pixel is a block of {factor}×{factor} squares "
                            "({pixel_m} m), coloured by the longest travel time in the block."),
        "map.caption": "Travel time to the nearest {type}",
        "map.reset": "Back to the overview",
        "map.modes": "Mode",
        "map.no_borders": ("This profile holds no municipality borders (no areas.parquet; "
                           "profiles from before schema version 1.5.0)."),
        "map.no_facilities": ("This profile holds no facility coordinates (facilities.csv "
                              "without x/y; profiles from before schema version 1.5.0)."),
        "legend.time": "Travel time (minutes)",
        "legend.unreachable": "unlinked or nothing reachable",
        "legend.facility": "{type} (location)",
        "legend.border": "municipality border",
        "legend.change": "Change of the travel time (minutes, scenario minus baseline)",
        "legend.gain": "faster",
        "legend.loss": "slower",
        "legend.same": "about the same",
        "legend.newly_unreachable": "no longer within the norm, now unreachable",
        "legend.newly_reachable": "now reachable",
        "legend.share": "Share of residents within the norm",
        "corner": "{region} · {date} · Source: {source}",
        "source.cbs": "CBS grid statistics",
        "source.osm": "OpenStreetMap",
        "source.facilities_file": "facility file",
        "source.gtfs": "GTFS timetable {date}",
        "source.engine": "computed by bereikbaarheid {version}",
        "diff.heading": "Difference maps: scenario against baseline",
        "diff.intro": ("Minutes gained (purple) or lost (orange) per square, scenario minus "
                       "baseline; light grey: about the same. Grey: unlinked or unreachable in "
                       "the scenario while the baseline missed the norm too (the profile "
                       "folder holds no baseline times to say more); black: became "
                       "unreachable while the baseline met the norm."),
        "diff.caption": "Change of the travel time to the nearest {type}",
        "scenario.heading": "Scenario",
        "scenario.name": "name",
        "scenario.description": "description",
        "scenario.changes": "changes",
        "scenario.baseline": "baseline profile",
        "diff_tables.heading": "Difference tables",
        "diff_tables.summary": "Travel time and norm in the region: baseline, scenario and change",
        "diff_tables.capacity": "Capacity per area: baseline, scenario and change",
        "diff_tables.facilities": "Facilities that change",
        "diff_tables.no_facilities": "No facility changes.",
        "status.kept": "kept",
        "status.closed": "closed",
        "status.added": "added",
        "status.resized": "resized",
        "choro.heading": "Share of residents within the norm per municipality",
        "choro.intro": ("Per municipality the share of residents reaching the nearest facility "
                        "within the norm (unlinked or unreachable counts as beyond). Choose "
                        "the mode with the buttons."),
        "choro.caption": "Share of residents within the norm ({norm} min) to the {type}",
        "choro.no_areas": ("Without areas.parquet (profiles from before schema version 1.5.0) "
                           "there is no municipality map; the table below gives the same "
                           "figures."),
        "choro.table": "Share within the norm per municipality and mode",
        "curve.heading": "Cumulative accessibility",
        "curve.intro": ("Share of all residents reaching the nearest facility within t minutes, "
                        "per mode; whoever reaches none is never within. The dotted line is "
                        "the norm."),
        "curve.x": "travel time t (minutes)",
        "curve.y": "share of residents within t minutes",
        "curve.norm": "norm",
        "capacity.heading": "Capacity",
        "capacity.intro": ("Demand against capacity: per facility the assigned demand (the "
                           "residents for whom it is the nearest by {mode}) against its "
                           "capacity, and per municipality the shortage, with the GP FTE "
                           "shortfall."),
        "capacity.none": "This profile holds no capacity computation.",
        "capacity.scatter_x": "capacity",
        "capacity.scatter_y": "assigned demand",
        "capacity.parity": "demand = capacity",
        "capacity.over": "shortage",
        "capacity.under": "room",
        "capacity.gap_x": "shortage as a share of demand",
        "capacity.fte_x": "GP FTE shortfall (negative: room)",
        "equity.heading": "Equity",
        "equity.intro": ("Spread of the travel time over the residents (Gini: 0 is the same for "
                         "everyone; Palma: travel time of the 10 % with the longest against "
                         "that of the 40 % with the shortest) and the share beyond the norm "
                         "by age."),
        "equity.y": "share beyond the norm",
        "equity.all": "all residents",
        "equity.young": "aged 0–14",
        "equity.old": "65+",
        "border.heading": "Across the border and the comparison with CBS",
        "border.intro": "Travel time with facilities across the border against Dutch ones only.",
        "border.none": "No cross-border comparison in this profile.",
        "border.y": "share within the norm",
        "border.cross": "across the border",
        "border.nl": "Dutch only",
        "cbs.intro": ("Mean road distance to the nearest facility (CBS-comparable) beside the "
                      "distance CBS publishes."),
        "cbs.none": "No comparison with CBS in this profile.",
        "cbs.engine": "computed",
        "cbs.published": "CBS",
        "cbs.y": "mean distance (km)",
        "pt.heading": "Public transport: spread over the time window",
        "pt.intro": ("The public transport travel time depends on the departure. Per square "
                     "the spread {high} minus {low} over the departures of {date}, "
                     "{start}–{end} (every {step} min), weighted by residents. Top: share of "
                     "residents within t minutes at each percentile (the band is the spread); "
                     "bottom: share of residents whose spread is at most x minutes."),
        "pt.none": "This profile holds no public transport.",
        "pt.x": "spread x = {high} − {low} (minutes)",
        "pt.y": "share of residents with spread ≤ x",
        "meta.heading": "Inputs, settings and version",
        "meta.region": "region",
        "meta.created": "created at",
        "meta.schema": "schema version",
        "meta.software": "software version",
        "meta.python": "Python",
        "meta.facility_source": "facility source",
        "meta.facility_scope": "facilities across the border",
        "meta.pt": "public transport",
        "meta.pt_value": "{date}, {start}–{end}, every {step} min, percentiles {percentiles}",
        "meta.inputs": "Input files",
        "meta.settings": "Main settings",
        "meta.all_settings": "All settings (as in manifest.json)",
        "meta.packages": "Packages",
        "meta.warnings": "Warnings of the run (as recorded)",
        "meta.no_warnings": "No warnings.",
        "setting.modes": "modes",
        "setting.facility_types": "facilities",
        "setting.norm_min": "norm per facility (min)",
        "setting.thresholds_min": "travel time classes (min)",
        "setting.walk_speed_kmh": "walking speed (km/h)",
        "setting.bike_speed_kmh": "cycling speed (km/h)",
        "setting.max_link_distance_m": "largest distance to the road (m)",
        "setting.fca_mode": "mode for capacity",
        "setting.gp_patients_per_fte": "patients per GP FTE",
        "figures.note": ("Every figure is also a PNG (150 dpi) in the figures/ folder beside "
                         "this file, for memos and slides."),
        "figure.maps_note": "Maps as PNG: figures/map_<facility>_<mode>.png.",
        "footer": ("Made by bereikbaarheid {version} from the files of this profile folder. "
                   "Everything is in this one file; it opens without internet."),
        "yes": "yes",
        "no": "no",
        "scope.cross-border": "counted (across the border too)",
        "scope.nl-only": "Dutch only",
        "facility_source.osm": "OpenStreetMap",
        "facility_source.file": "file",
        "region_row": "region",
    },
}


class Texts:
    """The texts and number formats of one language."""

    def __init__(self, lang: str):
        if lang not in TEXTS:
            raise ValueError(f"unknown language {lang!r}; expected one of "
                             f"{', '.join(LANGUAGES)}")
        self.lang = lang
        self._texts = TEXTS[lang]

    def __call__(self, key: str, **fields: object) -> str:
        """The text of ``key``, its ``{fields}`` filled in."""
        text = self._texts[key]
        return text.format(**fields) if fields else text

    def get(self, key: str, default: str) -> str:
        """The text of ``key``, or ``default`` for a key not translated (a
        type or mode this version does not know)."""
        return self._texts.get(key, default)

    def type_name(self, ftype: str) -> str:
        return self.get(f"type.{ftype}", ftype)

    def mode_name(self, mode: str) -> str:
        return self.get(f"mode.{mode}", mode)

    def number(self, value: float | None, decimals: int = 1) -> str:
        """``value`` with ``decimals`` decimals and thousands grouped: Dutch
        ``12.345,6``, English ``12,345.6``; missing (NaN, None) as a dash."""
        return format_number(value, decimals, self.lang)

    def minutes(self, seconds: float | None) -> str:
        """Seconds as minutes with one decimal."""
        if seconds is None or not math.isfinite(seconds):
            return self("missing")
        return self.number(seconds / 60.0, 1)

    def percent(self, share: float | None, decimals: int = 1) -> str:
        """A share 0–1 as a percentage (``54,1 %``)."""
        if share is None or not math.isfinite(share):
            return self("missing")
        return f"{self.number(100.0 * share, decimals)}\u00a0%"

    def signed(self, value: float | None, decimals: int = 1) -> str:
        """A change with its sign (``+2,2``, ``−2,2``, ``0,0``)."""
        text = self.number(value, decimals)
        if value is not None and math.isfinite(value) and round(value, decimals) > 0:
            text = "+" + text
        return text

    def minutes_change(self, seconds: float | None) -> str:
        """A change in seconds as signed minutes with one decimal."""
        if seconds is None or not math.isfinite(seconds):
            return self("missing")
        return self.signed(seconds / 60.0, 1)

    def points(self, change: float | None) -> str:
        """A change of a share as signed percentage points (``+2,5 %-punt``)."""
        if change is None or not math.isfinite(change):
            return self("missing")
        return f"{self.signed(100.0 * change, 1)}\u00a0{self('unit.points')}"

    def count(self, value: float | None) -> str:
        """A count rounded to a whole number, thousands grouped."""
        return self.number(value, 0)


def format_number(value: float | None, decimals: int, lang: str) -> str:
    """``value`` with ``decimals`` decimals in the notation of ``lang``."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    value = float(value)
    if round(value, decimals) == 0:
        value = 0.0  # no "-0.0"
    text = f"{value:,.{decimals}f}"
    if text.startswith("-"):
        text = "\u2212" + text[1:]  # a real minus sign
    if lang == "nl":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text
