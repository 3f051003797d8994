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


def test_the_national_benchmark_times_public_transport_and_checks_a_sample(tmp_path):
    script = SCRIPT.with_name("benchmark_national.py")
    out = tmp_path / "pt.json"
    run = subprocess.run([sys.executable, str(script), "--pt", "--scale", "1", "--sample", "40",
                          "--workdir", str(tmp_path / "work"), "--json", str(out)],
                         check=True, capture_output=True, text=True, timeout=600)
    pt = json.loads(out.read_text())["pt"]
    for key in ("cells", "stops", "trips", "stop_times", "profile_s", "per_cell_sample_cells",
                "per_cell_sample_s", "per_cell_estimate_s", "peak_gb", "sample_equal"):
        assert key in pt, key
    assert pt["sample_equal"] is True
    assert pt["per_cell_sample_cells"] == 40 and pt["cells"] > 40
    assert min(pt["stops"], pt["trips"], pt["stop_times"]) > 0
    assert pt["profile_report"]["method"] == "profile"
    assert pt["per_cell_estimate_s"] >= pt["profile_report"]["legs_s"]
    assert "sample equal: True" in run.stdout
