"""The GitHub stand-ins on their own, run directly (no act): each must fail where GitHub and
gh fail, with their messages (sources in each stand-in's docstring)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.workflows.github_state import (
    APP_TOKEN,
    GITHUB_TOKEN,
    STANDINS,
    TOKENS,
    install_push_rules,
    persist_credentials,
    pushes,
    write_state,
)

# The harness's stand-ins, not the product: in `make test`, not in pr.yml's unit tier.
GH = STANDINS / "bin" / "gh"
REPO = "acme/churn"
PAT = "github_pat_standin"
NOT_PERMITTED = (
    "pull request create failed: GraphQL: GitHub Actions is not permitted to create or "
    "approve pull requests (createPullRequest)"
)


def _git(cwd: Path, *args: str, env: dict | None = None, check: bool = True):
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **_IDENTITY, **(env or {})},
        check=False,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


_IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


@pytest.fixture
def github(tmp_path):
    """A bare origin standing for GitHub's copy (push rules installed) and a checkout of it
    with a github.com remote, as actions/checkout leaves it."""
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    state = tmp_path / "gh"
    tokens = {
        **TOKENS,
        PAT: {"kind": "pat", "login": "someone", "permissions": {"contents": "write"}},
        "read-only": {
            "kind": "github_actions",
            "login": "github-actions[bot]",
            "permissions": {"contents": "read", "pull_requests": "write"},
        },
        "app-with-workflows": {
            "kind": "app",
            "login": "ct[bot]",
            "permissions": {"contents": "write", "pull_requests": "write", "workflows": "write"},
        },
    }
    write_state(state, tokens=tokens, git_dir=origin)
    install_push_rules(origin, state, REPO)
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q", "-b", "main")
    (work / ".github" / "workflows").mkdir(parents=True)
    (work / ".github" / "workflows" / "ci.yml").write_text("name: ci\n")
    (work / "params.yaml").write_text("a: 1\n")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "init")
    _git(work, "remote", "add", "origin", str(origin))
    _git(work, "push", "-q", "origin", "main")
    _git(work, "remote", "add", "github", f"https://github.com/{REPO}.git")
    return work, state, origin


def _gh(cwd: Path, state: Path, *args: str, token: str | None = GITHUB_TOKEN, **env: str):
    base = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    base.pop("GH_REPO", None)
    run_env = {**base, "STANDIN_GH_STATE": str(state), "GITHUB_ACTIONS": "true", **env}
    if token is not None:
        run_env["GH_TOKEN"] = token
    return subprocess.run(
        [str(GH), *args], cwd=cwd, capture_output=True, text=True, env=run_env, check=False
    )


def _create(cwd, state, head="retrain/auto", **kw):
    body = cwd.parent / "body.md"
    body.write_text("# Retrain\n")
    return _gh(
        cwd,
        state,
        "pr",
        "create",
        "--base",
        "main",
        "--head",
        head,
        "--title",
        "Retrain",
        "--body-file",
        str(body),
        **kw,
    )


def _push_branch(work: Path, branch: str = "retrain/auto") -> None:
    _git(work, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")


# --- gh ---------------------------------------------------------------------------------


def test_gh_pr_create_under_github_token_fails_like_github_while_the_setting_is_off(github):
    work, state, _ = github
    _push_branch(work)
    refused = _create(work, state)
    assert refused.returncode == 1
    assert refused.stderr.strip() == NOT_PERMITTED
    assert not (state / "prs.json").exists()

    app = _create(work, state, token=APP_TOKEN)  # an App token is not subject to the setting
    assert app.returncode == 0, app.stderr
    assert app.stdout.strip() == f"https://github.com/{REPO}/pull/1"


def test_gh_pr_create_under_github_token_works_once_the_setting_is_on(github):
    work, state, origin = github
    write_state(state, can_approve_pull_request_reviews=True, git_dir=origin)
    _push_branch(work)
    created = _create(work, state)
    assert created.returncode == 0, created.stderr
    (pr,) = json.loads((state / "prs.json").read_text())
    assert (pr["head"], pr["author"]) == ("retrain/auto", "github-actions[bot]")
    again = _create(work, state)
    assert again.returncode == 1
    assert again.stderr.startswith(
        'a pull request for branch "retrain/auto" into branch "main" already exists:'
    )


def test_gh_pr_edit_is_not_covered_by_the_setting(github):
    work, state, _ = github
    _push_branch(work)
    assert _create(work, state, token=None, GITHUB_ACTIONS="").returncode == 0  # by hand
    body = work.parent / "body.md"
    edited = _gh(work, state, "pr", "edit", "1", "--title", "T", "--body-file", str(body))
    assert edited.returncode == 0, edited.stderr
    assert json.loads((state / "prs.json").read_text())[0]["edits"] == 1


def test_gh_pr_create_needs_the_pushed_head_and_pull_requests_write(github):
    work, state, _ = github
    missing = _create(work, state, token=APP_TOKEN)
    assert missing.returncode == 1
    assert "Head sha can't be blank" in missing.stderr
    assert "No commits between main and retrain/auto" in missing.stderr
    _push_branch(work)
    pat = _create(work, state, token=PAT)
    assert pat.returncode == 1
    assert "Resource not accessible by personal access token (createPullRequest)" in pat.stderr


def test_gh_needs_a_known_token_and_a_github_repository(github, tmp_path):
    work, state, _ = github
    unset = _create(work, state, token=None)
    assert unset.returncode == 4
    assert "set the GH_TOKEN environment variable" in unset.stderr
    unknown = _create(work, state, token="nobody-knows-me")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("HTTP 401: Bad credentials")
    _git(work, "remote", "remove", "github")
    no_remote = _gh(work, state, "pr", "list", "--head", "x", "--base", "main")
    assert no_remote.returncode == 1
    assert "GH_HOST" in no_remote.stderr
    by_env = _gh(work, state, "pr", "list", "--head", "x", "--base", "main", GH_REPO=REPO)
    assert by_env.returncode == 0 and json.loads(by_env.stdout) == []


def test_gh_label_create_refuses_a_duplicate_without_force(github):
    work, state, _ = github
    first = _gh(work, state, "label", "create", "retraining")
    assert first.returncode == 0, first.stderr
    dup = _gh(work, state, "label", "create", "retraining")
    assert dup.returncode == 1 and "already exists; use `--force`" in dup.stderr
    assert _gh(work, state, "label", "create", "retraining", "--force").returncode == 0


# --- checkout's persisted credentials and GitHub's push rules ---------------------------


def test_persist_credentials_writes_checkouts_header(github):
    work, _, _ = github
    persist_credentials(work, GITHUB_TOKEN)
    header = _git(work, "config", "--get", "http.https://github.com/.extraheader").stdout
    scheme, value = header.strip().split(": ", 1)[1].split(" ", 1)
    assert scheme == "basic"
    assert base64.b64decode(value).decode() == f"x-access-token:{GITHUB_TOKEN}"


def _main_changes_a_workflow(work: Path) -> None:
    """The owner (no token: their own login) pushes a workflow change to main."""
    (work / ".github" / "workflows" / "ci.yml").write_text("name: ci\non: push\n")
    _git(work, "commit", "-qam", "ci on push")
    _git(work, "push", "-q", "origin", "main")


def _rebuilt_branch(work: Path) -> None:
    """The retraining branch rebuilt on top of the new main, as `mlops propose` does."""
    _git(work, "checkout", "-q", "-B", "retrain/auto", "main")
    (work / "params.yaml").write_text("a: 2\n")
    _git(work, "commit", "-qam", "retrain")


def test_push_rules_refuse_workflow_changes_without_workflows_permission(github):
    work, _, _ = github
    _git(work, "checkout", "-q", "-b", "retrain/auto")
    (work / "params.yaml").write_text("a: 2\n")
    _git(work, "commit", "-qam", "retrain")
    persist_credentials(work, GITHUB_TOKEN)
    _git(work, "push", "-q", "origin", "HEAD:refs/heads/retrain/auto")  # no workflow change
    _git(work, "checkout", "-q", "main")
    _git(work, "config", "--unset", "remote.origin.receivepack")
    _main_changes_a_workflow(work)  # allowed: the owner's own push

    _rebuilt_branch(work)
    persist_credentials(work, GITHUB_TOKEN)
    refused = _git(work, "push", "--force", "origin", "HEAD:refs/heads/retrain/auto", check=False)
    assert refused.returncode == 1
    assert (
        "refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` "
        "without `workflows` permission"
    ) in refused.stderr

    persist_credentials(work, PAT)
    pat = _git(work, "push", "--force", "origin", "HEAD:refs/heads/retrain/auto", check=False)
    assert "refusing to allow a Personal Access Token to create or update workflow" in pat.stderr
    assert "without `workflow` scope" in pat.stderr

    persist_credentials(work, "app-with-workflows")
    _git(work, "push", "--force", "origin", "HEAD:refs/heads/retrain/auto")


def test_push_rules_let_a_new_branch_add_only_its_own_commits(github):
    """A branch started fresh on a main that changed workflows adds no workflow change."""
    work, _, _ = github
    _main_changes_a_workflow(work)
    _rebuilt_branch(work)
    persist_credentials(work, GITHUB_TOKEN)
    _git(work, "push", "origin", "HEAD:refs/heads/retrain/auto")


def test_push_rules_need_contents_write_and_a_known_token(github):
    work, _, _ = github
    _git(work, "checkout", "-q", "-b", "retrain/auto")
    persist_credentials(work, "read-only")
    denied = _git(work, "push", "origin", "HEAD:refs/heads/retrain/auto", check=False)
    assert denied.returncode == 1
    assert f"Permission to {REPO}.git denied to github-actions[bot]." in denied.stderr
    persist_credentials(work, "forged")
    forged = _git(work, "push", "origin", "HEAD:refs/heads/retrain/auto", check=False)
    assert forged.returncode == 1 and "Invalid username or token" in forged.stderr


def test_push_rules_record_which_pushes_would_start_workflows(github):
    """GitHub starts no workflow for a push made with GITHUB_TOKEN (standins/github/
    pre-receive cites the docs); an App's, a PAT's or the owner's own push start them. Only
    pushes that landed are recorded."""
    work, state, _origin = github
    _git(work, "checkout", "-q", "-b", "retrain/auto")
    (work / "params.yaml").write_text("a: 2\n")
    _git(work, "commit", "-qam", "retrain")
    for token in (GITHUB_TOKEN, APP_TOKEN, PAT):
        persist_credentials(work, token)
        _git(work, "commit", "-q", "--allow-empty", "-m", token)
        _git(work, "push", "-q", "origin", "HEAD:refs/heads/retrain/auto")
    persist_credentials(work, "read-only")
    assert _git(work, "push", "origin", "HEAD:refs/heads/other", check=False).returncode == 1
    first, *by_token = pushes(state)
    assert (first["kind"], first["ref"], first["triggers_workflows"]) == (
        "user",
        "refs/heads/main",
        True,
    )
    assert [(p["kind"], p["triggers_workflows"]) for p in by_token] == [
        ("github_actions", False),
        ("app", True),
        ("pat", True),
    ]
    head = _git(work, "rev-parse", "HEAD").stdout.strip()
    assert by_token[-1]["new"] == head and by_token[0]["old"] == "0" * 40


# --- gh issue (the dependency canary) -----------------------------------------------------

ISSUES_WRITE = {
    "kind": "github_actions",
    "login": "github-actions[bot]",
    "permissions": {"contents": "read", "issues": "write"},
}


def test_gh_issue_create_needs_the_flags_the_label_and_issues_write(github):
    work, state, origin = github
    write_state(state, tokens={**TOKENS, "issues": ISSUES_WRITE}, git_dir=origin)
    body = work.parent / "body.md"
    body.write_text("x\n")
    create = ("issue", "create", "--title", "T", "--body-file", str(body))
    no_body = _gh(work, state, "issue", "create", "--title", "T", token="issues")
    assert no_body.returncode == 1
    assert "must provide `--title` and `--body` when not running interactively" in no_body.stderr
    unknown = _gh(work, state, *create, "--labels", "x", token="issues")
    assert unknown.returncode == 1 and unknown.stderr.startswith("unknown flag: --labels")
    no_label = _gh(work, state, *create, "--label", "canary", token="issues")
    assert no_label.returncode == 1
    assert no_label.stderr.strip() == "could not add label: 'canary' not found"
    refused = _gh(work, state, *create)  # GITHUB_TOKEN of ct's retrain job: no issues
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "GraphQL: Resource not accessible by integration (createIssue)"
    )
    assert _gh(work, state, "label", "create", "canary", token="issues").returncode == 0
    _push_branch(work)
    assert _create(work, state, token=APP_TOKEN).returncode == 0  # PR #1
    made = _gh(work, state, *create, "-l", "canary", token="issues")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"https://github.com/{REPO}/issues/2", "numbers shared"


def test_gh_issue_list_edit_close_comment_are_strict(github):
    work, state, origin = github
    write_state(state, tokens={**TOKENS, "issues": ISSUES_WRITE}, git_dir=origin)
    body = work.parent / "body.md"
    body.write_text("x\n")
    _gh(work, state, "label", "create", "canary", token="issues")
    _gh(work, state, "issue", "create", "-t", "T", "-F", str(body), "-l", "canary", token="issues")

    def listed(*flags: str, token: str = "issues"):
        return _gh(work, state, "issue", "list", *flags, token=token)

    bad_field = listed("--label", "canary", "--json", "number,name")
    assert bad_field.returncode == 1
    assert bad_field.stderr.startswith('Unknown JSON field: "name"\nAvailable fields:\n')
    bad_state = listed("--state", "opened", "--json", "number")
    assert "valid values are {open|closed|all}" in bad_state.stderr
    found = listed("--label", "canary", "--state", "open", "--json", "number,title,state")
    assert json.loads(found.stdout) == [{"number": 1, "title": "T", "state": "OPEN"}]
    assert json.loads(listed("--label", "other", "--json", "number").stdout) == []
    assert listed("--json", "number", token=GITHUB_TOKEN).returncode == 1  # no issues: read

    no_field = _gh(work, state, "issue", "edit", "1", token="issues")
    assert "field to edit flag required when not running interactively" in no_field.stderr
    edit = _gh(work, state, "issue", "edit", "1", "--title", "U", "-F", str(body), token="issues")
    assert edit.returncode == 0, edit.stderr
    missing = _gh(work, state, "issue", "close", "7", token="issues")
    assert "Could not resolve to an issue or pull request with the number of 7." in (missing.stderr)
    no_body = _gh(work, state, "issue", "comment", "1", token="issues")
    assert "flags required when not running interactively" in no_body.stderr
    closed = _gh(work, state, "issue", "close", "1", "--comment", "ok", token="issues")
    assert closed.returncode == 0 and f"Closed issue {REPO}#1 (U)" in closed.stderr
    again = _gh(work, state, "issue", "close", "1", token="issues")
    assert again.returncode == 0 and "is already closed" in again.stderr
    (issue,) = json.loads((state / "issues.json").read_text())
    assert (issue["state"], issue["comments"], issue["edits"]) == ("closed", ["ok"], 1)

    settings = json.loads((state / "settings.json").read_text())
    (state / "settings.json").write_text(json.dumps({**settings, "has_issues": False}))
    off = listed("--json", "number")
    assert off.stderr.strip() == f"the '{REPO}' repository has disabled issues"


CLAIM_VENV = STANDINS / "setup-uv" / "claim-venv"


def _claim(pool: Path | None, run: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("STANDIN_VENV")}
    if pool is not None:
        environ |= {"STANDIN_VENV_POOL": str(pool), "STANDIN_VENV_CLAIM": run}
    return subprocess.run([str(CLAIM_VENV)], env=environ, capture_output=True, text=True)


def test_venv_slots_are_one_job_each_until_their_run_ends_and_always_resync(tmp_path):
    """The setup-uv stand-in's venv slots (its claim-venv): jobs running at once never share
    one; a slot is free again once the act run that took it has ended; the install stamp of
    the last job is gone, so `make install` syncs exactly to this job's lock."""
    from tests.workflows.act import release_venvs

    assert _claim(None, "a").stdout == "", "no pool: the job keeps its own .venv"
    assert _claim(Path("none"), "a").stdout == "", "`none`: as on a fresh runner"
    pool = tmp_path / "pool"
    starts = [
        subprocess.Popen(
            [str(CLAIM_VENV)],
            env={**os.environ, "STANDIN_VENV_POOL": str(pool), "STANDIN_VENV_CLAIM": run},
            stdout=subprocess.PIPE,
            text=True,
        )
        for run in ("a", "a", "b", "b", "b")
    ]
    got = [p.communicate()[0].strip() for p in starts]
    assert all(p.returncode == 0 for p in starts)
    assert len(set(got)) == 5 and all(g.startswith("UV_PROJECT_ENVIRONMENT=") for g in got)
    freed = {g for g, run in zip(got, "aabbb", strict=True) if run == "a"}
    venv = Path(min(freed).split("=", 1)[1])
    venv.mkdir()
    (venv / ".synced-s3").touch()  # left by run a's `make install`
    release_venvs(pool, "a")
    again = {_claim(pool, "c").stdout.strip(), _claim(pool, "c").stdout.strip()}
    assert again == freed, "run a's two slots, and only those, are free again"
    assert not list(venv.glob(".synced*")), "the next install syncs"
    out = _claim(pool, "d")
    assert out.stdout.strip() == f"UV_PROJECT_ENVIRONMENT={pool / 'slot-5' / 'venv'}"
    assert _claim(pool.with_name("no-run"), "").returncode != 0, "a claim names its run"


