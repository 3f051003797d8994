"""Numba shortest-path kernels on plain CSR arrays (no pandas, no package imports)."""
