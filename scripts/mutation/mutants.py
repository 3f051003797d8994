"""Mutation testing with a fixed list of mutants: does the suite fail when a number is wrong?

Usage::

    python scripts/mutation/mutants.py map                  # which tests run which lines (coverage, ~30 min)
    python scripts/mutation/mutants.py run --jobs 2         # every mutant of mutants.toml
    python scripts/mutation/mutants.py run --only gtfs-0007 issue-1
    python scripts/mutation/mutants.py generate --seed 16 --count 100   # draw a new list

A mutant is one small, plausible bug: a comparison that loses or gains its
``=``, ``+`` for ``-``, ``&`` for ``|``, ``min`` for ``max``, a constant off
by one, a ``not`` dropped. ``generate`` finds every such place in the layers
named in ``TARGETS`` (tokens inside ``raise``, ``assert``, logging and
progress calls, annotations, signatures and decorators are left out), drops
those that do not compile, draws ``--count`` of them with a fixed seed,
spread over the files in proportion to their places, and writes the list to
``mutants.toml`` next to this script. The list also holds hand-written
mutants (``find``/``replace``), such as the six bugs of issue 16. A mutant
that cannot change any result is marked ``equivalent = "why"`` by hand and
left out of the kill rate.

``map`` runs the suite once under coverage with one context per test and
keeps, for every line of the targets, the test files that run it, and the
time every test file takes (``.mutation/map.json``). ``run`` copies the
working tree into ``.mutation/work-K`` (one per job; ``../shared`` is linked
beside it, so the real fixtures are found), puts each mutant in, runs the test
files that run its line (fastest first, ``-x``: the first failure kills it),
and puts the file back. A mutant is *killed* when pytest fails (exit 1, or 2
when the mutant breaks collection), *timed out* when the tests run over three
times their usual time plus two minutes (counted as killed), and *survives*
when every test passes; a mutant on a line no test runs survives without a
run. The kill rate is killed / (mutants - equivalent). Prints one line per
mutant and the totals; ``--json FILE`` writes them.

Test selection by whole files keeps a module-scoped fixture and the tests
that read it together. A line first run inside the session-scoped demo
region is not a target (the demo generator is not mutated).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures as cf
import io
import itertools
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
import tokenize
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIST = Path(__file__).resolve().with_name("mutants.toml")
STATE = ROOT / ".mutation"
TARGETS = ("bereikbaarheid/sources", "bereikbaarheid/measures", "bereikbaarheid/profile.py",
           "bereikbaarheid/export.py", "bereikbaarheid/scenario.py",
           "bereikbaarheid/pipeline.py", "bereikbaarheid/networks/link.py")

# token -> what it becomes
_SWAPS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==",
          "+": "-", "-": "+", "*": "/", "/": "*", "+=": "-=", "-=": "+=",
          "&": "|", "|": "&", "and": "or", "or": "and", "True": "False", "False": "True",
          "not": "", "~": ""}
_CALL_SWAPS = {"min": "max", "max": "min", "minimum": "maximum", "maximum": "minimum",
               "any": "all", "all": "any", "floor": "ceil", "ceil": "floor"}
IMPORT = "(import)"     # the map's mark for a line run when its module is imported
_QUIET = {"log", "logger", "_log", "LOG", "_LOG", "logging", "warnings"}


@dataclass
class Mutant:
    id: str
    file: str
    line: int = 0
    col: int = 0
    old: str = ""
    new: str = ""
    code: str = ""
    find: str = ""
    replace: str = ""
    note: str = ""
    equivalent: str = ""

    def apply(self, text: str) -> str:
        """The file's text with this mutant put in (ValueError: the list is stale)."""
        if self.find:
            if text.count(self.find) != 1:
                raise ValueError(f"{self.id}: `find` occurs {text.count(self.find)} times")
            return text.replace(self.find, self.replace)
        lines = text.splitlines(keepends=True)
        row = self._row(lines)
        line = lines[row]
        if line[self.col:self.col + len(self.old)] != self.old:
            raise ValueError(f"{self.id}: column {self.col} no longer holds {self.old!r}")
        lines[row] = line[:self.col] + self.new + line[self.col + len(self.old):]
        return "".join(lines)

    def _row(self, lines: list[str]) -> int:
        """Index of the line this token mutant changes: its recorded line, or,
        when the code has moved, the one line that still reads ``code``."""
        row = self.line - 1
        if row >= len(lines) or lines[row].strip() != self.code:
            matches = [i for i, s in enumerate(lines) if s.strip() == self.code]
            if len(matches) != 1:
                raise ValueError(f"{self.id}: line {self.line} no longer reads {self.code!r}")
            row = matches[0]
        return row

    def lines(self, text: str) -> list[int]:
        """The line numbers this mutant changes, where they are now in ``text``
        (for test selection: the map is of the code as it is)."""
        if self.find:
            start = text[:text.index(self.find)].count("\n") + 1
            return list(range(start, start + self.find.count("\n") + 1))
        return [self._row(text.splitlines(keepends=True)) + 1]

    def describe(self) -> str:
        if self.find:
            return self.note or "hand-written"
        return f"{self.old!r} -> {self.new!r}: {self.code}"


