"""scripts/benchmarks/benchmark.py runs end to end at the smallest demo scale and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "benchmarks" / "benchmark.py"

def test_benchmark_runs_every_query_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(SCRIPT), "--sizes", "1", "--repeat", "1",
                    "--scipy-sources", "20", "--no-profile", "--workdir", str(tmp_path),
                    "--json", str(out)], check=True, capture_output=True, text=True,
                   timeout=120)
    result = json.loads(out.read_text())
    assert result["machine"]["cpu_count"] >= 1
    (size,) = result["sizes"]
    assert size["car_graph"]["nodes"] == size["networks"]["car"]["nodes"] > 0
    assert {"cold_build_all_modes_s", "walk", "bike", "car"} <= set(size["networks"])
    queries = {row["query"].split(" ")[0] for row in size["rows"]}
    assert queries == {"one-to-all", "nearest", str(size["car_graph"]["cells"])}
    peers = {row["peer"] for row in size["rows"]}
    assert {"scipy", "igraph", "networkx", "pandana", "scipy min_only", "scipy limit",
            "pandana nearest_pois"} <= peers
    for row in size["rows"]:
        assert row["ours_s"] > 0
        assert row["peer_s"] is None or row["ratio"] == pytest.approx(
            row["peer_s"] / row["ours_s"])
