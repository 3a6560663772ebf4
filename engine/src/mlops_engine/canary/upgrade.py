"""The dependency canary: the project on the newest releases of its dependencies, ahead of
Dependabot and of users, without touching the committed lock file.

``run`` resolves an upgraded lock (``uv lock --upgrade``, or narrower ``uv lock`` flags, and
optionally requirements that override pyproject's ranges), installs it with the extras the
test tier needs (the Makefile's, as ``make test-fast`` installs them) into a separate
environment (``build/canary/venv``; ``.venv`` is not touched), puts the committed
``uv.lock`` and ``pyproject.toml`` back at once, then runs the pipeline (``dvc repro -f``:
every stage, so every package the stages import is exercised) and a test tier with that
environment's tools. It records which packages moved (the upgraded lock against the
committed one), each step's outcome and first error line, and which moved packages the
error names (their modules in the traceback): the suspects. Bisecting the upgrade would
take one install plus pipeline plus tests per trial; naming the moved packages and the ones
the error points at is what a weekly run can afford, and is usually enough to act on.

``report`` turns that record into one GitHub issue, updated in place while the upgrade
breaks and closed when everything passes again, and into the job summary (always, and the
only output when the repository has issues turned off). The issue body is capped like the
PR report (GitHub refuses a body over 65,536 characters; ``caps.cap``), and a write
GitHub refuses, or no ``gh`` at all, fails the job with gh's message: a canary that cannot
speak must not stay green.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlops_engine.gh import Gh
from mlops_engine.gh import run as gh_run
from mlops_engine.lock_diff import Move, changed_outputs, moved_packages

MARKER = "<!-- mlops-template dependency canary -->"
LABEL = "dependency-canary"
TAIL_LINES = 40

# A Python exception line, as a traceback or pytest's short summary ends with it.
_EXCEPTION = re.compile(
    r"^(?:E\s+|FAILED \S+ - |ERROR \S+ - )?((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception)"
    r"(?::\s.*)?)$"
)
_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (\S+)(?: - (.*))?$")


@dataclass
class Step:
    name: str
    command: str
    ok: bool
    seconds: float
    first_error: str = ""
    log_tail: str = ""
    failing: list[str] = field(default_factory=list)  # test ids (the tests step)


@dataclass
class Result:
    upgrade: str
    override: list[str]
    moved: list[Move] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    suspects: list[Move] = field(default_factory=list)
    changed_outputs: list[str] = field(default_factory=list)  # dvc.lock outs that differ
    lock_reproduced: bool | None = None  # None: the pipeline did not finish (or no dvc.lock)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def failed(self) -> Step | None:
        return next((s for s in self.steps if not s.ok), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Result:
        raw = json.loads(text)
        return cls(
            upgrade=raw["upgrade"],
            override=raw["override"],
            moved=[Move(**m) for m in raw["moved"]],
            steps=[Step(**s) for s in raw["steps"]],
            suspects=[Move(**m) for m in raw["suspects"]],
            changed_outputs=raw["changed_outputs"],
            lock_reproduced=raw.get("lock_reproduced"),
        )


# --- errors and suspects ----------------------------------------------------------------


def first_error(output: str) -> str:
    """The line a person needs first: the first exception line (a traceback's last line or
    pytest's short summary), else the first ERROR/FAILED line, else uv's `error:` line with
    the `cause:` under it (a resolution that fails), else the last line."""
    lines = [x.rstrip() for x in output.splitlines() if x.strip()]
    for line in lines:
        m = _EXCEPTION.match(line.strip())
        if m:
            return m.group(1)
    for line in lines:
        m = _SUMMARY.match(line.strip())
        if m:
            return line.strip()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("ERROR"):
            return line.strip()
        if line.startswith("error: "):  # uv's: "error: No solution found ...", then its cause
            cause = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{line.strip()} {cause}" if cause.startswith("cause:") else line.strip()
    return lines[-1].strip() if lines else ""


def failing_tests(output: str) -> list[str]:
    """pytest's short summary (``-rfE``): the failed and errored test ids, in order."""
    return [m.group(1) for x in output.splitlines() if (m := _SUMMARY.match(x.strip()))]


def named_modules(text: str) -> list[str]:
    """Top-level module names an error names, in order: files under site-packages, quoted
    dotted names (``from 'pandas.core.dtypes.common'``) and ``No module named 'x'``."""
    found: list[str] = []
    patterns = (
        r"site-packages/([A-Za-z_]\w*)",
        r"'([A-Za-z_]\w*)(?:\.[\w.]+)?'",
        r"No module named '([A-Za-z_]\w*)",
    )
    hits = sorted((m.start(), m.group(1)) for p in patterns for m in re.finditer(p, text))
    for _, name in hits:
        if name not in found:
            found.append(name)
    return found


def suspects(
    error_line: str, output: str, moved: Sequence[Move], dists: Mapping[str, Sequence[str]]
) -> list[Move]:
    """The moved packages the failure points at: those whose modules the first error line
    names, in the order it names them, then those the rest of the output names (a
    traceback's frames); ``dists`` maps a top-level module to its distributions."""
    by_name = {_norm(m.name): m for m in moved if m.new is not None}
    found: list[Move] = []
    for text in (error_line, output):
        for module in named_modules(text):
            for dist in dists.get(module, [module]):
                move = by_name.get(_norm(dist))
                if move and move not in found:
                    found.append(move)
        if found:
            break
    return found


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- the run ----------------------------------------------------------------------------


@dataclass
class Settings:
    """What ``make canary`` was asked to do (environment variables in the workflow)."""

    upgrade: str = "--upgrade"  # uv lock flags: which packages may move
    override: list[str] = field(default_factory=list)  # requirements over pyproject's ranges
    tests: str = '-m "not slow" -n auto'  # pytest arguments: the tier to run
    # pyproject extras to install with the upgrade: what `make test-fast` installs (the
    # Makefile passes its EXTRAS and TESTS_NEED as CANARY_EXTRAS), or the tier's S3 tests
    # fail for want of s3fs whatever the upgrade
    extras: list[str] = field(default_factory=list)
    pipeline: str = "dvc repro -f"
    out: Path = Path("build/canary")


def _timed(
    name: str, command: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path
) -> tuple[Step, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        list(command), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    output = proc.stdout + proc.stderr
    log.write_text(output)
    tail = "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])
    step = Step(
        name=name,
        command=shlex.join(command),
        ok=proc.returncode == 0,
        seconds=round(time.perf_counter() - start, 1),
        first_error="" if proc.returncode == 0 else first_error(output),
        log_tail="" if proc.returncode == 0 else tail,
    )
    return step, output


def _with_override(pyproject: str, override: Sequence[str]) -> str:
    """pyproject.toml with ``[tool.uv] override-dependencies`` (uv replaces every requirement
    on those packages, the project's and its dependencies', with these)."""
    if not override:
        return pyproject
    doc = tomllib.loads(pyproject)
    if "override-dependencies" in doc.get("tool", {}).get("uv", {}):
        raise ValueError("pyproject.toml already sets [tool.uv] override-dependencies")
    line = f"override-dependencies = {json.dumps(list(override))}\n"
    if re.search(r"^\[tool\.uv\]\s*$", pyproject, flags=re.M):
        return re.sub(r"^\[tool\.uv\]\s*$", "[tool.uv]\n" + line.rstrip(), pyproject, flags=re.M)
    return pyproject + "\n[tool.uv]\n" + line


def run(root: Path, settings: Settings, uv: str = "uv") -> Result:
    """The canary in ``root`` (the project). The committed uv.lock and pyproject.toml are
    restored before anything runs on the upgraded environment, whatever happens."""
    out = root / settings.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = Result(upgrade=settings.upgrade, override=list(settings.override))
    lock, pyproject = root / "uv.lock", root / "pyproject.toml"
    committed_lock, committed_pyproject = lock.read_text(), pyproject.read_text()
    (out / "uv.lock.committed").write_text(committed_lock)
    committed_dvc_lock = (root / "dvc.lock").read_text() if (root / "dvc.lock").exists() else ""
    venv = out / "venv"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    try:
        pyproject.write_text(_with_override(committed_pyproject, settings.override))
        step, _ = _timed(
            "resolve the newest releases",
            [uv, "lock", *shlex.split(settings.upgrade)],
            root,
            env,
            out / "lock.log",
        )
        result.steps.append(step)
        upgraded = lock.read_text()
        (out / "uv.lock.upgraded").write_text(upgraded)
        result.moved = moved_packages(committed_lock, upgraded)
        if not step.ok or not result.moved:
            # A failed resolution has nothing to install. When nothing moved, the environment
            # would be the committed lock's, which every PR's checks already run: a second
            # install, `dvc repro -f` and the tests would only repeat them.
            return result  # the committed files are restored below, whatever happened
        step, _ = _timed(
            "install them",
            [uv, "sync", "--frozen", *(f"--extra={e}" for e in settings.extras)],
            root,
            {**env, "UV_PROJECT_ENVIRONMENT": str(venv)},
            out / "sync.log",
        )
        result.steps.append(step)
    finally:
        lock.write_text(committed_lock)
        pyproject.write_text(committed_pyproject)
    if not result.ok:
        return result

    bin_dir = venv / "bin"
    tools = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    tools["VIRTUAL_ENV"] = str(venv)
    outputs: dict[str, str] = {}
    for name, command, log in (
        ("pipeline", settings.pipeline, "pipeline.log"),
        (
            "tests",
            f"{bin_dir / 'pytest'} -p no:cacheprovider -q -rfE {settings.tests}",
            "tests.log",
        ),
    ):
        step, outputs[name] = _timed(name, shlex.split(command), root, tools, out / log)
        step.failing = failing_tests(outputs[name]) if not step.ok else []
        result.steps.append(step)
    failed = result.failed
    if failed is not None:
        result.suspects = suspects(
            failed.first_error, outputs[failed.name], result.moved, _distributions(bin_dir)
        )
    if committed_dvc_lock and next(s for s in result.steps if s.name == "pipeline").ok:
        result.changed_outputs = changed_outputs(
            committed_dvc_lock, (root / "dvc.lock").read_text()
        )
        result.lock_reproduced = not result.changed_outputs
    return result


def _distributions(bin_dir: Path) -> dict[str, list[str]]:
    """Top-level module -> distributions, in the upgraded environment."""
    code = "import importlib.metadata as m, json; print(json.dumps(m.packages_distributions()))"
    proc = subprocess.run(
        [str(bin_dir / "python"), "-c", code], capture_output=True, text=True, check=False
    )
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


# --- the report -------------------------------------------------------------------------


def title(result: Result | None) -> str:
    if result is None:
        return "Dependency canary: the run did not finish"
    failed = result.failed
    if failed is None:
        return "Dependency canary: the newest releases pass"
    culprits = result.suspects or result.moved
    named = ", ".join(m.describe() for m in culprits[:3]) or "the upgrade"
    return f"Dependency canary: {named} breaks {failed.name}"


def markdown(result: Result | None, run_url: str | None) -> str:
    lines = [MARKER, f"## {title(result)}", ""]
    if result is None:
        lines.append("The canary job ended before it recorded a result")
        lines += ["", f"Run: {run_url}" if run_url else ""]
        return "\n".join(lines).rstrip() + "\n"
    failed = result.failed
    what = f"`uv lock {result.upgrade}`"
    if result.override:
        what += " with " + ", ".join(f"`{o}`" for o in result.override) + " over pyproject.toml"
    lines.append(f"Upgrade tried: {what}. The committed `uv.lock` is unchanged.")
    lines.append("")
    if failed is not None:
        lines.append(f"**{failed.name}** failed (`{failed.command}`). First error:")
        lines += ["", "```", failed.first_error, "```", ""]
        if failed.failing:
            more = len(failed.failing) - 1
            lines.append(
                f"First failing test: `{failed.failing[0]}`"
                + (f" (and {more} more)" if more else "")
            )
            lines.append("")
        if result.suspects:
            lines.append(
                "Suspected (moved, and named by the error): "
                + ", ".join(f"**{m.describe()}**" for m in result.suspects)
            )
            lines.append("")
    lines.append("| step | result | seconds |")
    lines.append("|---|---|---|")
    lines += [
        f"| {s.name} | {'✅ passed' if s.ok else '❌ failed'} | {s.seconds} |" for s in result.steps
    ]
    lines.append("")
    if result.moved:
        lines.append(f"Packages that moved ({len(result.moved)}):")
        lines.append("")
        lines += [f"- {m.describe()}" for m in result.moved]
    else:
        lines.append(
            "No package moved: the lock file is already on the newest releases, the ones "
            "every pull request's checks run on, so nothing else was run."
        )
    lines.append("")
    if result.lock_reproduced:
        lines.append("The pipeline reproduces the committed `dvc.lock` bit for bit.")
        lines.append("")
    elif result.lock_reproduced is False:
        lines.append(
            "The pipeline runs but does not reproduce `dvc.lock`: "
            + ", ".join(f"`{p}`" for p in result.changed_outputs)
            + " changed. Expect the same in the Dependabot PR that brings these releases."
        )
        lines.append("")
    if failed is not None and failed.log_tail:
        lines += ["<details><summary>Log (last lines)</summary>", "", "```"]
        lines += [failed.log_tail, "```", "", "</details>", ""]
    if run_url:
        lines.append(f"Run: {run_url}")
    return "\n".join(lines).rstrip() + "\n"


# `gh issue list/create` on a repository with issues turned off (cli/cli pkg/cmd/issue):
# the repository's own choice, so the job summary is then the one place the result goes.
ISSUES_DISABLED = "repository has disabled issues"


def update_issue(result: Result | None, body_file: Path, gh: Gh = gh_run) -> str:
    """Keep the one canary issue (label ``dependency-canary``) true: open or edit it while
    something breaks, close it with a comment when everything passes. Returns what it did."""
    # A label nobody created yet filters to nothing, as on GitHub.
    found = json.loads(
        gh("issue", "list", "--label", LABEL, "--state", "open", "--json", "number,title")
    )
    found.sort(key=lambda i: i["number"])
    if result is not None and result.ok:
        if not found:
            return "passed; no open canary issue"
        comment = "The dependency canary passes again.\n\n" + body_file.read_text()
        for issue in found:
            gh("issue", "close", str(issue["number"]), "--comment", comment)
        return f"passed; closed #{', #'.join(str(i['number']) for i in found)}"
    if found:
        number = found[0]["number"]
        gh("issue", "edit", str(number), "--title", title(result), "--body-file", str(body_file))
        return f"updated #{number}"
    gh("label", "create", LABEL, "--color", "D93F0B", "--force",
       "--description", "The dependency canary found an upgrade that breaks")  # fmt: skip
    url = gh("issue", "create", "--title", title(result), "--body-file", str(body_file),
             "--label", LABEL).strip()  # fmt: skip
    return f"opened {url}"
