"""The engine's one way to run gh, the GitHub CLI: the PR report comment (ci/comment.py), the
dependency canary's issue (canary/), the retraining and template-update pull requests
(ct/proposal.py) and the schedule's last runs (ct/schedule.py) all call ``run``.

A failure is reported as what it is: ``GhError`` carries the command, gh's exit code and
what gh said (stderr, else stdout), and a runner without gh gets a sentence saying so, not
a traceback. No other module runs gh itself (engine/tests/repo/test_layers.py).

Standard library only: the comment job of pr.yml runs ci/comment.py with the runner's
``python3`` and without installing the package (``make comment``), loading this file by its
path."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

NOT_INSTALLED = (
    "gh (the GitHub CLI) is not installed on this runner: GitHub-hosted runners have it; "
    "on a self-hosted runner install it (https://cli.github.com)"
)

Gh = Callable[..., str]


def shown(args: tuple[str, ...]) -> str:
    """The command as an error shows it: a long or multi-line argument (an issue's body,
    a comment) by its length, so that the message stays gh's."""
    return " ".join(
        f"<{len(a):,} characters>" if len(a) > 80 or "\n" in a else a for a in ("gh", *args)
    )


class GhError(RuntimeError):
    """gh, or GitHub behind it, refused: the command, gh's exit code (None: no gh) and
    gh's message."""

    def __init__(self, args: tuple[str, ...], returncode: int | None, stderr: str) -> None:
        self.args_, self.returncode, self.stderr = args, returncode, stderr
        if returncode is None:
            super().__init__(stderr)
        else:
            super().__init__(f"{shown(args)}: {stderr} (exit {returncode})")


def run(*args: str, stdin: str | None = None) -> str:
    """``gh *args``; its standard output, or GhError."""
    try:
        proc = subprocess.run(
            ["gh", *args], input=stdin, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise GhError(args, None, NOT_INSTALLED) from None
    if proc.returncode != 0:
        raise GhError(args, proc.returncode, proc.stderr.strip() or proc.stdout.strip())
    return proc.stdout


def api(*args: str, stdin: str | None = None) -> str:
    """``gh api *args`` (REST), with ``stdin`` as the request body for ``--input -``."""
    return run("api", *args, stdin=stdin)