def _fail(message: str) -> None:
    """An expected failure: one ``error:`` line, exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


# -- generating the list ---------------------------------------------------------


def _target_files() -> list[Path]:
    files = []
    for target in TARGETS:
        path = ROOT / target
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [f for f in files if f.name != "__init__.py"]


def _quiet_spans(tree: ast.AST) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of code whose tokens are not mutated."""
    spans = []

    def add(node):
        if node is not None and hasattr(node, "lineno"):
            spans.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Raise, ast.Assert)):
            add(node)
        elif isinstance(node, ast.AnnAssign):
            add(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                add(deco)
            add(node.returns)
            args = node.args
            every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
            for arg in every:
                if arg is not None:
                    spans.append(((arg.lineno, arg.col_offset),
                                  (arg.end_lineno, arg.end_col_offset)))
            # the signature's own punctuation (*, /) up to the first statement
            spans.append(((node.lineno, node.col_offset), (node.body[0].lineno, 0)))
        elif isinstance(node, ast.ClassDef):
            for deco in node.decorator_list:
                add(deco)
        elif isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, (ast.Attribute, ast.Call)):
                root = root.value if isinstance(root, ast.Attribute) else root.func
            if isinstance(root, ast.Name) and (root.id in _QUIET or "progress" in root.id):
                add(node)
    return spans


def _inside(pos, spans) -> bool:
    return any(start <= pos < end for start, end in spans)


def candidates(path: Path) -> list[Mutant]:
    """Every token mutant of one file that still compiles."""
    text = path.read_text()
    tree = ast.parse(text)
    quiet = _quiet_spans(tree)
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines(keepends=True)
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    found = []
    for i, tok in enumerate(tokens):
        new = None
        if tok.type == tokenize.OP or (tok.type == tokenize.NAME and tok.string in _SWAPS):
            new = _SWAPS.get(tok.string)
        elif tok.type == tokenize.NAME and tok.string in _CALL_SWAPS:
            if i + 1 < len(tokens) and tokens[i + 1].string == "(":
                new = _CALL_SWAPS[tok.string]
        elif tok.type == tokenize.NUMBER:
            new = _bumped(tok.string)
        if new is None or _inside(tok.start, quiet):
            continue
        row, col = tok.start
        old = tok.string
        if new == "" and old == "not":
            old = lines[row - 1][col:col + 4]      # "not " goes with its space
        mutant = Mutant(id="", file=rel, line=row, col=col, old=old, new=new,
                        code=lines[row - 1].strip())
        try:
            ast.parse(mutant.apply(text))
        except (SyntaxError, ValueError):
            continue
        found.append(mutant)
    return found


