"""What the quality gate compares a change with: the base revision's model, the champion.

Committed metrics are comparable only when both sides were scored on the same rows. A
retraining pull request moves the training window and adds feedback data, so its test split
is newer than the base's: its committed metrics and main's describe different months (the
challenger 45.85 MAE on May against the champion's 21.39 on March looked like a regression,
while on May the champion scores 56.98). Three cases, decided from the two dvc.lock files
and params.yaml files:

- **no base**: the base revision does not exist (the merge workflow compares with the
  push's ``before``, all zeros when the push created the branch, as the first push of a
  repository made from the template does; a rebuild compares with ``HEAD~1``, absent in a
  one-commit history), has no metrics, or predicts something else (target, task or raw
  data source changed, e.g. after ``mlops init``): the per-metric checks have nothing to
  compare with; the naive-baseline margin still applies.
- **committed**: the test split's hash is the same on both sides: the base's committed
  metrics are on the same rows.
- **re-scored**: the test split differs: the base's model is scored on this revision's test
  split, exactly as ``evaluate`` scored this revision's model there.

The base's model comes from the local DVC cache when it is there, else from reproducing the
base's ``train`` stage in a temporary git worktree that shares this repository's DVC cache
(with the DVC remote's data and run-cache pulled when the base configures one), running the
base's own code. That pull reads storage, so the workflow steps that run the gate and the
report get the storage secrets. A fork's pull request gets none (``remote_optional``, as for
``mlops repro``): when the pull fails, the base's model is reproduced from the data in the
repository instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from mlops_template import revisions, storage
from mlops_template.config import Params, read_yaml

log = logging.getLogger(__name__)
Kind = Literal["none", "committed", "rescored"]
# params.yaml keys that decide what a metric means: if any differs, numbers are not comparable
MEANING = (("contract", "target"), ("contract", "task"), ("ingest", "source"))


@dataclass(frozen=True)
class Base:
    """The base side of the gate: its metrics (None: no base) and how they were obtained."""

    kind: Kind
    metrics: dict[str, Any] | None
    explanation: str


def _outs(lock: dict, stage: str) -> dict[str, str]:
    return {o["path"]: o["md5"] for o in lock.get("stages", {}).get(stage, {}).get("outs", [])}


def _pick(outs: dict[str, str], word: str) -> tuple[str, str] | None:
    found = [(p, md5) for p, md5 in outs.items() if word in Path(p).name]
    return found[0] if len(found) == 1 else None


def _dig(tree: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        tree = (tree or {}).get(key) if isinstance(tree, dict) else None
    return tree


def _cache_file(md5: str) -> Path | None:
    proc = subprocess.run(["dvc", "cache", "dir"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    path = Path(proc.stdout.strip()) / "files" / "md5" / md5[:2] / md5[2:]
    return path if path.exists() else None


def _reproduce_model(ref: str, model_path: str, md5: str, remote_optional: bool = False) -> Path:
    """The base's model file, made by the base's own pipeline in a temporary worktree."""
    from mlops_template.pipeline.reproduce import remotes

    tmp = Path(tempfile.mkdtemp(prefix="champion-"))
    tree = tmp / "tree"
    revisions.git("worktree", "add", "--detach", "--quiet", str(tree), ref)
    try:
        cache = subprocess.run(
            ["dvc", "cache", "dir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}  # the base's code, not ours
        _run(["dvc", "config", "--local", "cache.dir", cache], tree, env, ref)
        if not remotes(cwd=tree):  # the base's own .dvc/config decides
            _run(["dvc", "repro", "train"], tree, env, ref)
        else:
            try:
                _run(["dvc", "repro", "--pull", "train"], tree, env, ref)
            except RuntimeError as err:
                if not remote_optional:
                    raise RuntimeError(
                        f"{err}\nIf the base's DVC remote could not be read: check the storage "
                        "secrets reach this step (see src/mlops_template/credentials.py)"
                    ) from None
                log.warning(
                    "pulling %s's model inputs from the DVC remote failed and the remote is "
                    "optional here (a fork's pull request sees no secrets): reproducing it "
                    "from the data in the repository",
                    ref,
                )
                _run(["dvc", "repro", "train"], tree, env, ref)
        produced = tree / model_path
        got = hashlib.md5(produced.read_bytes()).hexdigest() if produced.exists() else None
        if got != md5:
            raise RuntimeError(
                f"{ref}'s pipeline reproduced {model_path} with md5 {got}, but its dvc.lock "
                f"records {md5}: the base is not reproducible, so it cannot be re-scored"
            )
        kept = tmp / "model.joblib"
        shutil.copyfile(produced, kept)
        return kept
    finally:
        revisions.git("worktree", "remove", "--force", str(tree), check=False)


def _run(step: list[str], tree: Path, env: dict[str, str], ref: str) -> None:
    proc = subprocess.run(step, cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"reproducing {ref}'s model failed at `{' '.join(step)}`:\n"
            f"{(proc.stdout + proc.stderr)[-3000:]}"
        )


def base_metrics(
    ref: str, params: Params, metrics_path: str, lock: Path, remote_optional: bool = False
) -> Base:
    """The base side of the gate for ``ref`` (see the module docstring)."""
    if ref == revisions.NO_COMMIT:
        return Base(
            "none",
            None,
            "this push created the branch (the push event's `before` is all zeros): "
            "there is no earlier state of it to compare with",
        )
    if not revisions.exists(ref):
        return Base("none", None, f"{ref} does not exist (a repository's first commit?)")
    base_params = read_yaml(revisions.read_at(ref, "params.yaml") or "") or {}
    here = params.model_dump(mode="json")
    changed = [".".join(k) for k in MEANING if _dig(base_params, k) != _dig(here, k)]
    if changed:
        return Base(
            "none", None, f"{', '.join(changed)} differ from {ref}: its metrics measure else"
        )
    committed = revisions.json_at(ref, metrics_path)
    base_lock = yaml.safe_load(revisions.read_at(ref, str(lock)) or "") or {}
    if committed is None or not base_lock:
        return Base("none", None, f"{ref} has no committed metrics or dvc.lock")
    ours = yaml.safe_load(lock.read_text()) or {}
    test_here, test_there = (
        _pick(_outs(ours, "split"), "test"),
        _pick(_outs(base_lock, "split"), "test"),
    )
    if test_here is None or test_there is None or test_here[1] == test_there[1]:
        return Base("committed", committed, f"{ref}'s committed metrics, on the same test split")
    model = _pick(_outs(base_lock, "train"), "model")
    if model is None:
        return Base("none", None, f"{ref}'s dvc.lock records no trained model")
    model_path, md5 = model
    file = _cache_file(md5) or _reproduce_model(ref, model_path, md5, remote_optional)
    from mlops_template.pipeline.evaluate import score

    test = storage.read_parquet(test_here[0])
    try:
        scored = score(storage.read_model(file), test, params.contract)
    except (KeyError, ValueError) as err:
        return Base("none", None, f"{ref}'s model cannot score this test split: {err}")
    return Base(
        "rescored",
        {k: v for k, v in scored.items() if v is not None},
        f"{ref}'s model re-scored on this revision's test split ({len(test):,} rows), "
        "because the test split changed",
    )