# --- create-github-app-token ------------------------------------------------------------

MINT = STANDINS / "create-github-app-token" / "mint"


def _mint(state: Path, tmp: Path, **permissions: str) -> subprocess.CompletedProcess[str]:
    """Run the App-token stand-in as ct.yml's step does: `permission-<name>` inputs arrive
    as PERMISSION_<NAME> (standins/create-github-app-token/action.yml)."""
    output = tmp / "github_output"
    output.write_text("")
    env = {
        **os.environ,
        "STANDIN_GH_STATE": str(state),
        "GITHUB_OUTPUT": str(output),
        "CLIENT_ID": "Iv23li-test",
        "PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----",
        **{f"PERMISSION_{k.upper()}": v for k, v in permissions.items()},
    }
    proc = subprocess.run([str(MINT)], capture_output=True, text=True, env=env, check=False)
    proc.token = output.read_text().partition("token=")[2].strip()  # type: ignore[attr-defined]
    return proc


def _ct_yml_app_permissions() -> dict[str, str]:
    """What ct.yml's create-github-app-token step requests."""
    import yaml

    ct = yaml.safe_load((STANDINS.parents[3] / ".github" / "workflows" / "ct.yml").read_text())
    (step,) = [
        s
        for s in ct["jobs"]["retrain"]["steps"]
        if s.get("uses", "").startswith("actions/create-github-app-token@")
    ]
    return {
        k.removeprefix("permission-").replace("-", "_"): v
        for k, v in step["with"].items()
        if k.startswith("permission-")
    }


