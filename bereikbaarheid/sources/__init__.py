"""Readers of the input formats: OSM PBF, CBS grid, facility files, boundaries."""