def _bumped(number: str) -> str | None:
    """A numeric literal one more (ints) or one more in its last written digit's place (floats)."""
    plain = number.replace("_", "")
    if re.fullmatch(r"\d+", plain):
        return str(int(plain) + 1)
    if re.fullmatch(r"\d*\.\d*", plain) and plain != ".":
        decimals = len(plain.split(".")[1])
        step = 10.0 ** -decimals if decimals else 1.0
        return f"{float(plain) + step:.{decimals}f}" if decimals else f"{float(plain) + 1:.1f}"
    return None


def generate(seed: int, count: int) -> list[Mutant]:
    """Draw ``count`` mutants, spread over the files in proportion to their places."""
    per_file = {f: candidates(f) for f in _target_files()}
    total = sum(len(c) for c in per_file.values())
    rng = random.Random(seed)
    drawn = []
    for found in per_file.values():
        k = min(len(found), max(1, round(count * len(found) / total))) if found else 0
        drawn += sorted(rng.sample(found, k), key=lambda m: (m.line, m.col))
    stems: dict[str, int] = {}
    for mutant in drawn:
        stem = Path(mutant.file).stem.strip("_")
        stems[stem] = stems.get(stem, 0) + 1
        mutant.id = f"{stem}-{stems[stem]:04d}"
    print(f"{total} candidate mutants in {len(per_file)} files; drew {len(drawn)}")
    return drawn


def load() -> list[Mutant]:
    with LIST.open("rb") as fh:
        data = tomllib.load(fh)
    return [Mutant(**entry) for entry in data.get("mutant", [])]


def save(mutants: list[Mutant], header: str) -> None:
    out = [header.rstrip() + "\n"]
    for m in mutants:
        out.append("\n[[mutant]]\n")
        for key in ("id", "file", "line", "col", "old", "new", "code", "find", "replace",
                    "note", "equivalent"):
            value = getattr(m, key)
            if value in ("", 0) and key not in ("old", "new") or (key in ("old", "new")
                                                                    and m.find):
                continue
            if isinstance(value, int):
                out.append(f"{key} = {value}\n")
            elif "\n" in value:
                out.append(f"{key} = '''\n{value}'''\n")
            else:
                out.append(f"{key} = {json.dumps(value)}\n")
    tmp = LIST.with_suffix(".tmp")
    tmp.write_text("".join(out))
    tmp.replace(LIST)


# -- which tests run which lines ---------------------------------------------------


def build_map(extra: list[str], merge: bool = False) -> None:
    """Run the suite once under coverage, one context per test; keep lines -> test files.

    With ``merge`` only the test files named in ``extra`` run, and their
    entries replace theirs in the existing map (after tests were added).
    """
    STATE.mkdir(parents=True, exist_ok=True)
    rc_file = STATE / "coveragerc"
    sources = "\n".join("    " + t.replace("/", ".").removesuffix(".py") for t in TARGETS)
    rc_file.write_text(f"[run]\nsource =\n{sources}\n")
    data = STATE / "coverage"
    env = dict(os.environ, COVERAGE_FILE=str(data))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not browser",
           "--cov", f"--cov-config={rc_file}", "--cov-context=test", "--cov-report=",
           "--durations=0", *extra]
    print("$", " ".join(cmd), flush=True)
    log = STATE / "map.log"
    with log.open("w") as fh:
        rc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        _fail(f"{log}: the suite did not pass (exit {rc}); mutants need a green suite")
    write_map(data, log, STATE / "map.json", merge)