def test_app_token_has_what_the_step_requests_and_workflow_pushes_need_workflows(github, tmp_path):
    """The App token's permissions are the step's `permission-*` inputs: without
    `permission-workflows: write`, rebuilding retrain/auto on a main whose workflow files
    changed is refused (GitHub's rule, standins/github/pre-receive); ct.yml requests it."""
    work, state, _ = github
    _git(work, "checkout", "-q", "-b", "retrain/auto")
    (work / "params.yaml").write_text("a: 2\n")
    _git(work, "commit", "-qam", "retrain")
    _push_branch(work)
    _git(work, "checkout", "-q", "main")
    _main_changes_a_workflow(work)  # e.g. Dependabot's actions PR merged
    _rebuilt_branch(work)

    narrow = _mint(state, tmp_path, contents="write", pull_requests="write")
    assert narrow.returncode == 0, narrow.stdout + narrow.stderr
    persist_credentials(work, narrow.token)
    refused = _git(work, "push", "--force", "origin", "HEAD:refs/heads/retrain/auto", check=False)
    assert refused.returncode == 1
    assert (
        "create or update workflow `.github/workflows/ci.yml` without `workflows` permission"
        in (refused.stderr)
    )

    asked = _ct_yml_app_permissions()
    assert asked.get("workflows") == "write", asked
    wide = _mint(state, tmp_path, **asked)
    assert wide.returncode == 0, wide.stdout + wide.stderr
    persist_credentials(work, wide.token)
    _git(work, "push", "--force", "origin", "HEAD:refs/heads/retrain/auto")
    assert pushes(state)[-1]["kind"] == "app"

    # an installation not granted `workflows` cannot mint such a token at all
    (state / "app.json").write_text(
        json.dumps({"permissions": {"contents": "write", "pull_requests": "write"}})
    )
    denied = _mint(state, tmp_path, **asked)
    assert denied.returncode == 1 and denied.token == ""
    assert "The permissions requested are not granted to this installation" in denied.stdout
    missing_id = subprocess.run(
        [str(MINT)],
        capture_output=True,
        text=True,
        env={**os.environ, "STANDIN_GH_STATE": str(state), "CLIENT_ID": "", "PRIVATE_KEY": "k"},
        check=False,
    )
    assert missing_id.returncode == 1 and "'client-id'" in missing_id.stdout


