"""Run this project's GitHub workflows for real with `act`, on the host, against throwaway
git repositories. Only what must come from GitHub or npm is replaced, by the stand-ins in
``standins/`` (see its README)."""

from __future__ import annotations

import atexit
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from mlops_engine import params_file
from mlops_engine.ci.markdown import params_diff
from mlops_engine.ct.replay import as_traffic
from mlops_engine.serving.prediction_log import write_batch
from tests.oidc import Issuer
from tests.project import BIN, ROOT, clone, dvc, env, run, seeded_global_config, use_cache, uv_path
from tests.s3 import S3Server, s3_environment
from tests.workflows import github_state

STANDINS = Path(__file__).parent / "standins"
STANDIN_FOR = {
    "actions/checkout": "checkout",
    "astral-sh/setup-uv": "setup-uv",
    "actions/upload-artifact": "upload-artifact",
    "actions/download-artifact": "download-artifact",
    "actions/create-github-app-token": "create-github-app-token",
    "docker/login-action": "login-action",
    "actions/attest-build-provenance": "attest-build-provenance",
    "actions/attest": "attest",
    "aws-actions/configure-aws-credentials": "configure-aws-credentials",
    "google-github-actions/auth": "google-auth",
    "azure/login": "azure-login",
}
# Actions that stand-ins use themselves, as the real ones do (attest-build-provenance v4.1.0
# runs actions/attest at this commit): mapped whether or not a workflow names them.
NESTED = {"actions/attest": "59d89421af93a897026c735860bf21b6eb4f7b26"}
REPOSITORY = "acme/churn"
_USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")


def pinned_actions() -> dict[str, str]:
    """owner/name -> pinned SHA, over every workflow of the project."""
    found: dict[str, str] = {}
    for wf in (ROOT / ".github" / "workflows").glob("*.y*ml"):
        for name, sha in _USES.findall(wf.read_text()):
            found[name] = sha
    return found


def job_permissions(workflow: Path) -> dict[str, dict[str, str]]:
    """Job id -> the GITHUB_TOKEN's permissions in that job of ``workflow``, as GitHub
    resolves them: the job's `permissions:`, else the workflow's; `read-all`/`write-all`
    give every scope that level, `{}` none. Stand-ins that act cannot feed (act mints no
    OIDC token: the attest stand-in's `id-token`) read them from $STANDIN_JOB_PERMISSIONS."""
    spec = yaml.safe_load(workflow.read_text())
    scopes = (
        "actions",
        "attestations",
        "checks",
        "contents",
        "deployments",
        "id-token",
        "issues",
        "packages",
        "pages",
        "pull-requests",
        "security-events",
        "statuses",
    )

    def resolve(perms) -> dict[str, str]:
        if isinstance(perms, str):  # read-all / write-all
            return dict.fromkeys(scopes, perms.split("-")[0])
        return {k: v for k, v in (perms or {}).items() if v != "none"}

    return {
        job: resolve(body.get("permissions", spec.get("permissions")))
        for job, body in spec.get("jobs", {}).items()
    }


def uv_bin_dir() -> str:
    uv = uv_path()
    return str(Path(uv).parent)


