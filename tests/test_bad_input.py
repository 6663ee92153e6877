"""The project's own bad-input corpus (issue #21, "Done when"): what a hostile new user types into
each of the twelve commands, and what each command must do with it.

How the corpus is organised
---------------------------
The cases are a table, tests/bad_input_cases.yaml: one list per command (privsim, privsim-report,
privsim-reproduce, privsim-figure, privsim-clv, privsim-params, privsim-sensitivity,
privsim-calibrate, privsim-optimize, privsim-goal, privsim-app, privsim-whatif); privsim's cases
are grouped by config group (a comment line per group). Each case is the argv a user types and its
expected class:

- `refused`: a clean refusal. Exit 2, ONE line on stderr that matches `says` (the key or file
  named, with the allowed range or close known value where there is one), and nothing written,
  removed or changed on disk (every file under the case's folder, and the repository's
  results/, configs/ and docs/, hashed before and after). Tolerated around the line: argparse's
  `usage:` lines before `<prog>: error: …`, and privsim's documented hint line
  `(set HYDRA_FULL_ERROR=1 …)` (`NOISE` below: tighten it there).
- `accepted`: correct acceptance. Exit 0, no traceback, and the command did what was asked:
  `wrote` (globs that must exist afterwards), `config` (values every new config.json holds; for
  a privsim run, every plain `key=value` argument is checked this way too), `says` (a regex
  on stdout + stderr), `kept` (files that must be byte-identical afterwards); a page command
  must have reached its server start (never actually served: `cli_harness`).
- `failed`: exit 1 without a traceback, `says` on stderr (e.g. a reproduction that differs).

Every case also checks that the environment secret `SECRET_ENV` (set for the case) appears in no
output and in no file written: `${oc.env:…}` must not leak.

A case that fails today carries `xfail: "issue #21: …"` with its EXPECTED class kept: the marker
is strict, so when a fix makes the case pass, pytest reports XPASS as a failure and the marker
must be removed. `python -m pytest tests/test_bad_input.py -rxX` lists them.

Placeholders in `args`, `says` and the setup keys: `{sweep}` a finished two-job sweep (copied
fresh per case), `{run}` a finished single run, `{txrun}` a finished run with
outputs.transactions=true, `{file}` a plain text file, `{secret_file}` a file whose first line is
a secret, `{missing}` a path that does not exist, `{case}` the case's own folder (cwd; default
output folders land there), `{port}` a free TCP port, `{busy_port}` a port held open during the
case. In `says`, a path placeholder stands for the path's (distinctive) name. An argument that is
exactly `{sweep_args}` expands to the command that made `{sweep}`.

Setup keys: `edit: {relative/path: text}` writes files before the case (e.g. a garbage
plan.json), `remove: [relative/path]` deletes them, `specs: {group/name.yaml: text}` adds a study
spec to a copy of configs/ that the study commands then read (a malformed spec).

How to add a case: add an entry to the command's list in tests/bad_input_cases.yaml with a
unique `id`, `args`, `expect` and, for a refusal, `says`. Run
`python -m pytest tests/test_bad_input.py -k '<command>:<id>'`. If the command misbehaves today,
keep the expected class and add `xfail: "issue #21: <what happens today>"`.

Speed: each case runs its command's `main` in this process (`cli_harness.invoke`), not in a
subprocess (~2 s of imports each); accepted runs are tiny (5 days). `test_matches_a_real_process`
runs one case per command as a real subprocess to prove the harness shows what a shell shows.
The data-loss items of issue #21 that need a running sweep or a fault (two sweeps at once, a full
disk) are the tests at the end.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cli_harness import COMMANDS, SERVERS, differences, invoke, snapshot

REPO = Path(__file__).resolve().parent.parent
TABLE = Path(__file__).with_name("bad_input_cases.yaml")
EXPECTED = {"refused": 2, "accepted": 0, "failed": 1}
CASE_KEYS = {"id", "args", "expect", "says", "xfail", "wrote", "config", "kept", "edit", "remove",
             "specs", "why"}  # fmt: skip
NOISE = (re.compile(r"^privsim: \(set HYDRA_FULL_ERROR=1 for the full stack trace\)$"),)
SECRET_ENV = "PRIVSIM_CORPUS_SECRET"
SECRET = "corpus-secret-5b1e0c"  # the value of SECRET_ENV, and the first line of {secret_file}

# The fixtures' names are distinctive, so that `says` can require a path to be named.
NAMES = {
    "sweep": "finished_sweep",
    "run": "finished_run",
    "txrun": "tx_run",
    "file": "plain_file.txt",
    "secret_file": "secret_line.csv",
    "missing": "no_such_dir",
}
TINY = ["horizon_days=5", "strategy.phases.0.daily_users=5"]
SWEEP_ARGS = ["-m", "seed=0,1", *TINY]  # what made {sweep}: jobs 0 and 1
GROUP_KEYS = {"pool", "business", "strategy", "channels", "touchpoints"}


# ---------------------------------------------------------------------------- the table


def load_cases() -> list:
    table = yaml.safe_load(TABLE.read_text())
    params, seen = [], set()
    for command, cases in table.items():
        if command.startswith("_"):  # shared xfail reasons (YAML anchors)
            continue
        assert command in COMMANDS, f"{TABLE.name}: unknown command {command}"
        for case in cases:
            assert set(case) <= CASE_KEYS, f"{command}:{case.get('id')}: {set(case) - CASE_KEYS}"
            assert case["expect"] in EXPECTED, f"{command}:{case['id']}: expect"
            assert case["expect"] != "refused" or case.get("says"), f"{command}:{case['id']}"
            name = f"{command}:{case['id']}"
            assert name not in seen, f"duplicate case {name}"
            seen.add(name)
            marks = []
            if reason := case.get("xfail"):
                assert reason.startswith("issue #21"), f"{name}: xfail reason names the issue"
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            params.append(pytest.param(command, case, id=name, marks=marks))
    return params


CASES = load_cases()


def test_the_corpus_covers_every_command_and_config_group():
    """Issue #21's bar: >= 200 cases over every command and config group."""
    assert len(CASES) >= 200, len(CASES)
    commands = {p.values[0] for p in CASES}
    assert commands == set(COMMANDS), set(COMMANDS) - commands
    privsim = [p.values[1] for p in CASES if p.values[0] == "privsim"]
    privsim_args = " ".join(" ".join(case["args"]) for case in privsim)
    for group in ("pool", "touchpoints", "business", "channels", "strategy", "operators", "koc",
                  "trust", "purchase", "churn", "referral", "systems", "economics", "fit",
                  "outputs", "experiment", "hydra.launcher", "hydra/launcher"):  # fmt: skip
        assert re.search(rf"(^| |\+){re.escape(group)}[.=]", privsim_args), group


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The finished outputs cases start from, made once in this process."""
    root = tmp_path_factory.mktemp("made")
    runs = {
        "sweep": [*SWEEP_ARGS, f"hydra.sweep.dir={root / NAMES['sweep']}"],
        "run": [*TINY, f"hydra.run.dir={root / NAMES['run']}"],
        "txrun": [*TINY, "outputs.transactions=true", f"hydra.run.dir={root / NAMES['txrun']}"],
    }
    for name, argv in runs.items():
        o = invoke("privsim", argv, root)
        assert o.code == 0, f"{name}: {o.err}"
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Case:
    """One case made concrete in its own folder: placeholders filled, fixtures copied in."""

    def __init__(self, case: dict, made: Path, folder: Path, monkeypatch):
        self.case, self.made, self.folder = case, made, folder
        self.paths = {k: folder / v for k, v in NAMES.items()}
        self.port = free_port()
        self.busy = None
        self.monkeypatch = monkeypatch

    def fill(self, text: str) -> str:
        for k, p in self.paths.items():
            text = text.replace("{" + k + "}", str(p))
        return (
            text.replace("{case}", str(self.folder))
            .replace("{port}", str(self.port))
            .replace("{busy_port}", str(self.port))
        )

    def pattern(self, text: str) -> str:
        """`says` with a path placeholder standing for the path's name (regex-escaped)."""
        for k, name in NAMES.items():
            text = text.replace("{" + k + "}", re.escape(name))
        return text.replace("{port}", str(self.port))

    def argv(self) -> list[str]:
        out = []
        for a in self.case.get("args", []):
            out.extend(SWEEP_ARGS if a == "{sweep_args}" else [self.fill(str(a))])
        return out

    def prepare(self) -> None:
        text = json.dumps(self.case)
        for k in ("sweep", "run", "txrun"):
            if "{" + k + "}" in text or any(p.startswith(NAMES[k]) for p in self._setup_paths()):
                shutil.copytree(self.made / NAMES[k], self.paths[k])
        self.paths["file"].write_text("not a folder\n")
        self.paths["secret_file"].write_text(f"{SECRET},day\n1,2\n")
        for rel, content in (self.case.get("edit") or {}).items():
            (self.folder / rel).write_text(content)
        for rel in self.case.get("remove") or []:
            (self.folder / rel).unlink()
        if specs := self.case.get("specs"):
            configs = self.folder / "configs_copy"
            shutil.copytree(REPO / "configs", configs)
            for rel, content in specs.items():
                (configs / rel).write_text(content)
            self.monkeypatch.setattr("sim.experiment.config.CONFIG_DIR", str(configs))
        if "{busy_port}" in text:
            self.busy = socket.socket()
            self.busy.bind(("127.0.0.1", self.port))
            self.busy.listen()

    def _setup_paths(self) -> list[str]:
        return [*(self.case.get("edit") or {}), *(self.case.get("remove") or [])]

    def close(self) -> None:
        if self.busy is not None:
            self.busy.close()


