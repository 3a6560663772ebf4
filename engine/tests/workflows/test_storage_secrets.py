"""The storage secrets (and the endpoint variable, credentials.VARIABLES) reach every workflow
step that reads or writes storage, and no other.

Nothing here is a hand-kept list of steps: which steps touch storage is derived. The code
decides which functions reach storage (an ``fsspec`` call, or ``dvc`` with pull/push), the
call graph of src/ which ``mlops`` commands reach them, the Makefile which commands a make
target runs, and the workflow which target a step runs. mlops_engine.credentials declares
the result (STORAGE_ACCESS, STORAGE_COMMANDS, LOCAL_ONLY); these tests fail when the
declaration, the code or a workflow disagree.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from mlops_engine.credentials import (
    KEYLESS,
    LOCAL_ONLY,
    SECRETS,
    STORAGE_ACCESS,
    STORAGE_COMMANDS,
    VARIABLES,
)
from tests.project import ROOT
from tests.workflows.makefile import make_rules, needed

SRC = ROOT / "engine" / "src" / "mlops_engine"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
STORAGE_VERBS = {"pull", "push", "--pull"}


def _functions() -> dict[str, ast.FunctionDef]:
    """Every function of src/, by dotted name (module.function, nested ones flattened)."""
    found: dict[str, ast.FunctionDef] = {}
    for path in SRC.rglob("*.py"):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                found.setdefault(f"{module}.{node.name}", node)
    return found


def _touches_storage(fn: ast.FunctionDef) -> bool:
    """Calls fsspec, or runs dvc with a verb that talks to the remote."""
    strings = {n.value for n in ast.walk(fn) if isinstance(n, ast.Constant)}
    names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    runs_dvc = "dvc" in strings or "_dvc" in names
    return "fsspec" in names or (runs_dvc and bool(strings & STORAGE_VERBS))


def _calls(fn: ast.FunctionDef) -> set[str]:
    out = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            f = node.func
            out.add(f.id if isinstance(f, ast.Name) else getattr(f, "attr", ""))
    return out


def _commands_reaching(targets: set[str]) -> set[str]:
    """`mlops` commands whose function reaches one of ``targets`` (by name) in src/'s call
    graph; a name shared by two functions counts as either (errs towards secrets)."""
    from mlops_engine.cli import COMMANDS  # importing cli registers every command

    functions = _functions()
    by_name: dict[str, list[ast.FunctionDef]] = {}
    for dotted, node in functions.items():
        by_name.setdefault(dotted.rsplit(".", 1)[1], []).append(node)
    short = {t.rsplit(".", 1)[1] for t in targets}
    reaching: set[str] = set()
    for command, (fn, _, _) in COMMANDS.items():
        seen, todo = set(), [fn.__name__]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in short:
                reaching.add(command)
                break
            for node in by_name.get(name, []):
                todo.extend(_calls(node))
    return reaching


def make_commands(target: str, makefile: Path = ROOT / "Makefile") -> set[str]:
    """The `mlops` commands `make target` runs, its prerequisites' included."""
    rules = make_rules(makefile.read_text())
    if target not in rules:
        raise AssertionError(f"make {target}: no such target in {makefile}")
    return {
        command
        for name in needed(rules, target)
        for line in rules[name][1]
        for command in re.findall(r"\bmlops ([a-z][\w-]*)", line)
    }


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _steps():
    for path in WORKFLOWS:
        for job_name, job in _load(path).get("jobs", {}).items():
            for step in job.get("steps", []):
                yield f"{path.name} {job_name}: {step.get('name') or step.get('uses')}", step


# What a storage step gets: the keyless step's output first (the job's OIDC token traded for
# temporary credentials, when its repository variable is set), else the secret.
KEYLESS_ENV = {
    "AWS_ACCESS_KEY_ID": "${{ steps.aws.outputs.aws-access-key-id || secrets.AWS_ACCESS_KEY_ID }}",
    "AWS_SECRET_ACCESS_KEY": (
        "${{ steps.aws.outputs.aws-secret-access-key || secrets.AWS_SECRET_ACCESS_KEY }}"
    ),
    "AWS_SESSION_TOKEN": "${{ steps.aws.outputs.aws-session-token }}",
    "GOOGLE_APPLICATION_CREDENTIALS": "${{ steps.gcp.outputs.credentials_file_path }}",
}
STORAGE_ENV = {**{s: f"${{{{ secrets.{s} }}}}" for s in SECRETS}, **KEYLESS_ENV}


def missing_or_extra(step: dict, storage: set[str]) -> str | None:
    """Why ``step`` breaks the rule (None: it keeps it)."""
    run = str(step.get("run", ""))
    target = re.match(r"make ([\w-]+)", run)
    commands = make_commands(target.group(1)) if target else set()
    touches = sorted(commands & storage)
    env = step.get("env") or {}
    given = [s for s in STORAGE_ENV if s in env]
    if touches:
        wrong = [s for s, value in STORAGE_ENV.items() if env.get(s) != value]
        wrong += [v for v in VARIABLES if env.get(v) != f"${{{{ vars.{v} }}}}"]
        if wrong:
            return f"runs `mlops {', '.join(touches)}` (storage) without {', '.join(wrong)}"
    elif given:
        return f"gets {', '.join(given)} but touches no storage (least privilege)"
    return None


def test_the_declared_storage_functions_are_the_ones_that_touch_storage():
    functions = _functions()
    touching = {name for name, fn in functions.items() if _touches_storage(fn)}
    assert touching == set(STORAGE_ACCESS)


def test_the_declared_storage_commands_are_the_ones_that_reach_storage():
    reaching = _commands_reaching(set(STORAGE_ACCESS))
    assert reaching == set(STORAGE_COMMANDS) | set(LOCAL_ONLY)


