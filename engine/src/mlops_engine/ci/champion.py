"""What the quality gate compares a change with: the base revision's model, the champion.

Committed metrics are comparable only when both sides were scored on the same rows. A
retraining pull request moves the training window and adds feedback data, so its test split
is newer than the base's: its committed metrics and main's describe different months, and a
challenger better than the champion on the new month can look like a regression against
the champion's figure on the old one (the case that showed it: docs/performance.md,
"Figures behind the gate"). Three cases, decided from the two dvc.lock files
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

import numpy as np

from mlops_engine import git, storage
from mlops_engine.config import Params, read_yaml
from mlops_engine.outputs import load_yaml
from mlops_engine.paired import Side, Truth, time_blocks
from mlops_engine.pipeline.metrics import aligned_proba, class_labels

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
    model_file: Path | None = None  # the base's model, when it was needed already


def stage_outs(lock: dict, stage: str) -> dict[str, str]:
    """A parsed dvc.lock's outputs of ``stage``: path -> md5."""
    return {o["path"]: o["md5"] for o in lock.get("stages", {}).get(stage, {}).get("outs", [])}


def pick_out(outs: dict[str, str], word: str) -> tuple[str, str] | None:
    """The one output (path, md5) whose file name holds ``word``; None for none or several."""
    found = [(p, md5) for p, md5 in outs.items() if word in Path(p).name]
    return found[0] if len(found) == 1 else None