def write_map(data: Path, log: Path, out: Path, merge: bool = False) -> None:
    """``map.json`` from a coverage data file with test contexts and a --durations=0 log."""
    report = STATE / "coverage.json"
    subprocess.run([sys.executable, "-m", "coverage", "json", f"--data-file={data}",
                    "--show-contexts", "-o", str(report), "-q"], check=True, cwd=ROOT)
    files = json.loads(report.read_text())["files"]
    lines: dict[str, dict[str, list[str]]] = {}
    for name, info in files.items():
        rel = re.sub(r"^.*?(bereikbaarheid/)", r"\1", name)
        per_line = {}
        for line, contexts in info.get("contexts", {}).items():
            tests = sorted({c.split("::")[0] for c in contexts if "::" in c})
            if tests:
                per_line[line] = tests
            elif "" in contexts:
                per_line[line] = [IMPORT]    # run on import, outside any test
        lines[rel] = per_line
    seconds: dict[str, float] = {}
    for match in re.finditer(r"^([\d.]+)s (?:setup|call|teardown)\s+(tests/[^:\s]+)::",
                             log.read_text(), re.MULTILINE):
        seconds[match[2]] = seconds.get(match[2], 0.0) + float(match[1])
    if merge and out.exists():
        old = json.loads(out.read_text())
        ran = set(seconds)
        for name, per_line in old["lines"].items():
            mine = lines.setdefault(name, {})
            for line, tests in per_line.items():
                kept = [t for t in tests if t not in ran]
                both = set(kept) | set(mine.get(line, []))
                mine[line] = sorted(both - {IMPORT} if len(both) > 1 else both)
        seconds = {**{t: v for t, v in old["seconds"].items() if t not in ran}, **seconds}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"lines": lines, "seconds": seconds}, sort_keys=True))
    tmp.replace(out)
    print(f"wrote {out}: {sum(len(v) for v in lines.values())} lines in {len(lines)} files, "
          f"{len(seconds)} test files")


# -- running the mutants ---------------------------------------------------------------


@dataclass
class Outcome:
    id: str
    status: str                 # killed, timeout, survived, uncovered, equivalent, stale
    seconds: float = 0.0
    by: str = ""
    tests: list[str] = field(default_factory=list)


_SKIP = {".git", ".venv", ".mutation", "__pycache__", ".hypothesis", ".pytest_cache",
         "build", "dist"}
_OUTPUT = {Path("network_cache"), Path("profiles")}      # only their README.md is copied


def _prepare(work: Path) -> None:
    """A copy of the working tree at ``work``, with ../shared linked beside it.

    Files are copied only when their size or time differ, and caches the copy
    made itself (``__pycache__``, Numba's) are kept, so that a second run
    starts warm.
    """
    work.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for folder, dirs, files in os.walk(ROOT):
        rel = Path(folder).relative_to(ROOT)
        dirs[:] = [d for d in dirs if d not in _SKIP and not d.endswith(".egg-info")
                   and rel not in _OUTPUT]
        (work / rel).mkdir(exist_ok=True)
        for name in files:
            if rel in _OUTPUT and name != "README.md":
                continue
            src, dst = Path(folder) / name, work / rel / name
            wanted.add(rel / name)
            a = src.stat()
            b = dst.stat() if dst.exists() else None
            if b is None or (a.st_size, a.st_mtime_ns) != (b.st_size, b.st_mtime_ns):
                shutil.copy2(src, dst)
    for folder, dirs, files in os.walk(work):
        rel = Path(folder).relative_to(work)
        dirs[:] = [d for d in dirs if d not in _SKIP and rel not in _OUTPUT]
        for name in files:
            if rel / name not in wanted:
                (work / rel / name).unlink()
    shared = ROOT.parent / "shared"
    link = work.parent / "shared"
    if shared.is_dir() and not link.exists():
        link.symlink_to(shared)