def test_every_step_that_touches_storage_gets_the_four_secrets_and_no_other_does():
    """...and the repository variable AWS_ENDPOINT_URL (credentials.VARIABLES): without it
    a MinIO or R2 remote is asked of AWS."""
    storage = set(STORAGE_COMMANDS)
    problems = [
        f"{where}: {why}" for where, step in _steps() if (why := missing_or_extra(step, storage))
    ]
    assert problems == []
    secret_steps = [w for w, s in _steps() if set(SECRETS) & set(s.get("env") or {})]
    # pr: repro, report, gate; cd: repro-push, gate; ct: repro, monitor, repro, retrain
    assert len(secret_steps) == 9, secret_steps


def test_the_rule_catches_a_step_without_secrets_and_one_with_too_many():
    storage = set(STORAGE_COMMANDS)
    secrets = dict(STORAGE_ENV)
    assert "without AWS_ACCESS_KEY_ID" in missing_or_extra({"run": "make gate"}, storage)
    assert "mlops report" in missing_or_extra({"run": "make report"}, storage)
    assert "least privilege" in missing_or_extra({"run": "make bento", "env": secrets}, storage)
    # an S3-compatible store (MinIO, R2) is reached only through the endpoint variable
    assert missing_or_extra({"run": "make repro-push", "env": secrets}, storage) == (
        "runs `mlops repro` (storage) without AWS_ENDPOINT_URL"
    )
    full = {**secrets, "AWS_ENDPOINT_URL": "${{ vars.AWS_ENDPOINT_URL }}"}
    assert missing_or_extra({"run": "make repro-push", "env": full}, storage) is None
    assert make_commands("bento") == {"save-model", "build"}, "prerequisites are followed"


def test_fork_prs_keep_going_without_the_remote_in_every_step_that_reproduces():
    """Fork PRs get empty secrets: every pr.yml step that may reproduce from the remote
    (repro, and the base's model in report and gate) falls back to the repository."""
    pr = _load(ROOT / ".github" / "workflows" / "pr.yml")
    for step in pr["jobs"]["checks"]["steps"]:
        target = re.match(r"make ([\w-]+)", str(step.get("run", "")))
        if target and make_commands(target.group(1)) & {"repro", "gate", "report"}:
            env = step.get("env") or {}
            assert "head.repo.full_name != github.repository" in env.get(
                "DVC_REMOTE_OPTIONAL", ""
            ), step["name"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("repro", "report", "gate"):
        recipe = makefile.split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]
        assert "$(REMOTE_OPTIONAL)" in recipe, target


KEYLESS_STEPS = {  # step id -> the action it runs, its repository variable
    "aws": ("aws-actions/configure-aws-credentials", KEYLESS["s3"]),
    "gcp": ("google-github-actions/auth", KEYLESS["gs"]),
}


def storage_jobs() -> dict[tuple[str, str], dict]:
    """(workflow, job) -> job, for every job with a step that touches storage."""
    storage = set(STORAGE_COMMANDS)
    found = {}
    for path in WORKFLOWS:
        for name, job in _load(path).get("jobs", {}).items():
            for step in job.get("steps", []):
                target = re.match(r"make ([\w-]+)", str(step.get("run", "")))
                if target and make_commands(target.group(1)) & storage:
                    found[path.name, name] = job
    return found


def test_every_job_that_touches_storage_can_do_it_keyless_first():
    """#34 item 4: each such job asks for an OIDC token (`id-token: write`) and, before its
    first storage step, trades it for AWS, Google and Azure credentials when the cloud's
    repository variable is set (never on a fork's PR, which gets no token); AWS's keys go
    to the storage steps as outputs (KEYLESS_ENV), not to every later step's environment."""
    jobs = storage_jobs()
    assert set(jobs) == {
        ("pr.yml", "checks"), ("cd.yml", "bento"), ("ct.yml", "monitor"), ("ct.yml", "retrain")
    }  # fmt: skip
    storage = set(STORAGE_COMMANDS)
    for (workflow, name), job in jobs.items():
        where = f"{workflow} {name}"
        assert job["permissions"].get("id-token") == "write", where
        steps = job["steps"]
        first = min(
            i
            for i, s in enumerate(steps)
            if (t := re.match(r"make ([\w-]+)", str(s.get("run", ""))))
            and make_commands(t.group(1)) & storage
        )
        by_id = {s.get("id"): (i, s) for i, s in enumerate(steps)}
        logins = {s["uses"].split("@")[0]: (i, s) for i, s in enumerate(steps) if "uses" in s}
        for step_id, (action, variable) in KEYLESS_STEPS.items():
            index, step = by_id[step_id]
            assert step["uses"].startswith(action + "@") and index < first, (where, step_id)
            assert step["if"].startswith(f"vars.{variable} != ''"), (where, step["if"])
            if workflow == "pr.yml":
                assert "head.repo.full_name == github.repository" in step["if"], where
        aws = by_id["aws"][1]["with"]
        assert aws["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert aws["output-credentials"] is True and aws["output-env-credentials"] is False
        azure_index, azure = logins["azure/login"]
        assert azure_index < first and azure["if"].startswith(f"vars.{KEYLESS['azure']} != ''")


def test_no_other_job_gets_an_oidc_token_but_the_image_job_that_attests():
    """Besides the storage jobs: cd.yml's image job and release.yml's publish job, which sign
    attestations (and publish to PyPI with trusted publishing) with it."""
    signers = {("cd.yml", "image"), ("release.yml", "publish")}
    for path in WORKFLOWS:
        for name, job in _load(path).get("jobs", {}).items():
            if (job.get("permissions") or {}).get("id-token") == "write":
                assert (path.name, name) in {*storage_jobs(), *signers}, name