def test_app_token_expires_after_its_lifetime(github, tmp_path):
    """An installation token lasts its installation's ``lifetime_seconds`` from minting (an
    hour on GitHub); after it, pushes and API calls are refused as with an unknown
    token. The hour passes by moving the recorded expiry (no sleep: a short real lifetime
    raced the suite's load)."""
    import time

    work, state, _ = github
    lifetime = 5400  # not the stand-in's default (3600): the installation's own is read
    (state / "app.json").write_text(json.dumps({"lifetime_seconds": lifetime}))
    before = time.time()
    minted = _mint(state, tmp_path, contents="write", pull_requests="write")
    after = time.time()
    assert minted.returncode == 0, minted.stdout + minted.stderr
    tokens_file = state / "tokens.json"
    tokens = json.loads(tokens_file.read_text())
    assert before + lifetime <= tokens[minted.token]["expires_at"] <= after + lifetime
    _git(work, "checkout", "-q", "-b", "retrain/auto")
    persist_credentials(work, minted.token)
    _push_branch(work)  # within its lifetime
    assert _gh(work, state, "label", "create", "x", token=minted.token).returncode == 0
    tokens = json.loads(tokens_file.read_text())  # the lifetime passes
    tokens[minted.token]["expires_at"] = time.time() - 1
    tokens_file.write_text(json.dumps(tokens))
    _git(work, "commit", "-q", "--allow-empty", "-m", "later")
    late = _git(work, "push", "origin", "HEAD:refs/heads/retrain/auto", check=False)
    assert late.returncode == 1 and "Invalid username or token" in late.stderr
    gh_late = _gh(work, state, "label", "create", "y", token=minted.token)
    assert gh_late.returncode == 1 and "HTTP 401: Bad credentials" in gh_late.stderr


