"""Throwaway copies of this project, as git repositories, for running real DVC on them."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from mlops_engine.outputs import load_yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def uv_path() -> str:
    """The uv the Makefile uses: `uv run`'s own (UV), else uv on PATH, else the bootstrapped
    copy in .tools/bin."""
    return os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")


def env() -> dict[str, str]:
    """The project's venv first on PATH, so dvc.yaml's ``mlops`` commands resolve.

    The service tests set MLOPS_* and BENTOML_* in this process (their model store and tag),
    and importing the service sets OMP_NUM_THREADS=1, which changes the trained model's bytes.
    None of them may leak into pipelines and workflows run as subprocesses: they are dropped
    here and callers add back what they mean to pass.

    PYTHONDONTWRITEBYTECODE is dropped too, so subprocesses cache bytecode in their venv as
    on a GitHub runner (which does not set it). With it set (this machine's CI does), every
    `mlops` stage, `dvc` and `pytest` process compiles pandas, scikit-learn, BentoML and
    Evidently from source: a `dvc repro -f` of the example took 18.9 s with it and 8.8 s
    without, side by side.

    So are the outer run's own settings: PYTEST_ARGS, make's MAKEFLAGS (which carries
    `make test PYTEST_ARGS=...` into every `make` below it: a workflow's `make test-code`
    under act, a walkthrough's `make test`) and xdist's worker variables. A runner or a
    reader's shell has none of them."""
    leaked = (
        *("MLOPS_", "BENTOML_", "OMP_NUM_THREADS", "PYTHONDONTWRITEBYTECODE"),
        *("PYTEST_ARGS", "PYTEST_XDIST_", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"),
        "UV_PROJECT_ENVIRONMENT",  # a clone's `make install` syncs its own .venv
    )
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
    cwd: Path,
    *args: str,
    check: bool = True,
    timeout: float = 600,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args,
        cwd=cwd,
        env={**env(), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
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


def dvc(
    cwd: Path,
    *args: str,
    check: bool = True,
    timeout: float = 900,
    extra_env: dict[str, str] | None = None,
):
    return run(cwd, str(BIN / "dvc"), *args, check=check, timeout=timeout, extra_env=extra_env)


def lock_outs(project: Path) -> dict[str, str]:
    """Every output recorded in dvc.lock: path -> md5."""
    lock = load_yaml((project / "dvc.lock").read_text())  # libyaml: read ~100 times a run
    return {o["path"]: o["md5"] for s in lock["stages"].values() for o in s.get("outs", [])}


def git_tracked_outputs(project: Path) -> set[str]:
    """Outputs declared ``cache: false`` in dvc.yaml: versioned by git, not the DVC cache."""
    stages = load_yaml((project / "dvc.yaml").read_text())["stages"]
    found = set()
    for stage in stages.values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                if isinstance(entry, dict):
                    path, opts = next(iter(entry.items()))
                    if (opts or {}).get("cache", True) is False:
                        found.add(path)
    return found


def dvc_status(project: Path) -> dict:
    """`dvc status` in-process, like `missing_cache_objects` (the command's "Data and
    pipelines are up to date." is an empty result): the interruption tests ask 14 times."""
    from dvc.repo import Repo

    with Repo(str(project)) as repo:
        return repo.status()


def missing_cache_objects(project: Path) -> list[str]:
    """Cached outputs whose dvc.lock hash has no object in the cache (must stay empty).

    The cache is the one `dvc cache dir` names, read in-process: a `dvc` process costs
    ~0.7 CPU-s to start, and the interruption tests ask 35 times."""
    from dvc.repo import Repo

    with Repo(str(project)) as repo:
        cache = Path(repo.cache.local.path)
    in_git = git_tracked_outputs(project)
    return [
        f"{path} ({md5})"
        for path, md5 in lock_outs(project).items()
        if path not in in_git and not (cache / md5[:2] / md5[2:]).exists()
    ]


def stop_group(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Stop a server started with ``start_new_session=True``: SIGTERM to its process group
    (`bentoml serve`'s arbiter then stops its workers, which run in sessions of their own and
    would outlive a SIGKILL of the group), SIGKILL only if it is still there after
    ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (across processes: pytest-xdist workers)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# Set by .ci/run: one directory for the DVC seed of the suite and of the image build beside it.
SEED_DIR = "MLOPS_TEST_SEED_DIR"


def seed_cache(shared: Path) -> Path:
    """A DVC cache holding one ``dvc repro`` of this project as committed (outputs and
    run-cache), made once per test run in ``shared``, the directory every xdist worker sees.

    Copies of the project that start from it (``use_cache``) restore unchanged stages
    instead of recomputing them, as a configured DVC remote does in CI; a stage whose
    params, code or data changed still runs for real, so no test result comes from here.

    It is a fresh clone's first reproduction, with the committed reports deleted first so
    that every stage really runs (`seed_reproduction` gives the project and DVC's output):
    tests/pipeline/test_dvc_pipeline.py checks it against the committed dvc.lock. Tests may
    run commands in the project that leave its outputs and cache as they are (a no-op
    `dvc repro`, `dvc metrics`, building a Bento from its model); whatever changes the
    pipeline works on a copy that starts from its cache (``use_cache``).
    """
    seed = shared / "dvc-seed"
    with exclusive(shared / "dvc-seed.lock"):
        if not (seed / "ready").exists():
            shutil.rmtree(seed, ignore_errors=True)
            project = clone(seed / "project")
            shutil.rmtree(project / "reports")
            (seed / "repro.log").write_text(dvc(project, "repro").stdout)
            (seed / "ready").touch()
    return seed / "project" / ".dvc" / "cache"


def seed_reproduction(cache: Path) -> tuple[Path, str]:
    """The project ``seed_cache`` reproduced (given that cache), and what `dvc repro` said."""
    project = cache.parents[1]
    return project, (project.parent / "repro.log").read_text()


def use_cache(project: Path, seed: Path, cache: Path) -> None:
    """Point ``project``'s DVC cache (``.dvc/config.local``, never committed) at ``cache``,
    a new directory of hard links to ``seed``'s objects. DVC only ever adds files to a cache
    and writes each object through a temporary file renamed into place, so one project's
    writes never show in another's; the link copy takes milliseconds."""
    subprocess.run(["cp", "-al", str(seed), str(cache)], check=True)
    dvc(project, "config", "--local", "cache.dir", str(cache))


def seeded_global_config(seed: Path, root: Path) -> Path:
    """A DVC global config directory (for ``DVC_GLOBAL_CONFIG_DIR``) whose cache is
    ``root/dvc-cache``, hard links to ``seed``'s objects as in ``use_cache``: for processes
    that start from a checkout with no local config (an act job, a reader's clone)."""
    cache = root / "dvc-cache"
    if not cache.exists():
        subprocess.run(["cp", "-al", str(seed), str(cache)], check=True)
    config = root / "dvc-global"
    config.mkdir()
    (config / "config").write_text(f"[cache]\n    dir = {cache}\n")
    return config