@dataclass
class Sandbox:
    """A throwaway repository with a bare `origin`, plus the stand-ins' state directories."""

    root: Path
    repo: Path
    origin: Path
    # The object store of the repository's DVC remote and production sinks, when it has
    # them: its jobs get the keys as the repository secrets and the endpoint as the
    # repository variable AWS_ENDPOINT_URL (act()).
    s3: S3Server | None = None
    # Keyless (``keyless()``): GitHub's OIDC token service for the jobs, and the role on the
    # S3 server that its tokens for this repository may assume, instead of the keys.
    oidc: Issuer | None = None
    role_arn: str = ""

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def git(self, *args: str) -> str:
        return run(self.repo, "git", *args).stdout

    def comments(self) -> list[dict]:
        """The PRs' comments on GitHub's side (the gh stand-in's `gh api`): id, pr, body,
        user, updates."""
        path = self.root / "gh" / "comments.json"
        return json.loads(path.read_text()) if path.exists() else []

    def prs(self) -> list[dict]:
        path = self.root / "gh" / "prs.json"
        return json.loads(path.read_text()) if path.exists() else []

    def open_pr(self, head: str, title: str) -> int:
        """A person opens a PR on github.com: GitHub's next number, kept where the gh
        stand-in keeps PRs (numbers are shared by every PR of the repository)."""
        path = self.root / "gh" / "prs.json"
        prs = self.prs()
        number = max((p["number"] for p in prs), default=0) + 1
        prs.append(
            {
                "number": number,
                "head": head,
                "base": "main",
                "title": title,
                "body": "",
                "labels": [],
                "state": "open",
                "edits": 0,
                "author": "you",
            }
        )
        path.write_text(json.dumps(prs, indent=1))
        return number

    def has_pr(self, pull_request: dict) -> None:
        """GitHub sends a pull_request event about a PR it has: the event's PR is in the gh
        stand-in's state (opened by a person, numbered as the event says) unless it is
        there already, so `make comment` finds it as GitHub's REST API would."""
        prs = self.prs()
        if any(p["number"] == pull_request["number"] for p in prs):
            return
        prs.append(
            {
                "number": pull_request["number"],
                "head": pull_request["head"]["ref"],
                "base": pull_request["base"]["ref"],
                "title": "a person's PR",
                "body": "",
                "labels": [],
                "state": "open",
                "edits": 0,
                "author": "you",
            }
        )
        (self.root / "gh" / "prs.json").write_text(json.dumps(prs, indent=1))

    def github_ref(self, ref: str, commit: str) -> None:
        """A ref GitHub writes in its copy itself (no push, no hook): a PR's refs/pull/N/head
        and refs/pull/N/merge, a merge queue's gh-readonly-queue/... branch."""
        run(self.origin, "git", "fetch", "-q", str(self.repo), f"+{commit}:{ref}")

    def registry_tags(self) -> dict[str, str]:
        """What the docker stand-in's registry holds: image:tag -> image id."""
        path = self.root / "docker" / "registry.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def pushed_digests(self) -> dict[str, str]:
        """image:tag -> the digest of the manifest `docker push` stored for it."""
        path = self.root / "docker" / "digests.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def attestations(self) -> list[dict]:
        """What the attest stand-ins stored on GitHub's side, in order: subject (name,
        digest), predicate_type, pushed_to_registry, workflow, job."""
        path = self.root / "gh" / "attestations.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []

    def docker_builds(self) -> list[list[str]]:
        """The tags of each `docker build`, in order."""
        path = self.root / "docker" / "calls.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(x)["build"] for x in lines]

    def gh_calls(self) -> list[dict]:
        path = self.root / "gh" / "calls.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def sandbox(tmp: Path, seed: Path | None = None) -> Sandbox:
    """A clone with a bare ``origin``. With ``seed`` (the ``dvc_seed`` fixture) every job of
    this sandbox shares one DVC cache that starts with the committed pipeline's outputs and
    run-cache, like a DVC remote would give them: unchanged stages are restored, changed ones
    run. Without it each job starts cold, as on a runner of a repository with no remote."""
    repo = clone(tmp / "repo")
    if seed is not None:
        use_cache(repo, seed, tmp / "dvc-cache")
        # Jobs get the cache through DVC's global config, which act() points them at: the
        # checkout stand-in copies .dvc/config.local too, but a checkout on GitHub would not
        # (it is git-ignored), and a job must not depend on it.
        seeded_global_config(seed, tmp)
    origin = tmp / "origin.git"
    run(tmp, "git", "init", "-q", "--bare", "-b", "main", str(origin))
    # GitHub serves any commit it still has by its SHA (`git fetch origin <sha>`), one in no
    # branch too (the `before` of a force push, until it is garbage-collected)
    run(origin, "git", "config", "uploadpack.allowAnySHA1InWant", "true")
    run(repo, "git", "remote", "add", "origin", str(origin))
    run(repo, "git", "push", "-q", "origin", "main")
    run(repo, "git", "fetch", "-q", "origin")
    # act derives `github.repository` from a remote's URL; this one is never fetched.
    run(repo, "git", "remote", "add", "github", f"https://github.com/{REPOSITORY}.git")
    # GitHub's side for the gh stand-in and the push rules (standins/github/pre-receive).
    # "Allow GitHub Actions to create and approve pull requests" is on here, so the tests
    # that fall back to GITHUB_TOKEN get their PR; a new repository has it off (tests of
    # that case call github_state.write_state again).
    github_state.write_state(tmp / "gh", can_approve_pull_request_reviews=True, git_dir=origin)
    github_state.install_push_rules(origin, tmp / "gh", REPOSITORY)
    return Sandbox(tmp, repo, origin)