# --- upload-artifact --------------------------------------------------------------------

UPLOAD = STANDINS / "upload-artifact" / "upload.py"


def _upload(tmp: Path, run_id: str, content: str, overwrite: str | None = None):
    src = tmp / "report"
    src.mkdir(exist_ok=True)
    (src / "report.md").write_text(content)
    env = {
        **os.environ,
        "STANDIN_ARTIFACTS": str(tmp / "artifacts"),
        "GITHUB_RUN_ID": run_id,
        "GITHUB_OUTPUT": str(tmp / "github_output"),
        "NAME": "pr-report",
        "PATHS": f"{src}\n",
    }
    if overwrite is not None:
        env["OVERWRITE"] = overwrite
    return subprocess.run(
        ["python3", str(UPLOAD)], capture_output=True, text=True, env=env, check=False
    )


def test_upload_artifact_refuses_a_name_the_run_has_unless_overwrite(tmp_path):
    """Artifact names are unique per run across its attempts (upload-artifact v4+): a re-run
    attempt uploading the same name gets GitHub's 409 unless `overwrite: true`."""
    stored = tmp_path / "artifacts" / ".runs" / "7" / "pr-report" / "report.md"
    assert _upload(tmp_path, "7", "attempt 1").returncode == 0
    again = _upload(tmp_path, "7", "attempt 2")  # "Re-run failed jobs": same run id
    assert again.returncode == 1
    assert (
        "Failed to CreateArtifact: Received non-retryable error: Failed request: (409) "
        "Conflict: an artifact with this name already exists on the workflow run"
    ) in again.stdout
    assert stored.read_text() == "attempt 1"
    assert _upload(tmp_path, "7", "attempt 2", overwrite="true").returncode == 0
    assert stored.read_text() == "attempt 2"
    assert _upload(tmp_path, "8", "another run").returncode == 0  # a new run starts empty
    assert (tmp_path / "artifacts" / "pr-report" / "report.md").read_text() == "another run"