def message_lines(err: str) -> list[str]:
    """stderr's lines less the tolerated noise: argparse's usage block before
    `<prog>: error: …`, and privsim's documented hint line."""
    lines, in_usage = [], False
    for line in err.splitlines():
        if line.startswith("usage:"):
            in_usage = True
            continue
        if in_usage and line.startswith(" "):
            continue
        in_usage = False
        if line.strip() and not any(n.match(line) for n in NOISE):
            lines.append(line)
    return lines


def new_configs(before: dict, after: dict) -> list[Path]:
    return [Path(p) for p in sorted(after.keys() - before.keys()) if p.endswith("/config.json")]


def plain_overrides(argv: list[str]) -> dict:
    """A privsim run's `key=value` arguments that its config.json must hold (not Hydra's own,
    not sweeps, not additions or deletions, not `seed=null`, which draws a seed)."""
    if "-m" in argv or "--multirun" in argv:
        return {}
    out = {}
    for a in argv:
        key, eq, value = a.partition("=")
        if not eq or key.startswith(("hydra", "+", "~", "-")) or key == "experiment":
            continue
        v = yaml.safe_load(value)
        if v is None and key == "seed":
            continue
        out[key] = v
    return out


def lookup(cfg: dict, dotted: str):
    node = cfg
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, dict) and "name" in node:
        return node["name"]  # a group choice: pool=conversion
    return node