def with_dvc_remote(box: Sandbox, s3: S3Server) -> str:
    """Give `main` a DVC remote on the S3 server (a new bucket; credentials required, as on
    AWS) holding its outputs and run-cache, as the merge workflow leaves it; its URL."""
    box.s3 = s3
    url = f"s3://{s3.bucket('dvc')}/dvc"
    dvc(box.repo, "remote", "add", "-d", "storage", url)
    box.git("commit", "-qam", "Add a DVC remote")
    dvc(box.repo, "repro")
    dvc(box.repo, "push", "--run-cache", extra_env=s3.env())
    box.git("push", "-q", "origin", "main")
    box.git("fetch", "-q", "origin")
    return url


def keyless(box: Sandbox, s3: S3Server) -> str:
    """Make ``box``'s storage keyless, as the guide's step 4 does first: no storage keys in
    the repository; the repository variable AWS_ROLE_ARN names a role on the S3 server that
    GitHub's OIDC tokens for this repository may assume (any ref or PR of it), and every
    job's runner can ask the token service for one (tests/oidc.py; the configure-aws-
    credentials stand-in honours only a job granted `id-token: write`). Its ARN."""
    box.s3 = s3
    box.oidc = Issuer()
    atexit.register(box.oidc.stop)
    box.role_arn = s3.github_role(box.oidc.url, REPOSITORY)
    return box.role_arn


def _token_ref(event: str, payload: dict) -> str:
    """The ref GitHub's OIDC token names for a run of ``event`` (its `ref` claim)."""
    if event == "pull_request":
        return f"refs/pull/{payload['number']}/merge"
    if event == "merge_group":
        return payload["merge_group"]["head_ref"]
    return payload.get("ref") or "refs/heads/main"


def seed_production(
    box: Sandbox, rows, model, params, labelled: bool, s3: S3Server, arrived=None
) -> dict:
    """Production data (``rows`` served by ``model``: prediction logs, and with ``labelled``
    their ground truth) in object storage outside the repository, as a real deployment has
    it (a bucket on the S3 server), and params.yaml pointing at it on main. The sinks' URLs.
    ``arrived``: when each row was served (default: its time column's value)."""
    box.s3 = s3
    bucket = s3.bucket("production")
    sinks = {"logs": f"s3://{bucket}/logs", "labelled": f"s3://{bucket}/labelled"}
    edit_params(
        box.repo,
        lambda p: (
            p["serve"]["prediction_log"].update(sink=sinks["logs"]),
            p["monitor"].update(labelled_sink=sinks["labelled"]),
        ),
    )
    box.git("commit", "-qam", "Point the monitor at production storage")
    box.git("push", "-q", "origin", "main")
    logs, truth = as_traffic(rows, model, "seeded", params.contract, arrived)
    with s3_environment(s3):
        for sink, frame in [(sinks["logs"], logs)] + (
            [(sinks["labelled"], truth)] if labelled else []
        ):
            for day, part in frame.groupby(frame["logged_at"].dt.date):
                write_batch(sink, part, at=pd.Timestamp(day))
    return sinks