def test_attest_requires_what_actions_attest_requires_and_records_the_subject(tmp_path):
    """The attest stand-in (actions/attest v4.1.0's checks, in its order): the job's
    id-token and attestations permissions, one subject of the digest's form with a name, a
    CycloneDX or SPDX SBOM, and for push-to-registry a registry login and packages: write."""
    attest = STANDINS / "attest" / "attest"
    gh, docker, temp = tmp_path / "gh", tmp_path / "docker", tmp_path / "tmp"
    for d in (gh, docker / "hosts" / "runner-1", temp):
        d.mkdir(parents=True)
    digest = "sha256:" + "ab" * 32
    every = {"id-token": "write", "attestations": "write", "packages": "write"}

    def run(permissions: dict, **inputs: str):
        output = tmp_path / "output"
        output.write_text("")
        env = {
            **os.environ,
            "GITHUB_JOB": "image",
            "STANDIN_JOB_PERMISSIONS": json.dumps({"image": permissions}),
            "STANDIN_GH_STATE": str(gh),
            "STANDIN_DOCKER_STATE": str(docker),
            "STANDIN_DOCKER_HOST": "runner-1",
            "RUNNER_TEMP": str(temp),
            "GITHUB_OUTPUT": str(output),
            **{"INPUT_" + k.upper(): v for k, v in inputs.items()},
        }
        proc = subprocess.run([str(attest)], env=env, capture_output=True, text=True)
        return proc.returncode, proc.stdout

    image = {"subject_name": "ghcr.io/acme/churn", "subject_digest": digest}
    slsa = {"predicate_type": "https://slsa.dev/provenance/v1"}
    code, out = run({"attestations": "write"}, **image, **slsa)
    assert code == 1 and 'missing "id-token" permission' in out
    assert "subject-name must be provided" in run(every, subject_digest=digest, **slsa)[1]
    short = run(every, subject_name="ghcr.io/acme/churn", subject_digest="sha256:ab", **slsa)
    assert 'subject-digest must be in the format "sha256:<hex-digest>"' in short[1]
    both = run(every, **image, subject_path=str(attest), **slsa)
    assert "Only one of subject-path, subject-digest" in both[1]
    assert "predicate-type must be provided" in run(every, **image)[1]
    not_stored = run({"id-token": "write"}, **image, **slsa)
    assert not_stored[0] == 1 and "Resource not accessible by integration" in not_stored[1]
    bad_sbom = tmp_path / "bom.json"
    bad_sbom.write_text('{"packages": []}')
    assert "Unsupported SBOM format" in run(every, **image, sbom_path=str(bad_sbom))[1]
    no_login = run(every, **image, **slsa, push_to_registry="true")
    assert no_login[0] == 1 and "no credentials (docker login)" in no_login[1]
    (docker / "hosts" / "runner-1" / "auth.json").write_text('{"ghcr.io": "acme"}')
    read_only = {**every, "packages": "read"}
    denied = run(read_only, **image, **slsa, push_to_registry="true")
    assert denied[0] == 1 and "write_package" in denied[1]
    assert not (gh / "attestations.jsonl").exists(), "nothing stored by a refused step"

    upper = {**image, "subject_name": "ghcr.io/Acme/churn"}
    assert run(every, **upper, **slsa, push_to_registry="true")[0] == 0
    bad_sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}')
    assert run(every, **image, sbom_path=str(bad_sbom), push_to_registry="true")[0] == 0
    stored = [json.loads(x) for x in (gh / "attestations.jsonl").read_text().splitlines()]
    assert [
        (s["subject"]["name"], s["subject"]["digest"], s["predicate_type"]) for s in stored
    ] == [
        ("ghcr.io/acme/churn", digest, "https://slsa.dev/provenance/v1"),
        ("ghcr.io/acme/churn", digest, "https://cyclonedx.org/bom"),
    ], "push-to-registry lowercases the name, as the action does"


