"""scripts/mutation/mutants.py: the fixed list, how mutants are found, one real run.

The list must stay in step with the code: every mutant still finds its place
and still compiles, so a refactoring that moves code fails here, not in the
middle of a long mutation run.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "mutation" / "mutants.py"


@pytest.fixture(scope="module")
def mutants():
    spec = importlib.util.spec_from_file_location("mutants_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # the dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_mutant_of_the_list_still_applies_and_compiles(mutants):
    listed = mutants.load()
    assert len(listed) >= 100
    assert len({m.id for m in listed}) == len(listed)
    targets = [str(f.relative_to(ROOT)) for f in mutants._target_files()]
    for mutant in listed:
        assert mutant.file in targets, mutant.id
        text = (ROOT / mutant.file).read_text()
        mutated = mutant.apply(text)
        assert mutated != text, mutant.id
        ast.parse(mutated)
    # the six bugs issue 16 named are in the list, as written there
    named = {m.id for m in listed if m.id.startswith("issue16-")}
    assert named == {f"issue16-{k}" for k in range(1, 7)}
    # every targeted file has at least one drawn mutant
    assert {m.file for m in listed} == set(targets)


def test_candidates_leave_out_raise_logging_signatures_and_annotations(mutants, tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "def f(a: int = 1, *, b=2) -> int:\n"
        "    log.info('a is %d', a + 1)\n"
        "    if a < b:\n"
        "        raise ValueError(a - 1)\n"
        "    assert a != 3\n"
        "    return a + min(b, 4)\n")
    found = [(m.line, m.old, m.new) for m in mutants.candidates(source)]
    assert found == [(3, "<", "<="), (6, "+", "-"), (6, "min", "max"), (6, "4", "5")]


def test_a_mutant_finds_its_line_when_lines_move(mutants):
    mutant = mutants.Mutant(id="x", file="f.py", line=1, col=5, old="<", new="<=",
                            code="if a < b:")
    assert mutant.apply("x = 1\nif a < b:\n    pass\n") == "x = 1\nif a <= b:\n    pass\n"
    with pytest.raises(ValueError, match="no longer reads"):
        mutant.apply("if a > b:\n")
    # The tests are chosen by the line where the code is now, not where it was
    # drawn: the map is of the code as it is.
    assert mutant.lines("x = 1\ny = 2\nif a < b:\n    pass\n") == [3]
    assert mutant.lines("if a < b:\n") == [1]


@pytest.mark.parametrize(("literal", "bumped"), [("3", "4"), ("0", "1"), ("1_000", "1001"),
                                                 ("0.5", "0.6"), ("60.0", "60.1"),
                                                 ("2.", "3.0"), ("1e-9", None)])
def test_numbers_are_bumped_in_their_last_digit(mutants, literal, bumped):
    assert mutants._bumped(literal) == bumped


def test_an_unknown_mutant_is_one_error_line(mutants, capsys):
    with pytest.raises(SystemExit) as stop:
        mutants.main(["run", "--only", "no-such-mutant"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no-such-mutant" in err[0]


@pytest.mark.slow
def test_a_real_map_and_run_kill_the_cutoff_bug_and_keep_an_equivalent(mutants, tmp_path,
                                                                          capsys):
    """Map one test file under coverage, then run a real bug and a harmless rewrite."""
    state = tmp_path / "state"
    assert mutants.main(["--state", str(state), "map", "tests/test_link.py"]) == 0
    mapping = json.loads((state / "map.json").read_text())
    link = mapping["lines"]["bereikbaarheid/networks/link.py"]
    # lines run by the test file are its; lines run when the module is imported
    # (def, class, constants) are marked so the run gives them every test file
    assert {t for tests in link.values() for t in tests} == {"tests/test_link.py",
                                                               mutants.IMPORT}
    cutoff_line = next(n for n, line in enumerate(
        (ROOT / "bereikbaarheid" / "networks" / "link.py").read_text().splitlines(), 1)
        if "keep = cost <= cutoff" in line)
    assert link[str(cutoff_line)] == ["tests/test_link.py"]
    assert mapping["seconds"]["tests/test_link.py"] > 0
    listed = tmp_path / "list.toml"
    listed.write_text(
        "[[mutant]]\nid = \"strict\"\nfile = \"bereikbaarheid/networks/link.py\"\n"
        "find = \"keep = cost <= cutoff\"\nreplace = \"keep = cost < cutoff\"\n\n"
        "[[mutant]]\nid = \"same\"\nfile = \"bereikbaarheid/networks/link.py\"\n"
        "find = \"keep = cost <= cutoff\"\nreplace = \"keep = (cost <= cutoff)\"\n\n"
        "[[mutant]]\nid = \"marked\"\nfile = \"bereikbaarheid/networks/link.py\"\n"
        "find = \"keep = cost <= cutoff\"\nreplace = \"keep = cutoff >= cost\"\n"
        "equivalent = \"the same comparison written the other way round\"\n")
    out = tmp_path / "run.json"
    assert mutants.main(["--state", str(state), "--list", str(listed), "run",
                         "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    status = {m["id"]: m["status"] for m in result["mutants"]}
    assert status == {"strict": "killed", "same": "survived", "marked": "equivalent"}
    assert result["totals"]["kill_rate"] == 0.5
    # the working copy is back as it was
    work = state / "work-0" / "repo" / "bereikbaarheid" / "networks" / "link.py"
    assert work.read_text() == (ROOT / "bereikbaarheid" / "networks" / "link.py").read_text()
    assert "kill rate 50.0%" in capsys.readouterr().out
