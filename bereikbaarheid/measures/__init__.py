"""Measures: travel times turned into per-cell indicators."""
