"""Batches on Dask: `batch BATCH.toml`, `run --all-regions`, serially, on a local
cluster (--workers), on a running one (--scheduler): the same files bit for bit,
failures reported while the others finish, a killed worker's task run again, a
memory limit that holds, and a network cache shared under a lock.

Every cluster here is a LocalCluster of worker processes on 127.0.0.1, started
and stopped by the test that uses it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bereikbaarheid import ConfigError, InputError, batch, cli
from bereikbaarheid.batch import _cluster

distributed = pytest.importorskip("distributed")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ROAD = 'modes=["walk", "bike", "car"]'


def _batch_file(demo_region, folder: Path, *, extra_region: str = "", years=(2040,)) -> Path:
    """Two regions of the demo (its municipalities: west, and the two others),
    the example scenario closing a village GP, and the projection to 2040."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "batch.toml"
    years_line = (f"years = {list(years)}\nprojection = \"{demo_region.projection}\"\n"
                  if years else "")
    path.write_text(
        f'[batch]\nconfig = "{demo_region.config}"\n'
        f'scenarios = ["{EXAMPLES / "scenarios" / "close-village-gp.toml"}"]\n{years_line}\n'
        '[[region]]\nname = "west"\nmunicipalities = ["GM9901"]\n\n'
        '[[region]]\nname = "east"\nmunicipalities = ["GM9902", "GM9903"]\n' + extra_region,
        encoding="utf-8")
    return path


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(args)
    printed = capsys.readouterr()
    return code, printed.out, printed.err


# What a run records of itself: when, how long, and whether a cache entry was
# built or found. Everything else in a manifest must be equal.
_RUN_RECORD = ("created_at", "timings_s")


def _comparable_manifest(path: Path) -> dict:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key in _RUN_RECORD:
        manifest.pop(key)
    for entry in manifest["networks"].values():
        if isinstance(entry, dict):
            entry.pop("status", None)
            entry.pop("reason", None)
    manifest["networks"].pop("osm", None)  # what a build saw; a cache hit has none
    for entry in manifest["networks"].get("clipped_inputs", {}).values():
        for key in ("status", "reason", "counts"):  # clipped, or found clipped
            entry.pop(key, None)
    transit = manifest.get("transit", {})
    for key in ("status", "reason"):
        transit.pop(key, None)
    for key in ("legs_s", "raptor_s", "profile_s", "cells_s", "origins_per_s"):
        transit.get("access", {}).pop(key, None)
    if "scenario" in manifest:
        manifest["scenario"]["road_travel_times"].pop("road_update_s")
        # The same file (its sha256 is compared) in each test's own folder.
        manifest["scenario"]["file"] = Path(manifest["scenario"]["file"]).name
        # Its baseline's folder, in each run's own output folder.
        manifest["scenario"]["baseline"] = Path(manifest["scenario"]["baseline"]).name
    return manifest