def _run_one(mutant: Mutant, work: Path, mapping: dict, scale: float, budget: float) -> Outcome:
    if mutant.equivalent:
        return Outcome(mutant.id, "equivalent")
    src = work / mutant.file
    text = src.read_text()
    try:
        mutated = mutant.apply(text)
    except ValueError as exc:
        return Outcome(mutant.id, "stale", by=str(exc))
    covering = mapping["lines"].get(mutant.file, {})
    tests = {t for line in mutant.lines(text) for t in covering.get(str(line), [])}
    if IMPORT in tests:     # a line run on import: every test file that runs the module
        tests = {t for per_line in covering.values() for t in per_line} - {IMPORT}
    tests = sorted(tests, key=lambda t: (mapping["seconds"].get(t, 60.0), t))
    if not tests:
        return Outcome(mutant.id, "uncovered")
    seconds = [mapping["seconds"].get(t, 60.0) for t in tests]
    within = [t for t, spent in zip(tests, itertools.accumulate(seconds)) if spent <= budget]
    tests, skipped = (within or tests[:1]), tests[len(within or tests[:1]):]
    usual = sum(mapping["seconds"].get(t, 60.0) for t in tests)
    limit = 3 * usual * scale + 120
    stat = src.stat()
    start = time.perf_counter()
    try:
        src.write_text(mutated)
        rc, output = _pytest(work, ["-x", *tests], limit)
    finally:
        src.write_text(text)
        os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    seconds = time.perf_counter() - start
    if rc is None:
        return Outcome(mutant.id, "timeout", seconds, tests=tests)
    if rc in (1, 2):
        failed = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - |$)", output, re.MULTILINE)
        by = failed[1] if failed else f"exit {rc}"
        # The test that failed must pass without the mutant (checked once per test).
        check = [by] if failed else ["--collect-only", *tests]
        if by not in _PASSING:
            if _pytest(work, check, limit)[0] != 0:
                return Outcome(mutant.id, "error", seconds, f"{by} fails without the mutant",
                               tests)
            _PASSING.add(by)
        return Outcome(mutant.id, "killed", seconds, by, tests)
    if rc == 0:
        note = f"{len(skipped)} test files over the budget not run" if skipped else ""
        return Outcome(mutant.id, "survived", seconds, note, tests)
    return Outcome(mutant.id, "error", seconds, f"pytest exit {rc}: {output[-200:]}", tests)


_PASSING: set[str] = set()       # tests seen passing on the unmutated copy


def _pytest(work: Path, args: list[str], limit: float) -> tuple[int | None, str]:
    """pytest in the working copy: (exit status or None on timeout, output)."""
    env = dict(os.environ, PYTHONPATH=str(work), PYTHONDONTWRITEBYTECODE="1")
    shutil.rmtree(work / ".hypothesis", ignore_errors=True)
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "--hypothesis-seed=0", "-m", "not browser", *args],
                              cwd=work, env=env, capture_output=True, text=True, timeout=limit,
                              check=False)
    except subprocess.TimeoutExpired:
        return None, ""
    return proc.returncode, proc.stdout


def run(mutants: list[Mutant], jobs: int, scale: float, budget: float) -> list[Outcome]:
    mapfile = STATE / "map.json"
    if not mapfile.exists():
        _fail(f"{mapfile}: missing; run `python {Path(__file__).relative_to(ROOT)} map` first "
              "(one coverage run of the suite)")
    mapping = json.loads(mapfile.read_text())
    works = [STATE / f"work-{k}" / "repo" for k in range(jobs)]
    for work in works:
        _prepare(work)
    queue = list(mutants)
    outcomes: dict[str, Outcome] = {}
    free = list(works)
    with cf.ThreadPoolExecutor(jobs) as pool:
        pending = {}
        while queue or pending:
            while queue and free:
                mutant, work = queue.pop(0), free.pop()
                pending[pool.submit(_run_one, mutant, work, mapping, scale, budget)] = (mutant, work)
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                mutant, work = pending.pop(fut)
                free.append(work)
                outcome = fut.result()
                outcomes[mutant.id] = outcome
                detail = outcome.by or (", ".join(outcome.tests[:3]) if outcome.tests else "")
                print(f"{outcome.status:>10} {outcome.seconds:6.1f}s {mutant.id:<16} "
                      f"{mutant.file}:{mutant.line or ''} {mutant.describe()[:70]}  [{detail}]",
                      flush=True)
    return [outcomes[m.id] for m in mutants]