def written_text(before: dict, after: dict) -> str:
    """The bytes of every file written or changed, as text (to look for a leaked secret)."""
    chunks = []
    for p in sorted(after):
        if after[p][0] == "file" and before.get(p) != after[p]:
            chunks.append(Path(p).read_bytes().decode("utf-8", "replace"))
    return "\n".join(chunks)


# ---------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("command, case", CASES)
def test_bad_input(command, case, made, tmp_path, monkeypatch):
    folder = tmp_path / "case"
    folder.mkdir()
    c = Case(case, made, folder, monkeypatch)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    try:
        c.prepare()
        roots = [folder, REPO / "results", REPO / "configs", REPO / "docs"]
        before = snapshot(*roots)
        argv = c.argv()
        o = invoke(command, argv, folder)
        after = snapshot(*roots)
    finally:
        c.close()
    shown = f"$ {command} {' '.join(argv)}\nexit {o.code}\nstderr:\n{o.err}\nstdout:\n"
    shown += o.out[-2000:]
    expect = case["expect"]
    assert SECRET not in o.out + o.err, f"a secret was echoed\n{shown}"
    assert SECRET not in written_text(before, after), f"a secret was written\n{shown}"
    assert o.code == EXPECTED[expect], f"expected {expect}\n{shown}"
    if expect == "refused":
        lines = message_lines(o.err)
        assert len(lines) == 1, f"not one line\n{shown}"
        assert re.search(c.pattern(case["says"]), lines[0]), f"does not name it\n{shown}"
        changed = differences(before, after)
        assert not changed, "a refusal touched the disk:\n" + "\n".join(changed[:20]) + f"\n{shown}"
        assert not o.served, shown
        return
    assert "Traceback" not in o.err, shown
    if says := case.get("says"):
        assert re.search(c.pattern(says), o.out + o.err), f"does not say {says!r}\n{shown}"
    if expect == "failed":
        return
    if command in SERVERS:
        assert o.served, f"did not start its server\n{shown}"
    for pattern in case.get("wrote") or []:
        assert list(folder.glob(c.fill(pattern))), f"wrote no {pattern}\n{shown}"
    for rel in case.get("kept") or []:
        p = str(folder / rel)
        assert before.get(p) == after.get(p), f"{rel} changed\n{shown}"
    auto = command == "privsim" and not case.get("kept")  # a resumed run writes no config.json
    expected = {**(plain_overrides(argv) if auto else {}), **(case.get("config") or {})}
    if expected:
        configs = new_configs(before, after)
        assert configs, f"no config.json written\n{shown}"
        for path in configs:
            cfg = json.loads(path.read_text())
            for key, value in expected.items():
                assert lookup(cfg, key) == value, f"{path}: {key} != {value!r}\n{shown}"