def edit_params(repo: Path, edit) -> None:
    """A person's edit of params.yaml: ``edit`` changes the parsed dict, and the changed
    keys are written into the file with its comments and layout kept, as an edit by hand
    keeps them (a re-dumped file would lose them, which tests reading the project's own
    params.yaml on a later state would then see)."""
    path = repo / "params.yaml"
    before = yaml.safe_load(path.read_text())
    after = copy.deepcopy(before)
    edit(after)
    params_file.update(path, {key: new for key, _, new in params_diff(before, after)})


def pull_request_event(
    number: int = 1, head: str = "feature", fork: bool = False, labels: tuple[str, ...] = ()
) -> dict:
    repo = {"full_name": REPOSITORY, "name": REPOSITORY.split("/")[1], "default_branch": "main"}
    head_repo = {"full_name": "someone/churn"} if fork else repo
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": head, "repo": head_repo},
            "base": {"ref": "main", "repo": repo},
            "labels": [{"name": name} for name in labels],
        },
        "repository": repo,
    }


def merge_group_event(box: Sandbox, number: int, head_sha: str, base: str = "main") -> dict:
    """GitHub's merge_group webhook (action checks_requested) for PR ``number`` queued on
    ``base``: the queue's merge commit ``head_sha`` on top of the base's head."""
    base_sha = run(box.repo, "git", "rev-parse", base).stdout.strip()
    repo = {"full_name": REPOSITORY, "name": REPOSITORY.split("/")[1], "default_branch": "main"}
    return {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": head_sha,
            "head_ref": f"refs/heads/gh-readonly-queue/{base}/pr-{number}-{base_sha}",
            "base_sha": base_sha,
            "base_ref": f"refs/heads/{base}",
            "head_commit": {"id": head_sha},
        },
        "repository": repo,
    }


def venv_pool() -> Path | None:
    """Where the setup-uv stand-in's venv slots live (standins/setup-uv/claim-venv): one
    directory for the whole test run, shared by the xdist workers (tests/conftest.py sets
    $STANDIN_VENV_POOL before they start), else one per process. ``none``: no slots, each
    job builds its own .venv as on a fresh runner (benchmarks/pr_workflow.py)."""
    if os.environ.get("STANDIN_VENV_POOL") == "none":
        return None
    if not os.environ.get("STANDIN_VENV_POOL"):
        os.environ["STANDIN_VENV_POOL"] = pool = tempfile.mkdtemp(prefix="act-venvs-")
        atexit.register(shutil.rmtree, pool, ignore_errors=True)
    return Path(os.environ["STANDIN_VENV_POOL"])


def release_venvs(pool: Path, claim: str) -> None:
    """Free the venv slots that the act run ``claim`` took: its jobs have all ended. Other
    runs free theirs at the same time, so a claim may vanish while this looks."""
    for by in pool.glob("slot-*/claim/by"):
        try:
            mine = by.read_text().strip() == claim
        except FileNotFoundError:
            continue
        if mine:
            shutil.rmtree(by.parent, ignore_errors=True)


def _from_fork(payload: dict) -> bool:
    pr = payload.get("pull_request")
    return bool(pr) and pr["head"]["repo"]["full_name"] != payload["repository"]["full_name"]