def _dig(tree: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        tree = (tree or {}).get(key) if isinstance(tree, dict) else None
    return tree


def meaning_changed(there: dict, params: Params) -> list[str]:
    """The ``MEANING`` keys on which another revision's parsed params.yaml (``there``)
    differs from ``params``: non-empty, and its model predicts something else."""
    here = params.model_dump(mode="json")
    return [".".join(k) for k in MEANING if _dig(there, k) != _dig(here, k)]


def locked_model(ref: str, locked: tuple[str, str], remote_optional: bool = False) -> Path:
    """The model file ``ref``'s dvc.lock records (``locked``: path, md5): from the local DVC
    cache, else reproduced by ``ref``'s own pipeline (see the module docstring)."""
    path, md5 = locked
    return _cache_file(md5) or _reproduce_model(ref, path, md5, remote_optional)


def rescore(
    ref: str,
    locked: tuple[str, str],
    frame: Any,
    contract: Any,
    labels: Any = None,
    *,
    remote_optional: bool = False,
    known: tuple[str, Side] | None = None,
) -> Side:
    """The answers on ``frame`` of the model ``ref``'s dvc.lock records (``locked``: path,
    md5), obtained by ``locked_model``: the one way the gate's base (the champion) and the
    anchor's release are re-scored on this revision's rows. ``known``: (md5, answers) of a
    model already scored on ``frame``: the same model file gives the same answers, and is
    not loaded again."""
    if known is not None and known[0] == locked[1]:
        return known[1]
    file = locked_model(ref, locked, remote_optional)
    return side_of(storage.read_model(file), frame, contract, labels)


def _cache_file(md5: str) -> Path | None:
    proc = subprocess.run(["dvc", "cache", "dir"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    path = Path(proc.stdout.strip()) / "files" / "md5" / md5[:2] / md5[2:]
    return path if path.exists() else None


def _reproduce_model(ref: str, model_path: str, md5: str, remote_optional: bool = False) -> Path:
    """The base's model file, made by the base's own pipeline in a temporary worktree."""
    from mlops_engine.pipeline.reproduce import remotes

    tmp = Path(tempfile.mkdtemp(prefix="champion-"))
    tree = tmp / "tree"
    git.run("worktree", "add", "--detach", "--quiet", str(tree), ref)
    try:
        cache = subprocess.run(
            ["dvc", "cache", "dir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        # the base's code, not ours: its engine (a workspace member) and its project package
        code = os.pathsep.join(str(tree / d) for d in ("engine/src", "src"))
        env = {**os.environ, "PYTHONPATH": code}
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
                        "secrets reach this step (see engine/src/mlops_engine/credentials.py)"
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
        git.run("worktree", "remove", "--force", str(tree), check=False)


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
    if ref == git.NO_COMMIT:
        return Base(
            "none",
            None,
            "this push created the branch (the push event's `before` is all zeros): "
            "there is no earlier state of it to compare with",
        )
    if not git.have(ref):  # a full SHA it cannot find or fetch is an error, not "none"
        return Base("none", None, f"{ref} does not exist (a repository's first commit?)")
    base_params = read_yaml(git.read_at(ref, "params.yaml") or "") or {}
    changed = meaning_changed(base_params, params)
    if changed:
        return Base(
            "none", None, f"{', '.join(changed)} differ from {ref}: its metrics measure else"
        )
    committed = git.json_at(ref, metrics_path)
    base_lock = load_yaml(git.read_at(ref, str(lock)) or "") or {}
    if committed is None or not base_lock:
        return Base("none", None, f"{ref} has no committed metrics or dvc.lock")
    ours = load_yaml(lock.read_text()) or {}
    test_here, test_there = (
        pick_out(stage_outs(ours, "split"), "test"),
        pick_out(stage_outs(base_lock, "split"), "test"),
    )
    if test_here is None or test_there is None or test_here[1] == test_there[1]:
        return Base("committed", committed, f"{ref}'s committed metrics, on the same test split")
    model = pick_out(stage_outs(base_lock, "train"), "model")
    if model is None:
        return Base("none", None, f"{ref}'s dvc.lock records no trained model")
    file = locked_model(ref, model, remote_optional)
    from mlops_engine.pipeline.evaluate import score

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
        model_file=file,
    )


# --- row-level answers for the paired gate (ci/gate.py paired_checks) -------------------


def side_of(model: Any, frame: Any, contract: Any, labels: Any = None) -> Any:
    """A model's answers on ``frame``: regression values at the precision evaluate writes
    them (4 decimals, so a committed predictions.csv and a live model agree), or class
    labels with probabilities, one column per label of ``labels`` (default: the model's
    classes). The champion and the challenger may know different classes (a class seen
    first in feedback): aligned to the same labels, column i is the same class on both."""
    X = frame[contract.features]
    if contract.task == "regression":
        return Side(np.round(np.asarray(model.predict(X), dtype=float), 4))
    proba = np.asarray(model.predict_proba(X))
    if labels is not None:
        extra = set(model.classes_) - set(labels)
        if extra:
            raise ValueError(
                f"gate: the model predicts class(es) {sorted(map(str, extra))} that the "
                f"contract's target '{contract.target}' does not declare"
            )
        proba = aligned_proba(proba, model.classes_, labels)
    return Side(np.asarray(model.predict(X), dtype=object), proba)


def _committed_side(ref: str, csv_path: str, y: Any) -> Any:
    """A regression champion's answers from its committed predictions.csv, when they are
    for these rows (same length, same actual values in the same order); else None."""
    import io

    import pandas as pd

    text = git.read_at(ref, csv_path)
    if not text:
        return None
    table = pd.read_csv(io.StringIO(text))
    if {"actual", "predicted"} - set(table.columns) or len(table) != len(y):
        return None
    if not np.allclose(table["actual"].to_numpy(dtype=float), np.asarray(y, dtype=float)):
        return None
    return Side(np.round(table["predicted"].to_numpy(dtype=float), 4))


def gate_rows(
    ref: str,
    base: Base,
    params: Params,
    lock: Path,
    predictions_csv: str | None,
    remote_optional: bool = False,
) -> Any:
    """Everything the paired gate compares, on this revision's test rows (paths from
    ``dvc.lock``): truth, champion (the base's model: its committed predictions when the
    test split is the same, else the model from the DVC cache or reproduced), challenger,
    the naive baseline fitted on the training rows, and the slice labels."""
    from mlops_engine.ci.gate import Rows
    from mlops_engine.pipeline.baseline import GroupMeanBaseline
    from mlops_engine.pipeline.evaluate import slice_labels

    contract = params.contract
    ours = load_yaml(lock.read_text()) or {}
    split_outs, train_outs = stage_outs(ours, "split"), stage_outs(ours, "train")
    test_out, train_out = pick_out(split_outs, "test"), pick_out(split_outs, "train")
    model_out = pick_out(train_outs, "model")
    if test_out is None or train_out is None or model_out is None:
        raise ValueError(f"{lock}: cannot tell the test split, training split and model apart")
    missing = [o[0] for o in (test_out, train_out, model_out) if not Path(o[0]).exists()]
    if missing:
        raise FileNotFoundError(
            f"the paired comparison reads this revision's pipeline outputs: {', '.join(missing)} "
            "missing (run `make repro` first)"
        )
    test, train = storage.read_parquet(test_out[0]), storage.read_parquet(train_out[0])
    model = storage.read_model(model_out[0])
    classes = answer_labels(model, contract, test)
    challenger = side_of(model, test, contract, classes)
    truth = truth_of(test, params, classes)
    naive = GroupMeanBaseline(params.evaluate.baseline.group_by, contract.task).fit(
        train[contract.features], train[contract.target]
    )
    if contract.task == "regression":
        baseline = Side(np.round(naive.predict(test[contract.features]), 4))
    else:  # fitted on the same training rows as the challenger: aligned to the same labels
        proba = aligned_proba(naive.predict_proba(test[contract.features]), naive.classes_, classes)
        baseline = Side(naive.predict(test[contract.features]), proba)
    slices = {spec.name: slice_labels(test, spec).to_numpy() for spec in params.evaluate.slices}
    champion = None
    if base.kind != "none":
        champion = _champion_side(
            ref,
            base,
            lock,
            model_out,
            test,
            predictions_csv,
            challenger,
            contract,
            remote_optional,
            classes,
        )
    return Rows(truth, champion, challenger, baseline, slices)


def answer_labels(model: Any, contract: Any, frame: Any) -> Any:
    """Classification: every label explicitly, the candidate ``model``'s classes (its
    probability columns' order), then any other the contract declares or ``frame``'s rows
    hold (the champion's model may know a class the candidate does not, or the reverse).
    Regression: None."""
    if contract.task != "classification":
        return None
    declared = contract.columns[contract.target].categories or ()
    return class_labels(model.classes_, list(declared), frame[contract.target].to_numpy())


def truth_of(frame: Any, params: Params, classes: Any = None) -> Truth:
    """``frame``'s true values for the paired comparison, with its rows' time stamps and
    blocks on a time split (the block length: ci/gate.py ``block_length``)."""
    contract = params.contract
    y = frame[contract.target].to_numpy()
    units = stamps = None
    if params.split.method == "time" and contract.time_column is not None:
        stamps = frame[contract.time_column].to_numpy()
        units = time_blocks(stamps, params.gate.block_length)
    target = y if contract.task == "regression" else y.astype(object)
    return Truth(target, contract.task, classes, units, stamps)


def _champion_side(
    ref: str,
    base: Base,
    lock: Path,
    model_out: tuple[str, str],
    test: Any,
    predictions_csv: str | None,
    challenger: Any,
    contract: Any,
    remote_optional: bool = False,
    labels: Any = None,
) -> Any:
    if base.model_file is not None:  # re-scored already: its model is at hand
        return side_of(storage.read_model(base.model_file), test, contract, labels)
    base_lock = load_yaml(git.read_at(ref, str(lock)) or "") or {}
    theirs = pick_out(stage_outs(base_lock, "train"), "model")
    if theirs is not None and theirs[1] == model_out[1]:
        return challenger  # the same model file: the same answers
    if contract.task == "regression" and predictions_csv:
        side = _committed_side(ref, predictions_csv, test[contract.target])
        if side is not None:
            return side
    if theirs is None:
        raise ValueError(f"{ref}'s dvc.lock records no trained model to compare with")
    return rescore(ref, theirs, test, contract, labels, remote_optional=remote_optional)