def _digests(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (hidden ones too), the catalogue,
    manifests and lock files aside."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in ("manifest.json", "catalog.duckdb") \
                and not path.name.endswith(".lock"):
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_same_outputs(left: Path, right: Path) -> None:
    """Every file under the two output folders byte-identical, the manifests
    equal but for the run record (when, how long, cache hit or not)."""
    a, b = _digests(left), _digests(right)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == []
    manifests = sorted(p.relative_to(left) for p in left.rglob("manifest.json"))
    assert manifests == sorted(p.relative_to(right) for p in right.rglob("manifest.json"))
    for rel in manifests:
        assert _comparable_manifest(left / rel) == _comparable_manifest(right / rel), rel


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes on 127.0.0.1, one thread each, stopped after the module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def serial_batch(demo_region, tmp_path_factory):
    """The example-like batch run serially through the command line."""
    work = tmp_path_factory.mktemp("serial")
    path = _batch_file(demo_region, work)
    code = cli.main(["batch", str(path), "--output", str(work / "out"), "--cache",
                     str(work / "cache"), "--no-report", "-q"])
    assert code == 0
    return work


def test_serial_batch_writes_every_region_and_variant(serial_batch):
    out = serial_batch / "out"
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    variants = ["", "@close-village-gp", "@projection-2040", "@close-village-gp-2040"]
    assert folders == sorted(f"{r}{v}" for r in ("west", "east") for v in variants)
    # The catalogue holds them all, added once at the end.
    import duckdb

    with duckdb.connect(str(out / "catalog.duckdb"), read_only=True) as db:
        rows = db.execute("select region, scenario from profiles order by 1, 2").fetchall()
    assert len(rows) == 8
    manifest = json.loads((out / "west@close-village-gp-2040" / "manifest.json").read_text())
    assert "population projected to 2040 (projection.csv)" in manifest["scenario"]["changes"]
    assert "close facility osm:w1454" in manifest["scenario"]["changes"]


def test_batch_on_two_workers_is_bit_identical_to_serial(demo_region, serial_batch, tmp_path,
                                                         capsys):
    path = _batch_file(demo_region, tmp_path)
    code, out, err = _cli(["batch", str(path), "--output", str(tmp_path / "out"), "--cache",
                           str(tmp_path / "cache"), "--no-report", "--workers", "2"], capsys)
    assert code == 0, err
    assert "8 of 8 task(s) done" in out and "local Dask cluster of 2 worker" in out
    # Progress: each task as it ends, with how many run meanwhile.
    assert "[8/8, " in err and " running] " in err
    assert_same_outputs(serial_batch / "out", tmp_path / "out")
    # The two regions share one network: one worker built it, the other
    # waited on its lock and loaded it.
    statuses = sorted(json.loads((tmp_path / "out" / r / "manifest.json").read_text())
                      ["networks"]["car"]["status"] for r in ("west", "east"))
    assert statuses[0] == "built" and statuses[1] != "built", statuses


def test_batch_on_a_running_scheduler_and_from_the_environment(demo_region, serial_batch,
                                                              cluster, tmp_path, capsys,
                                                              monkeypatch):
    path = _batch_file(demo_region, tmp_path)
    code, out, err = _cli(["batch", str(path), "--output", str(tmp_path / "a"), "--cache",
                           str(tmp_path / "cache"), "--no-report", "--scheduler",
                           cluster.scheduler_address, "--memory-limit", "2GB"], capsys)
    assert code == 0, err
    assert f"on the Dask cluster at {cluster.scheduler_address}" in out
    # A running cluster's workers keep their own limit: said, not ignored.
    assert "warning: --memory-limit is for the local workers of --workers" in err
    assert_same_outputs(serial_batch / "out", tmp_path / "a")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    code, out, err = _cli(["batch", str(path), "--output", str(tmp_path / "b"), "--cache",
                           str(tmp_path / "cache"), "--no-report", "-q"], capsys)
    assert code == 0, err
    assert_same_outputs(serial_batch / "out", tmp_path / "b")


def test_a_failing_task_is_reported_and_the_others_finish(demo_region, cluster, tmp_path,
                                                         capsys):
    bad = '\n[[region]]\nname = "nowhere"\nmunicipalities = ["GM0001"]\n'
    path = _batch_file(demo_region, tmp_path, extra_region=bad, years=())
    for where in ([], ["--scheduler", cluster.scheduler_address]):
        out_dir = tmp_path / ("dask" if where else "serial")
        code, out, err = _cli(["batch", str(path), "--output", str(out_dir), "--cache",
                               str(tmp_path / "cache"), "--no-report", *where], capsys)
        assert code == 2, err
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        # The region's own error, with what was expected, then its scenario not run.
        assert len(errors) == 2, err
        assert "GM0001" in errors[0] and "(nowhere)" in errors[0]
        assert errors[1] == ("error: nowhere@close-village-gp: not run, as nowhere failed "
                             "(above)")
        assert "4 of 6 task(s) done" in out and "2 failed" in out
        assert sorted(p.name for p in out_dir.iterdir() if p.is_dir()) == [
            "east", "east@close-village-gp", "west", "west@close-village-gp"]


def test_errors_cross_processes_intact():
    import pickle

    for error in (InputError("grid.gpkg", "no cells; expected some"),
                  ConfigError("bad", path="run.toml", key="settings.modes")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
        assert back.path == error.path and back.message == error.message


def _worker_pids(client) -> dict[str, int]:
    return client.run(os.getpid)


def test_a_worker_killed_mid_task_gives_the_same_result(demo_region, serial_batch, tmp_path):
    """SIGKILL the worker running a region's baseline: the scheduler runs the
    task again on a worker (the nanny restarts the dead one), the batch
    completes, and the files equal the serial run's; nothing half-written."""
    spec = batch.read_batch(_batch_file(demo_region, tmp_path), output_dir=tmp_path / "out",
                            cache_dir=tmp_path / "cache", catalog=False)
    tasks = batch.plan_batch(spec, lang=None, parts=2)
    killed: list[str] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local, \
            distributed.Client(local) as client:
        pids = _worker_pids(client)

        def killer() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                for worker, keys in client.processing().items():
                    if any("/baseline-" in k for k in keys):
                        time.sleep(1.0)  # well into the task: reading, building
                        os.kill(pids[worker], signal.SIGKILL)
                        killed.append(worker)
                        return
                time.sleep(0.05)

        thread = threading.Thread(target=killer)
        thread.start()
        outcome = batch.run_tasks(tasks, client, numba_threads=1)
        thread.join()
    assert killed, "no baseline task was seen running"
    assert outcome.failures == []
    # The serial run also wrote its catalogue; this one wrote none.
    assert_same_outputs(serial_batch / "out", tmp_path / "out")
    leftovers = [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    assert [n for n in leftovers if not n.endswith(".lock")] == []


def _hog(megabytes: int) -> int:
    """Take memory step by step (as a growing region would) and hold it."""
    held = []
    for _ in range(megabytes // 50):
        held.append(np.ones(50 * 2**20 // 8))
        time.sleep(0.02)
    time.sleep(2)
    return len(held)


def _small(x: int) -> int:
    return x + 1


def test_a_task_over_the_memory_limit_is_reported_not_swapped(capsys):
    """A worker over its memory limit is stopped by its nanny; the task is
    tried again, then reported with the limit, and the other task finishes."""
    import dask

    tasks = [batch.Task(key="small", fn=_small, args=(1,), label="small"),
             batch.Task(key="hog", fn=_hog, args=(3000,), label="hog")]
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None,
                                     memory_limit="1GB") as local, \
            distributed.Client(local) as client:
        limit = batch.memory_limit_of(client)
        outcome = batch.run_tasks(tasks, client)
    status, line = cli._task_failure(outcome.failures[0], limit, debug=False)
    assert outcome.results == {"small": 2}
    assert [f.task.key for f in outcome.failures] == ["hog"]
    assert type(outcome.failures[0].error).__name__ == "KilledWorker"
    assert status == 2
    assert line.startswith("error: hog: its worker died each time it ran it")
    assert "memory limit of 1.0 GB per worker" in line


def test_run_all_regions_on_workers_equals_serial(demo_region, cluster, tmp_path, capsys):
    registry = tmp_path / "regions.toml"
    registry.write_text(
        '[[region]]\nid = "west"\nname = "West"\nmunicipalities = { GM9901 = "Schorrewaarde" }\n'
        '[[region]]\nid = "east"\nname = "East"\nmunicipalities = { GM9903 = "Polderhoven" }\n')
    args = ["run", "--all-regions", "--registry", str(registry), "--osm", str(demo_region.osm),
            "--grid", str(demo_region.grid_100m), "--facilities",
            str(demo_region.facilities_csv), "--boundaries", str(demo_region.municipalities),
            "--set", 'modes=["car"]', "--set", "area_buffer_m=1000", "--no-report", "-q"]
    for name, where in (("serial", []), ("dask", ["--scheduler", cluster.scheduler_address])):
        code, out, err = _cli([*args, *where, "--output", str(tmp_path / name), "--cache",
                               str(tmp_path / "cache")], capsys)
        assert code == 0, err
        assert str(tmp_path / name / "west" / "cells.parquet") in out.splitlines()
    assert_same_outputs(tmp_path / "serial", tmp_path / "dask")


def test_cluster_options_and_their_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert batch.Cluster().serial
    assert batch.Cluster().describe() == "serially in this process"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:1")
    assert batch.Cluster().resolved().scheduler == "tcp://127.0.0.1:1"
    assert batch.Cluster(workers=2).resolved().workers == 2  # chosen beats the environment
    monkeypatch.setattr(_cluster, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(ConfigError, match="no Dask scheduler answered within 2 s"), \
            batch.connect(batch.Cluster(scheduler="tcp://127.0.0.1:1")):
        pass
    code, _, err = _cli(["run", "demo.toml", "--workers", "2"], capsys)
    assert code == 2 and "expected them with --all-regions" in err
    code, _, err = _cli(["batch", "b.toml", "--workers", "0"], capsys)
    assert code == 2 and err.startswith("error: --workers: 0 is outside the range 1 to 512")


@pytest.mark.parametrize("text, key, words", [
    ('[batch]\nconfig = "run.toml"\nyear = [2030]\n', "batch.year", "unknown key"),
    ('[batch]\nconfig = "run.toml"\nyears = [2030]\n', "batch.projection", "need a projection"),
    ('[batch]\nconfig = "run.toml"\nregions = ["atlantis"]\n', "batch.regions",
     "not regions of the registry"),
    ('[batch]\nconfig = "run.toml"\n[[region]]\nname = "a"\n', "region[1]",
     "either municipalities or polygon"),
    ('[batch]\nconfig = "run.toml"\neach_closure = "hospital"\n', "batch.each_closure",
     "expected one of gp, school, supermarket, all"),
])
def test_batch_file_mistakes_name_the_key(demo_region, tmp_path, text, key, words):
    path = tmp_path / "batch.toml"
    path.write_text(text.replace('"run.toml"', f'"{demo_region.config}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        batch.read_batch(path)
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert words in str(caught.value)


def test_a_closure_type_not_analysed_is_named_in_the_batch_file(demo_region, tmp_path):
    run = tmp_path / "run.toml"
    run.write_text(f'[region]\nname = "demo"\n[inputs]\nosm = "{demo_region.osm}"\n'
                   f'grid = "{demo_region.grid_100m}"\n'
                   f'municipalities = "{demo_region.municipalities}"\n'
                   '[settings]\nfacility_types = ["gp"]\n', encoding="utf-8")
    path = tmp_path / "batch.toml"
    path.write_text('[batch]\nconfig = "run.toml"\neach_closure = "school"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        batch.read_batch(path)
    assert str(caught.value) == (f"{path}: batch.each_closure: 'school' is not analysed; "
                                 "expected one of the analysed types ['gp'] or 'all' (the "
                                 "settings' facility_types)")


def test_batch_file_projection_year_must_exist(demo_region, tmp_path):
    path = _batch_file(demo_region, tmp_path, years=(2041,))
    with pytest.raises(ConfigError, match=r"batch.years: \[2041\] are not in projection.csv"):
        batch.read_batch(path)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_batch_on_a_cluster_started_with_the_dask_cli(demo_region, tmp_path, capsys,
                                                                  monkeypatch):
    """README "More than one machine", as written (on 127.0.0.1): `dask
    scheduler`, two `dask worker`s, `bereikbaarheid batch examples/batch.toml
    --scheduler ...`: the same files as the batch run serially."""
    import shutil
    import subprocess
    import sys

    shutil.copytree(EXAMPLES, tmp_path / "examples")
    (tmp_path / "demo_region").symlink_to(demo_region.folder)
    monkeypatch.chdir(tmp_path)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask_cli = str(Path(sys.executable).with_name("dask"))
    processes = [subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port",
                                   str(port), "--no-dashboard"], stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            processes.append(subprocess.Popen(
                [dask_cli, "worker", address, "--nworkers", "1", "--nthreads", "1",
                 "--memory-limit", "4GB", "--no-dashboard"], stderr=subprocess.DEVNULL))
        code, out, err = _cli(["batch", "examples/batch.toml", "--scheduler", address,
                               "--output", "cluster", "--cache", "cache", "--no-report"],
                              capsys)
        assert code == 0, err
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    assert f"on the Dask cluster at {address}" in out
    code, out, err = _cli(["batch", "examples/batch.toml", "--output", "serial", "--cache",
                           "cache", "--no-report"], capsys)
    assert code == 0, err
    assert_same_outputs(tmp_path / "serial", tmp_path / "cluster")
    names = sorted(p.name for p in (tmp_path / "serial").iterdir() if p.is_dir())
    assert len(names) == 2 * 9 and "demo-west@new-school-2040" in names
    assert (tmp_path / "serial" / "demo-east" / "closure_impact.csv").is_file()


def test_each_closure_is_the_same_serially_and_on_workers(demo_region, cluster, tmp_path,
                                                          capsys):
    """`scenario CONFIG --each-closure gp`: the baseline profile with its
    ranked closure_impact.csv, identical serially and spread over workers."""
    import pandas as pd

    for name, where in (("serial", []), ("dask", ["--scheduler", cluster.scheduler_address])):
        code, _, err = _cli(["scenario", str(demo_region.config), "--each-closure", "gp",
                             "--output", str(tmp_path / name), "--cache",
                             str(tmp_path / "cache"), "--no-report", *where], capsys)
        assert code == 0, err
        assert "23 gp closure(s) ranked" in err
    assert_same_outputs(tmp_path / "serial", tmp_path / "dask")
    table = pd.read_csv(tmp_path / "serial" / "demo" / "closure_impact.csv")
    assert len(table) == 23 and table["rank"].tolist() == list(range(1, 24))
    assert table["facility_id"].is_unique
    manifest = json.loads((tmp_path / "serial" / "demo" / "manifest.json").read_text())
    assert manifest["closures"] == {"type": "gp", "facilities": 23,
                                    "file": "closure_impact.csv"}
    assert "closure_impact.csv" in manifest["files"].values()


def test_ctrl_c_stops_a_batch_on_workers_with_status_130(demo_region, tmp_path):
    """Ctrl-C while workers run: exit status 130, `interrupted`, no
    traceback; the local cluster is stopped (no worker process left)."""
    import subprocess
    import sys

    path = _batch_file(demo_region, tmp_path)
    command = str(Path(sys.executable).with_name("bereikbaarheid"))
    child = subprocess.Popen(
        [command, "batch", str(path), "--workers", "2", "--output", str(tmp_path / "out"),
         "--cache", str(tmp_path / "cache"), "--no-report"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "CI": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    import psutil

    lines, workers = [], []
    for line in child.stderr:
        lines.append(line)
        if line.startswith("[1/"):  # a task done, others running on the workers
            workers = psutil.Process(child.pid).children(recursive=True)
            child.send_signal(signal.SIGINT)
            break
    lines += child.stderr.readlines()
    assert child.wait(timeout=120) == 130, "".join(lines)
    assert lines[-1] == "interrupted\n"
    assert not any("Traceback" in line for line in lines), "".join(lines)
    assert len(workers) >= 2  # the nannies and their workers
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == []


def test_each_closure_on_top_of_a_scenario(demo_region, tmp_path, capsys):
    """`scenario CONFIG SCENARIO --each-closure gp`: the baseline as usual, the
    scenario with its differences and the closures assessed on it (the
    projected population of 2040), not on the baseline."""
    import pandas as pd

    ageing = tmp_path / "ageing.toml"
    ageing.write_text('[scenario]\nname = "ageing-2040"\n[projection]\n'
                      f'file = "{demo_region.projection}"\nyear = 2040\n', encoding="utf-8")
    code, out, err = _cli(["scenario", str(demo_region.config), str(ageing), "--each-closure",
                           "gp", "--output", str(tmp_path / "p"), "--cache",
                           str(tmp_path / "cache"), "--no-report", "-q"], capsys)
    assert code == 0, err
    folder = tmp_path / "p" / "demo@ageing-2040"
    assert str(folder / "closure_impact.csv") in out.splitlines()
    assert (folder / "diff_summary.csv").is_file()
    assert not (tmp_path / "p" / "demo" / "closure_impact.csv").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "ageing-2040" and manifest["closures"]["type"] == "gp"
    table = pd.read_csv(folder / "closure_impact.csv")
    # The demand moved is that of 2040: the sum over GPs equals the scenario's
    # assigned demand (each GP's whole assigned demand moves when it closes).
    facilities = pd.read_csv(folder / "facilities.csv")
    gps = facilities[facilities["type"] == "gp"].set_index("facility_id")
    moved = table.set_index("facility_id")["demand_moved"]
    assert np.allclose(moved.sort_index(), gps.loc[moved.index, "assigned_demand"].sort_index(),
                       atol=0.051)