# ---------------------------------------------------------------------------- real processes


def script(command: str) -> list[str]:
    exe = Path(sys.executable).parent / command
    return [str(exe)] if exe.exists() else [sys.executable, "-m", COMMANDS[command]]


# One case per command, run as a real subprocess: same exit code, same message lines.
REAL = [
    ("privsim", ["pool.promo_shar=0.1"]),  # found by Hydra while composing
    ("privsim", ["pool.promo_share=1.5"]),  # found by the model's schema, inside Hydra's job
    ("privsim-report", ["no_such_dir"]),
    ("privsim-reproduce", ["no_such_dir"]),
    ("privsim-figure", ["premature_scaling", "--seeds", "0"]),
    ("privsim-clv", ["no_such_dir"]),
    ("privsim-params", ["--write", "--check"]),
    ("privsim-sensitivity", ["premature_scalin"]),
    ("privsim-calibrate", ["synthetic_bran"]),
    ("privsim-optimize", ["staged_polic"]),
    ("privsim-goal", ["team_for_conversio"]),
    ("privsim-app", ["--port", "abc"]),
    ("privsim-whatif", ["--seeds", "-1"]),
]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Every `REAL` case as a real process, all started at once (the imports overlap)."""
    root = tmp_path_factory.mktemp("real")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = []
    for i, (command, argv) in enumerate(REAL):
        (root / str(i)).mkdir()
        procs.append(subprocess.Popen(
            [*script(command), *argv], cwd=root / str(i), env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        ))  # fmt: skip
    done = []
    for p in procs:
        _, err = p.communicate(timeout=180)
        done.append((p.returncode, err))
    return done


@pytest.mark.parametrize("i", range(len(REAL)), ids=[f"{c} {' '.join(a)}" for c, a in REAL])
def test_matches_a_real_process(i, real, tmp_path):
    command, argv = REAL[i]
    code, err = real[i]
    mine = invoke(command, argv, tmp_path)
    assert (mine.code, message_lines(mine.err)) == (code, message_lines(err)), err


# ---------------------------------------------------------------------------- data loss (faults)


@pytest.mark.slow
def test_a_second_sweep_into_a_running_sweeps_folder_is_refused(tmp_path):
    """Item 4: while one sweep runs, the same command into the same folder is refused (exit 2,
    naming the folder), and the first finishes cleanly with no error.txt in any job."""
    sweep = tmp_path / NAMES["sweep"]
    args = ["-m", "seed=0,1,2", "horizon_days=150", f"hydra.sweep.dir={sweep}"]
    first = subprocess.Popen(
        [*script("privsim"), *args], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 60
        while not (sweep / "plan.json").exists() and first.poll() is None:
            assert time.time() < deadline, "the first sweep never started"
            time.sleep(0.1)
        assert first.poll() is None, "the first sweep ended before the second could start"
        (tmp_path / "second").mkdir()
        second = invoke("privsim", args, tmp_path / "second")
        assert first.poll() is None, "the first sweep ended while the second ran: make it longer"
    finally:
        out, err = first.communicate(timeout=300)
    assert second.code == 2, second.err
    lines = message_lines(second.err)
    assert len(lines) == 1 and NAMES["sweep"] in lines[0], second.err
    assert first.returncode == 0, err
    assert not list(sweep.glob("*/error.txt"))


def test_a_full_disk_while_hydra_writes_a_jobs_config_fails_that_job_alone(tmp_path, monkeypatch):
    """Item 5: the disk fills while Hydra saves job 1's `.hydra/config.yaml`: that job is recorded
    as failed, the others finish, the sweep reports and exits 1 without a traceback. The fault is
    injected where the bytes reach the disk (the atomic write under Hydra's record saving,
    `sim.experiment.hydra_records`), half the file written first."""
    import sim.experiment.hydra_records as records

    real = records.atomic_write
    calls = []

    def write(path, writer):
        calls.append(path)
        if Path(path).parent.parent.name == "1" and Path(path).name == "config.yaml":
            Path(f"{path}.tmp").write_text("seed: ")  # the truncated file
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, writer)

    monkeypatch.setattr(records, "atomic_write", write)
    sweep = tmp_path / NAMES["sweep"]
    o = invoke("privsim", ["-m", "seed=0,1,2", *TINY, f"hydra.sweep.dir={sweep}"], tmp_path)
    assert calls, "Hydra's job records no longer go through hydra_records: update this test"
    assert o.code == 1 and "Traceback" not in o.err, o.err
    assert "job 1" in o.err
    for job in ("0", "2"):
        assert (sweep / job / "summary.json").exists()
    import pandas as pd

    status = pd.read_parquet(sweep / "summary.parquet").set_index("job")["status"]
    assert status.to_dict() == {"0": "finished", "1": "failed", "2": "finished"}


def test_the_harness_sees_a_written_file(tmp_path):
    """The snapshot that proves "nothing written" does see a write, a removal and a change."""
    (tmp_path / "a").write_text("1")
    (tmp_path / "b").write_text("2")
    before = snapshot(tmp_path)
    (tmp_path / "a").write_text("3")
    (tmp_path / "b").unlink()
    (tmp_path / "d").mkdir()
    assert differences(before, snapshot(tmp_path)) == [
        f"written: {tmp_path / 'd'}",
        f"removed: {tmp_path / 'b'}",
        f"changed: {tmp_path / 'a'}",
    ]


def test_the_harness_turns_an_escaping_exception_into_a_traceback(tmp_path, monkeypatch):
    """An exception escaping `main` reads as a real process shows it: trace, exit 1."""
    import sim.cli.params as params

    def boom(argv=None):
        raise IndexError("list index out of range")

    monkeypatch.setattr(params, "main", boom)
    o = invoke("privsim-params", [], tmp_path)
    assert o.code == 1 and "Traceback" in o.err and "IndexError" in o.err