def totals(outcomes: list[Outcome]) -> dict:
    count = {s: sum(o.status == s for o in outcomes)
             for s in ("killed", "timeout", "survived", "uncovered", "equivalent", "stale",
                       "error")}
    scored = len(outcomes) - count["equivalent"] - count["stale"]
    caught = count["killed"] + count["timeout"]
    count["mutants"] = len(outcomes)
    count["kill_rate"] = round(caught / scored, 4) if scored else math.nan
    return count


def main(argv: list[str] | None = None) -> int:
    global LIST, STATE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=LIST, help=f"the mutants (default {LIST.name})")
    parser.add_argument("--state", type=Path, default=STATE,
                        help="the map and the working copies (default .mutation)")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="draw a new fixed list (keeps hand-written mutants)")
    gen.add_argument("--seed", type=int, default=16)
    gen.add_argument("--count", type=int, default=100)
    mp = sub.add_parser("map", help="coverage run: which test files run which lines")
    mp.add_argument("--merge", action="store_true",
                    help="run only the test files given and merge them into the map")
    mp.add_argument("pytest_args", nargs="*")
    rn = sub.add_parser("run", help="run the mutants")
    rn.add_argument("--only", nargs="*", help="mutant ids (default: all)")
    rn.add_argument("--jobs", type=int, default=1)
    rn.add_argument("--slow", type=float, default=1.0,
                    help="time limit factor for a loaded machine (default 1)")
    rn.add_argument("--budget", type=float, default=math.inf,
                    help="seconds of usual test time per mutant: only the fastest covering "
                         "test files up to this sum run, for a quick look (default: all; "
                         "a mutant that survives them counts as surviving)")
    rn.add_argument("--json", type=Path)
    sub.add_parser("list", help="print the list")
    args = parser.parse_args(argv)
    LIST, STATE = args.list.resolve(), args.state.resolve()
    if not LIST.exists() and args.command != "generate":
        _fail(f"{LIST}: no such file; expected a list of mutants (see `generate`)")
    if args.command == "generate":
        kept = [m for m in load() if m.find] if LIST.exists() else []
        header = LIST.read_text().split("\n[[mutant]]")[0] if LIST.exists() else "# mutants"
        save(kept + generate(args.seed, args.count), header)
        return 0
    if args.command == "map":
        if args.merge and not args.pytest_args:
            _fail("map --merge: no test files given; expected the files to map again")
        build_map(args.pytest_args, args.merge)
        return 0
    mutants = load()
    if args.command == "list":
        for m in mutants:
            mark = f"  (equivalent: {m.equivalent})" if m.equivalent else ""
            print(f"{m.id:<16} {m.file}:{m.line or ''} {m.describe()}{mark}")
        return 0
    if args.only:
        unknown = set(args.only) - {m.id for m in mutants}
        if unknown:
            _fail(f"{LIST}: no mutant {min(unknown)!r}; expected ids from `list`")
        mutants = [m for m in mutants if m.id in set(args.only)]
    start = time.perf_counter()
    outcomes = run(mutants, args.jobs, args.slow, args.budget)
    summary = totals(outcomes)
    print(f"\n{summary['mutants']} mutants: {summary['killed']} killed, {summary['timeout']} "
          f"timed out, {summary['survived']} survived, {summary['uncovered']} on lines no test "
          f"runs, {summary['equivalent']} equivalent, {summary['stale']} stale, "
          f"{summary['error']} errors; kill rate {summary['kill_rate']:.1%} "
          f"in {time.perf_counter() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"totals": summary,
                                         "mutants": [o.__dict__ for o in outcomes]}, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
