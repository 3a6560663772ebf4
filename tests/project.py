"""Throwaway copies of this project, as git repositories, for running real DVC on them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def env() -> dict[str, str]:
    """The project's venv first on PATH, so dvc.yaml's ``mlops`` commands resolve.

    The service tests set MLOPS_* and BENTOML_* in this process (their model store and tag),
    and importing the service sets OMP_NUM_THREADS=1, which changes the trained model's bytes.
    None of them may leak into pipelines and workflows run as subprocesses: they are dropped
    here and callers add back what they mean to pass."""
    leaked = ("MLOPS_", "BENTOML_", "OMP_NUM_THREADS")  # the service module sets OMP threads
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(leaked)}
    return {
        **inherited,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }


def run(
    cwd: Path, *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def tracked_files() -> list[str]:
    """What a clone of this working tree holds: tracked plus new, unignored files."""
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [p for p in out.splitlines() if (ROOT / p).is_file()]


def clone(dest: Path) -> Path:
    """A fresh 'clone': the files, a new git repository with one commit, no DVC cache."""
    for rel in tracked_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    run(dest, "git", "init", "-q", "-b", "main")
    run(dest, "git", "add", "-A")
    run(dest, "git", "commit", "-qm", "clone")
    return dest


def dvc(cwd: Path, *args: str, check: bool = True, timeout: float = 900):
    return run(cwd, str(BIN / "dvc"), *args, check=check, timeout=timeout)


def lock_outs(project: Path) -> dict[str, str]:
    """Every output recorded in dvc.lock: path -> md5."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {o["path"]: o["md5"] for s in lock["stages"].values() for o in s.get("outs", [])}


def git_tracked_outputs(project: Path) -> set[str]:
    """Outputs declared ``cache: false`` in dvc.yaml: versioned by git, not the DVC cache."""
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    found = set()
    for stage in stages.values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                if isinstance(entry, dict):
                    path, opts = next(iter(entry.items()))
                    if (opts or {}).get("cache", True) is False:
                        found.add(path)
    return found


def missing_cache_objects(project: Path) -> list[str]:
    """Cached outputs whose dvc.lock hash has no object in the cache (must stay empty)."""
    cache = Path(dvc(project, "cache", "dir").stdout.strip()) / "files" / "md5"
    in_git = git_tracked_outputs(project)
    return [
        f"{path} ({md5})"
        for path, md5 in lock_outs(project).items()
        if path not in in_git and not (cache / md5[:2] / md5[2:]).exists()
    ]
