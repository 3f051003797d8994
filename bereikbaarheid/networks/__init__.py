"""Road networks per mode: built from OSM, cached, with points linked onto edges."""