def act(
    box: Sandbox,
    event: str,
    payload: dict,
    workflow: str,
    timeout: float = 1800,
    extra: tuple[str, ...] = (),
    rerun_of: str | None = None,
    dependabot_secrets: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``workflow`` on ``event`` in ``box``. Each call is a new workflow run (its own
    GITHUB_RUN_ID, which the artifact stand-ins key the run's artifacts by), or with
    ``rerun_of`` (an earlier call's run id, ``last_run_id(box)``) the next attempt of that
    run, as "Re-run jobs" makes it: same run id, GITHUB_RUN_ATTEMPT + 1.

    ``dependabot_secrets`` (a dict, possibly empty): the run is triggered by Dependabot
    (actor dependabot[bot]), which gets the repository's Dependabot secrets (these) and no
    Actions secrets ("Secrets are populated from Dependabot secrets. GitHub Actions secrets
    are not available", docs.github.com, Code security > Dependabot > Automating Dependabot
    with GitHub Actions)."""
    attempts = box.root / "run-attempts.json"
    runs = json.loads(attempts.read_text()) if attempts.exists() else {}
    run_id = rerun_of or str(1000 + len(runs) + 1)
    runs[run_id] = runs.get(run_id, 0) + 1
    attempts.write_text(json.dumps(runs))
    event_file = box.root / "event.json"
    event_file.write_text(json.dumps(payload))
    head = run(box.repo, "git", "rev-parse", "HEAD").stdout.strip()
    overrides: list[str] = []
    if event == "pull_request":
        box.has_pr(payload["pull_request"])
        # the run's GITHUB_SHA (act: the sandbox's HEAD) stands for GitHub's test merge of
        # the PR, which GitHub keeps in the base repository with the PR's head, where
        # actions/checkout fetches it (refs/pull/N/merge, GITHUB_REF)
        for kind in ("head", "merge"):
            box.github_ref(f"refs/pull/{payload['number']}/{kind}", head)
    elif event == "merge_group":
        # GitHub pushes the queue's merge commit as the branch merge_group.head_ref and runs
        # on it (GITHUB_REF = head_ref, GITHUB_SHA = head_sha); act knows no merge_group and
        # would take the default branch and the sandbox's HEAD
        group = payload["merge_group"]
        box.github_ref(group["head_ref"], group["head_sha"])
        overrides = ["--env", f"GITHUB_REF={group['head_ref']}"]
        overrides += ["--env", f"SHA_REF={group['head_sha']}"]  # act's name for GITHUB_SHA
    args = [
        str(BIN / "act"),
        event,
        "-W",
        f".github/workflows/{workflow}",
        "-P",
        "ubuntu-latest=-self-hosted",
        "-e",
        str(event_file),
        "-s",
        "GITHUB_TOKEN=stand-in-token",
        "--remote-name",
        "github",
        # run the checkout stand-in (act would skip actions/checkout and copy the folder):
        # it persists the job's token, which GitHub's push rules then see (standins/README.md)
        "--no-skip-checkout",
        "--env",
        f"STANDIN_UV_BIN={uv_bin_dir()}",
        "--env",
        f"STANDIN_ARTIFACTS={box.artifacts}",
        "--env",
        f"STANDIN_ORIGIN={box.origin}",
        "--env",
        f"STANDIN_GH_STATE={box.root / 'gh'}",
        "--env",
        f"STANDIN_DOCKER_STATE={box.root / 'docker'}",
        "--env",  # a fresh runner per run: its own local images and logins
        f"STANDIN_DOCKER_HOST={uuid.uuid4().hex}",
        "--env",
        "DVC_NO_ANALYTICS=1",
        # GitHub's own run variables (act takes them from --env, else "1" for every run)
        "--env",
        f"GITHUB_RUN_ID={run_id}",
        "--env",
        f"GITHUB_RUN_ATTEMPT={runs[run_id]}",
        *overrides,
        *extra,
    ]
    dependabot = dependabot_secrets is not None
    if dependabot:
        args += ["--actor", "dependabot[bot]"]
        for name, value in dependabot_secrets.items():
            args += ["-s", f"{name}={value}"]
    if box.s3 is not None and not _from_fork(payload):
        # As a MinIO or R2 user configures it (docs/use-this-template.md step 4): the keys are
        # repository secrets, the endpoint the repository variable AWS_ENDPOINT_URL, and a
        # job sees them only where its workflow passes them to a step (no --env: GitHub has
        # no runner-wide environment). A pull request from a fork gets no secrets, and this
        # harness gives it no variables either (the stricter reading of GitHub's rules).
        args += ["--var", f"AWS_ENDPOINT_URL={box.s3.endpoint}"]
        if box.oidc is not None:  # keyless: a role, and the runner's OIDC token service
            box.oidc.run(REPOSITORY, event, _token_ref(event, payload))
            args += ["--var", f"AWS_ROLE_ARN={box.role_arn}"]
            args += ["--env", f"ACTIONS_ID_TOKEN_REQUEST_URL={box.oidc.request_url}"]
            args += ["--env", f"ACTIONS_ID_TOKEN_REQUEST_TOKEN={box.oidc.request_token}"]
        elif not dependabot:  # Actions secrets; a Dependabot run gets its own store's only
            args += ["-s", f"AWS_ACCESS_KEY_ID={box.s3.access_key_id}"]
            args += ["-s", f"AWS_SECRET_ACCESS_KEY={box.s3.secret_access_key}"]
    claim = uuid.uuid4().hex
    pool = venv_pool()
    if pool is not None:
        args += ["--env", f"STANDIN_VENV_POOL={pool}", "--env", f"STANDIN_VENV_CLAIM={claim}"]
    if (box.root / "dvc-global").is_dir():  # a seeded sandbox (see sandbox())
        args += ["--env", f"DVC_GLOBAL_CONFIG_DIR={box.root / 'dvc-global'}"]
    permissions = job_permissions(box.repo / ".github" / "workflows" / workflow)
    args += ["--env", f"STANDIN_JOB_PERMISSIONS={json.dumps(permissions)}"]
    for name, sha in {**NESTED, **pinned_actions()}.items():
        if name in STANDIN_FOR:
            args += ["--local-repository", f"{name}@{sha}={STANDINS / STANDIN_FOR[name]}"]
    # act keeps its host workspaces under $XDG_CACHE_HOME; BentoML refuses to build from a
    # path with a hidden component (~/.cache), and GitHub's workspace has none either.
    # Storage credentials reach a job only as the secrets and variable above, never from here.
    run_env = {k: v for k, v in env().items() if not k.startswith(("AWS_", "STANDIN_VENV_"))}
    run_env["XDG_CACHE_HOME"] = str(box.root / "act-cache")
    run_env.pop("VIRTUAL_ENV", None)
    run_env["PATH"] = f"{STANDINS / 'bin'}{os.pathsep}{run_env.get('PATH', '')}"  # gh
    # On a timeout subprocess.run kills act alone: its jobs' processes may still be using
    # their slots, which then stay claimed.
    result = subprocess.run(
        args,
        cwd=box.repo,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if pool is not None:
        release_venvs(pool, claim)
    keep = os.environ.get("ACT_LOG_DIR")  # every act run's log, for reading where time goes
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        name = f"{box.root.name}-{workflow}-{uuid.uuid4().hex[:6]}.log"
        (Path(keep) / name).write_text(result.stdout + result.stderr)
    return result


def last_run_id(box: Sandbox) -> str:
    """The run id of ``box``'s newest act() run (for ``act(..., rerun_of=...)``)."""
    runs = json.loads((box.root / "run-attempts.json").read_text())
    return max(runs, key=int)


_GO_DURATION = re.compile(r"([\d.]+)(h|ms|µs|ns|m|s)")
_SCALE = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}


def step_seconds(output: str) -> dict[str, float]:
    """Step name -> seconds, from act's `Success - Main NAME [1m2.5s]` lines."""
    times: dict[str, float] = {}
    for m in re.finditer(r"(?:Success|Failure) - Main (.+?) \[([^\]]+)\]", output):
        seconds = sum(float(v) * _SCALE[u] for v, u in _GO_DURATION.findall(m.group(2)))
        times[m.group(1).strip()] = seconds
    return times


def step_outcomes(output: str) -> dict[str, str]:
    """Step name -> 'success' | 'failure', from act's log lines."""
    outcomes: dict[str, str] = {}
    for line in output.splitlines():
        m = re.search(r"(✅  Success|❌  Failure) - Main (.+?)(?: \[[^\]]*\])?$", line)
        if m:
            outcomes[m.group(2).strip()] = "success" if "Success" in m.group(1) else "failure"
    return outcomes