def test_configure_aws_credentials_trades_the_jobs_oidc_token_for_the_roles_keys(
    tmp_path, s3_server
):
    """The configure-aws-credentials stand-in (v6.2.3's OIDC flow, in its order) against
    the tests' S3 server's STS, which checks the token as AWS does (tests/moto_sts.py):
    without `id-token: write` the runner has no token and the step fails as the action
    does; with it, the role's temporary keys are outputs only (output-env-credentials
    false) and are what S3 then accepts (with their session token); a role this
    repository may not assume, a wrong request token and missing inputs fail as the real
    action fails."""
    from tests.oidc import Issuer

    configure = STANDINS / "configure-aws-credentials" / "configure"
    issuer = Issuer()
    issuer.run(REPO, "push", "refs/heads/main")
    ours = s3_server.github_role(issuer.url, REPO)
    theirs = s3_server.github_role(issuer.url, "someone/else")

    def run(permissions: dict, request_token: str = issuer.request_token, **inputs: str):
        output, github_env = tmp_path / "output", tmp_path / "env"
        output.write_text("")
        github_env.write_text("")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ACTIONS_"))},
            "GITHUB_JOB": "bento",
            "STANDIN_JOB_PERMISSIONS": json.dumps({"bento": permissions}),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_ENV": str(github_env),
            "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
            **{k: "x" for k in ("GITHUB_REPOSITORY", "GITHUB_WORKFLOW", "GITHUB_ACTION")},
            **{k: "x" for k in ("GITHUB_ACTOR", "GITHUB_SHA", "GITHUB_WORKSPACE")},
            "INPUT_AUDIENCE": "sts.amazonaws.com",  # action.yml's default
            **{"INPUT_" + k.upper(): v for k, v in inputs.items()},
        }
        proc = subprocess.run([str(configure)], env=env, capture_output=True, text=True)
        outputs = dict(x.split("=", 1) for x in output.read_text().splitlines())
        return proc.returncode, proc.stdout, outputs, github_env.read_text()

    given = {"aws_region": "us-east-1", "sts_endpoint": s3_server.endpoint}
    keyless = {**given, "output_credentials": "true", "output_env_credentials": "false"}
    try:
        code, out, outputs, exported = run({"contents": "read"}, role_to_assume=ours, **keyless)
        assert code == 1 and "Did you mean to set the `id-token` permission?" in out
        assert "Credentials could not be loaded" in out and outputs == {} and exported == ""

        oidc = {"contents": "read", "id-token": "write"}
        code, out, outputs, exported = run(oidc, role_to_assume=ours, **keyless)
        assert code == 0, out
        assert "Authenticated as assumedRoleId" in out and exported == "", "outputs only"
        key, secret = outputs["aws-access-key-id"], outputs["aws-secret-access-key"]
        assert key.startswith("ASIA") and f"::add-mask::{secret}" in out
        bucket = s3_server.bucket("oidc")
        keys = {"aws_access_key_id": key, "aws_secret_access_key": secret}
        with pytest.raises(Exception, match="InvalidAccessKeyId"):  # no session token
            s3_server.client(**keys).put_object(Bucket=bucket, Key="k", Body=b"1")
        import boto3

        boto3.client(
            "s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
            aws_session_token=outputs["aws-session-token"], **keys,
        ).put_object(Bucket=bucket, Key="k", Body=b"1")  # fmt: skip
        assert s3_server.keys(bucket) == ["k"]
        assert issuer.issued[-1]["aud"] == "sts.amazonaws.com"
        assert issuer.issued[-1]["sub"] == f"repo:{REPO}:ref:refs/heads/main"

        code, out, outputs, exported = run(oidc, role_to_assume=ours, **given)
        assert code == 0 and outputs == {}, "the action's default: the environment"
        assert "AWS_SESSION_TOKEN=" in exported and "AWS_REGION=us-east-1" in exported

        code, out, _, _ = run(oidc, role_to_assume=theirs, **keyless)
        assert (
            code == 1
            and (
                "Could not assume role with OIDC: Not authorized to perform "
                "sts:AssumeRoleWithWebIdentity"
            )
            in out
        )
        code, out, _, _ = run(oidc, request_token="stale", role_to_assume=ours, **keyless)
        assert code == 1 and "getIDToken call failed" in out and "Error Code : 401" in out
        code, out, _, _ = run(oidc, role_to_assume=ours, sts_endpoint=s3_server.endpoint)
        assert code == 1 and "Input required and not supplied: aws-region" in out
        code, out, _, _ = run(oidc, role_to_assume="github-storage", **keyless)
        assert code == 1 and "Source Account ID is needed" in out
    finally:
        issuer.stop()
