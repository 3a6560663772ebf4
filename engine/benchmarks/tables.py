"""Proof run: each benchmark table (benchmarks/models.py) as a stranger's own data.

For every table: the table is written to a CSV, a fresh copy of the project is made (the
working tree's files in a new single-commit git repository, as "Use this template" makes
one: tests/project.py ``clone``), and the README's "Bring your own data" commands run in it,
one after the other, with the project's own venv built by ``make install`` (uv from PATH):

    make init DATA=<table>.csv TARGET=<target>
    make run
    make serve        (step "serve": in the background; 20 test rows are POSTed to /predict
                       and the answers compared with the pipeline model's own predict)
    make test

``diabetes+leak`` carries a column computed from the target (``log_progression``): ``make
init`` must stop naming it. Both ways out are then taken, each in its own copy:
``diabetes+leak (dropped)`` runs init again without the column (``DROP=log_progression``),
``diabetes+leak (confirmed)`` lists it under ``contract.leakage_confirmed`` in params.yaml
(what a user does when the column truly is known at prediction time) and runs init again.

Every command's exit code, wall time and last lines of output are recorded, and for ``make
test`` the passed/skipped/failed counts from its JUnit XML; a JSON record is written next to
the copies. ``make test`` is the project's whole suite (~10+ min on 2 cores): tables run one
at a time, never in parallel. This is a proof run, not a test of the suite.

Usage: .venv/bin/python -m benchmarks.tables [--tables digits0 ...] [--steps init run serve test]
           [--out DIR]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.models import TABLES
from mlops_engine.params_file import render
from tests.project import BIN, clone, env, stop_group
from tests.workflows.act import uv_bin_dir

LEAK = "log_progression"
VARIANTS = {
    "digits0": ("digits0", ()),
    "anes96": ("anes96", ()),
    "diabetes+leak (dropped)": ("diabetes+leak", ("drop",)),
    "diabetes+leak (confirmed)": ("diabetes+leak", ("confirm",)),
    "star98": ("star98", ()),
}
DEFAULT = ["digits0", "anes96", "diabetes+leak (dropped)", "star98"]


@dataclass
class Step:
    command: str
    exit_code: int
    seconds: float
    tail: str
    tests: dict[str, int] = field(default_factory=dict)
    expected_exit: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == self.expected_exit


def project_env() -> dict[str, str]:
    """The copy's own venv, not this one: uv on PATH, this venv's bin and VIRTUAL_ENV off."""
    base = env()
    base.pop("VIRTUAL_ENV", None)
    path = [p for p in base["PATH"].split(os.pathsep) if p != str(BIN)]
    return {**base, "PATH": os.pathsep.join([uv_bin_dir(), *path])}


def sh(project: Path, command: str, expected: int = 0, timeout: float = 3600) -> Step:
    start = time.perf_counter()
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = round(time.perf_counter() - start, 1)
    output = (proc.stdout + proc.stderr).strip().splitlines()
    step = Step(command, proc.returncode, seconds, "\n".join(output[-25:]), expected_exit=expected)
    print(f"  {'ok ' if step.ok else 'BAD'} exit {step.exit_code} in {seconds:7.1f} s: {command}")
    return step


def junit_counts(path: Path) -> dict[str, int]:
    counts = {"passed": 0, "skipped": 0, "failed": 0}
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


TEST_ROWS = """
import json
from mlops_engine import storage
from mlops_engine.config import load_params
c = load_params("params.yaml").contract
rows = storage.read_parquet("data/processed/test.parquet")[c.features].head(20)
records = json.loads(rows.to_json(orient="records", date_format="iso"))
predicted = storage.read_model("models/model.joblib").predict(rows).tolist()
print(json.dumps({"records": records, "predicted": predicted}))
"""


def serve(project: Path, work: Path) -> Step:
    """`make serve` as a user runs it, one request of 20 test rows, each answer compared with
    the pipeline model's ``predict`` (the tuned threshold included), the server stopped.
    Port 3000 is fixed: the docs tests' lock on it is taken (tests/docs/walkthrough.py)."""
    start = time.perf_counter()
    one = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", TEST_ROWS],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(one.stdout.strip().splitlines()[-1])
    lock = (Path(tempfile.gettempdir()) / "mlops-template-docs-port.lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    log = (work / "serve.log").open("w")
    server = subprocess.Popen(
        ["bash", "-c", "exec make serve"],
        cwd=project,
        env={**project_env(), "BENTOML_HOME": str(work / "bentoml")},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    answer, code = "", 1
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen("http://127.0.0.1:3000/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        body = json.dumps({"records": expected["records"]}).encode()
        request = urllib.request.Request(
            "http://127.0.0.1:3000/predict",
            data=body,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = r.read().decode()
        got = [a["prediction"] for a in json.loads(answer)]
        want = expected["predicted"]
        same = [
            g == w if isinstance(w, str) else abs(g - w) <= 1e-6 * max(abs(w), 1)
            for g, w in zip(got, want, strict=True)
        ]
        code = 0 if all(same) else 1
        answer = answer[:300] + f"...\nserved = pipeline's predict on {sum(same)}/{len(same)} rows"
    except Exception as err:  # the record says what failed
        answer += f"\n{type(err).__name__}: {err}"
    finally:
        stop_group(server)
        lock.close()
        log.close()
    seconds = round(time.perf_counter() - start, 1)
    tail = "\n".join((work / "serve.log").read_text().splitlines()[-10:]) + "\n" + answer
    step = Step("make serve + POST /predict (20 test rows)", code, seconds, tail)
    print(f"  {'ok ' if step.ok else 'BAD'} exit {code} in {seconds:7.1f} s: {step.command}")
    return step


def prove(variant: str, out: Path, steps: list[str]) -> dict:
    table, ways = VARIANTS[variant]
    frame, target = TABLES[table]()
    slug = table.replace("+", "_")
    work = out / variant.replace(" ", "_").replace("(", "").replace(")", "").replace("+", "_")
    work.mkdir(parents=True)
    data = work / f"{slug}.csv"
    frame.to_csv(data, index=False)
    project = clone(work / "project")
    record: dict = {"variant": variant, "rows": len(frame), "target": target, "steps": []}
    print(f"{variant}: {len(frame)} rows -> {data}; project {project}")

    def run(command: str, expected: int = 0, timeout: float = 3600) -> Step:
        step = sh(project, command, expected, timeout)
        record["steps"].append(asdict(step) | {"ok": step.ok})
        return step

    run("make install")
    init = f"make init DATA={data} TARGET={target}"
    if table == "diabetes+leak":
        stopped = run(init, expected=2)  # make's 2: the command failed
        record["leak_named"] = f"'{LEAK}' alone predicts '{target}'" in stopped.tail
        if "drop" in ways:
            init += f" DROP={LEAK}"
        if "confirm" in ways:  # the user's edit of params.yaml, then init again
            text = render(project / "params.yaml", {"contract.leakage_confirmed": [LEAK]})
            (project / "params.yaml").write_text(text)
    if "init" in steps:
        run(init)
    if "run" in steps:
        run("make run")
    if "serve" in steps:
        step = serve(project, work)
        record["steps"].append(asdict(step) | {"ok": step.ok})
    if "test" in steps:
        junit = work / "junit.xml"
        step = run(f"make test PYTEST_ARGS='--junitxml={junit}'", timeout=5400)
        if junit.exists():
            step.tests = junit_counts(junit)
            record["steps"][-1]["tests"] = step.tests
    record["ok"] = all(s["ok"] for s in record["steps"]) and record.get("leak_named", True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="*", default=DEFAULT, choices=list(VARIANTS))
    parser.add_argument("--steps", nargs="*", default=["init", "run", "serve", "test"])
    parser.add_argument("--out", type=Path, default=None, help="default: a new temp dir")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="mlops-tables-"))
    records = [prove(v, out, args.steps) for v in args.tables]  # one at a time, by design
    (out / "tables.json").write_text(json.dumps(records, indent=2))
    print(f"\nrecord: {out / 'tables.json'}")
    for r in records:
        print(f"{r['variant']}: {'green' if r['ok'] else 'NOT GREEN'}")
        for s in r["steps"]:
            tests = f" {s['tests']}" if s.get("tests") else ""
            print(f"  exit {s['exit_code']} {s['seconds']:7.1f} s  {s['command']}{tests}")
    raise SystemExit(0 if all(r["ok"] for r in records) else 1)


if __name__ == "__main__":
    main()
