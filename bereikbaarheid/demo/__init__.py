"""Built-in demo region: a rural Dutch border region in the real input formats."""
