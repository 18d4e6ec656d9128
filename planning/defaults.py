"""Planning defaults that several steps share, in a module that imports nothing.

The scenario validates road-speed keys against these classes and the travel step uses the
speeds, so they live here rather than in either (no import circle, nothing heavy loaded).

Speed defaults
--------------
Rural speeds follow the design speeds of China's highway classes, *Technical Standard of
Highway Engineering* JTG B01-2014 (高速公路 120/100/80 km/h; 一级公路 100/80/60; 二级公路
80/60; 三级公路 40/30; 四级公路 30/20), mapped to OSM classes as in the OSM China tagging
guideline (motorway = 高速公路, trunk = 国道/一级, primary = 省道/二级, secondary = 县道,
tertiary = 乡道, unclassified = 村道). Urban speeds follow *Code for Design of Urban Road
Engineering* CJJ 37-2012 (快速路 100/80/60; 主干路 60/50/40; 次干路 50/40/30; 支路 40/30/20),
with motorway/trunk = 快速路, primary = 主干路, secondary = 次干路, tertiary and smaller = 支路.
The values used are *planning assumptions* for average door-to-door running speed, not the
design speeds themselves: we take the lower design speed of the class (rural) or a value
below it for signals and congestion (urban), as listed in :data:`DEFAULT_SPEEDS_KMH`. Links
(ramps), residential, service and living streets have no design-speed class in these
standards; their values are planning assumptions too. Walking is 4.5 km/h
(``TravelSettings.access_speed_kmh``), a common planning value for adults (about 1.25 m/s).
Edit them for your area with ``TravelSettings.road_speeds_kmh``.
"""

from __future__ import annotations

#: (urban, rural) km/h per OSM ``highway`` class; see the module docstring for sources.
DEFAULT_SPEEDS_KMH: dict[str, tuple[float, float]] = {
    "motorway": (60.0, 100.0),  # 快速路 (CJJ 37: 60-100) / 高速公路 (JTG B01: 80-120)
    "trunk": (50.0, 80.0),  # 快速路 / 一级公路 (60-100)
    "primary": (40.0, 60.0),  # 主干路 (40-60) / 二级公路 (60-80)
    "secondary": (30.0, 50.0),  # 次干路 (30-50) / 二-三级公路 (40-60)
    "tertiary": (25.0, 40.0),  # 支路 (20-40) / 三级公路 (30-40)
    "unclassified": (20.0, 30.0),  # 支路 / 四级公路 (20-30)
    "residential": (20.0, 25.0),  # planning assumption
    "living_street": (10.0, 10.0),  # planning assumption
    "service": (10.0, 15.0),  # planning assumption
    "track": (10.0, 15.0),  # planning assumption
    "road": (20.0, 30.0),  # unknown class: as unclassified
    "motorway_link": (40.0, 60.0),  # ramps: planning assumption
    "trunk_link": (30.0, 50.0),
    "primary_link": (30.0, 40.0),
    "secondary_link": (25.0, 35.0),
    "tertiary_link": (20.0, 30.0),
}
FALLBACK_CLASS = "road"
"""OSM ``highway`` class used for ways without a known class."""
