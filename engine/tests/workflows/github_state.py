"""GitHub's side of a sandbox, for the `gh` stand-in and the push-rules hook: which tokens
exist (kind and permissions), the repository's Actions setting, and the bare repository
standing for GitHub's copy. See standins/bin/gh and standins/github/pre-receive for what
each mirrors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

STANDINS = Path(__file__).parent / "standins"
PUSH_RULES = STANDINS / "github" / "pre-receive"
PERSIST_CREDENTIALS = STANDINS / "checkout" / "persist-credentials"

GITHUB_TOKEN = "stand-in-token"  # act's `-s GITHUB_TOKEN=...` (tests/workflows/act.py)
APP_TOKEN = "stand-in-app-token"  # standins/create-github-app-token's output

# What each token may do, as ct.yml's `retrain` job asks for it: GITHUB_TOKEN gets the job's
# `permissions:` (contents and pull-requests write; `workflows` does not exist for it), the
# App token what create-github-app-token requests (permission-contents/-pull-requests).
TOKENS = {
    GITHUB_TOKEN: {
        "kind": "github_actions",
        "login": "github-actions[bot]",
        "permissions": {"contents": "write", "pull_requests": "write"},
    },
    APP_TOKEN: {
        "kind": "app",
        "login": "mlops-ct[bot]",
        "permissions": {"contents": "write", "pull_requests": "write"},
    },
}


def write_state(
    state: Path,
    *,
    tokens: dict[str, dict] | None = None,
    can_approve_pull_request_reviews: bool = False,
    git_dir: Path | None = None,
) -> None:
    """The default for the setting is a new repository's (off)."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "tokens.json").write_text(json.dumps(TOKENS if tokens is None else tokens))
    settings: dict[str, object] = {
        "can_approve_pull_request_reviews": can_approve_pull_request_reviews
    }
    if git_dir is not None:
        settings["git_dir"] = str(git_dir)
    (state / "settings.json").write_text(json.dumps(settings))


def install_push_rules(origin: Path, state: Path, repository: str) -> None:
    """GitHub's push rules as `origin`'s pre-receive hook, reading tokens from ``state``."""
    (origin / "hooks").mkdir(exist_ok=True)
    for hook in ("pre-receive", "post-receive"):  # the rules; the record of what landed
        shutil.copy2(PUSH_RULES, origin / "hooks" / hook)
    for key, value in [("standin.ghstate", str(state)), ("standin.repository", repository)]:
        subprocess.run(["git", "--git-dir", str(origin), "config", key, value], check=True)


def pushes(state: Path) -> list[dict]:
    """The pushes that landed, in order, with the token kind and whether GitHub would run
    workflows for them (not for GITHUB_TOKEN's): standins/github/pre-receive."""
    path = state / "pushes.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def persist_credentials(workspace: Path, token: str) -> None:
    """What the checkout stand-in does with persist-credentials: pushes from ``workspace``
    to `origin` authenticate as ``token``."""
    subprocess.run([str(PERSIST_CREDENTIALS), str(workspace), token], check=True)
