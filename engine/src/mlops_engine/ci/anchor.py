"""The fixed anchor: the candidate against the last released model, on the holdout.

The gate's base moves with every merge, so a chain of changes that are each "not shown
worse" than their own base can compound: five merges of +3% MAE are +16% after the fifth,
and no single comparison sees it. The anchor does not move with merges: it is the model of
the newest **release**, a git tag matching ``gate.anchor.tags`` (``model-v*``), which a
maintainer pushes on a commit whose model was built and deployed (docs/ci.md, "The fixed
anchor"). The candidate fails when it is shown to be worse than that model by more than the
cumulative ``gate.anchor.budget`` (8% MAE by default), with the same paired, seeded
intervals and three outcomes as the gate's checks against the base (ci/gate.py
``anchor_check``). Moving the anchor is a release: a deliberate act that accepts the
drift since the last one, never a side effect of a merge.

The anchor is judged on the **holdout** (``split.holdout``: the test period's last share,
written by the split stage beside the public test rows): rows no report, table or log ever
shows a figure of. Each report that prints figures on the public test rows tells the next
change how to do better on them (adaptive overfitting); the holdout answers one question
per run, with its outcome only (pass, fail, inconclusive), which is what keeps it useful
for the long-run comparison. How often the public rows have been the judge is counted from
git history (``public_queries``).

The anchor's answers are obtained as the base's are (ci/champion.py): its model from the
local DVC cache, else reproduced by its own pipeline in a temporary worktree (the DVC
remote pulled when it has one), then re-scored on today's holdout rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops_engine import git, storage
from mlops_engine.ci.champion import (
    answer_labels,
    meaning_changed,
    pick_out,
    rescore,
    side_of,
    stage_outs,
    truth_of,
)
from mlops_engine.ci.gate import MetricCheck, Rows, anchor_check
from mlops_engine.config import Params, read_yaml
from mlops_engine.outputs import load_yaml

QUERY_HISTORY = 300  # commits of dvc.lock's history read for the public rows' count


@dataclass(frozen=True)
class Anchor:
    """The anchor's outcome (``check``: None when there is nothing to judge) and the
    release it names."""

    tag: str | None
    commit: str | None
    check: MetricCheck | None
    explanation: str = ""  # why there is no check
    rows: int = 0  # holdout rows judged on

    @property
    def failed(self) -> bool:
        return self.check is not None and self.check.failed


def release(pattern: str) -> tuple[str, str] | None:
    """The newest git tag matching ``pattern`` (version order: model-v10 after model-v9)
    and its commit, or None."""
    proc = git.run("tag", "--list", pattern, "--sort=-v:refname", check=False)
    tags = [t for t in proc.stdout.split() if t]
    if proc.returncode != 0 or not tags:
        return None
    return tags[0], git.commit_of(f"{tags[0]}^{{commit}}")


def holdout_rows(
    anchor_ref: str, params: Params, lock: Path, remote_optional: bool = False
) -> Rows | str:
    """The holdout's truth with the anchor's answers (``champion``) and this revision's
    model's (``challenger``), or why they cannot be had (a sentence)."""
    contract = params.contract
    ours = load_yaml(lock.read_text()) or {}
    split_outs, train_outs = stage_outs(ours, "split"), stage_outs(ours, "train")
    held, model_out = pick_out(split_outs, "holdout"), pick_out(train_outs, "model")
    if held is None or model_out is None:
        return f"{lock} records no holdout (split.holdout is 0) or no model"
    if not Path(held[0]).exists() or not Path(model_out[0]).exists():
        raise FileNotFoundError(
            f"the anchor check reads {held[0]} and {model_out[0]}: run `make repro` first"
        )
    holdout = storage.read_parquet(held[0])
    if holdout.empty:
        return "the holdout is empty (split.holdout is 0)"
    there = read_yaml(git.read_at(anchor_ref, "params.yaml") or "") or {}
    changed = meaning_changed(there, params)
    if changed:
        return f"{', '.join(changed)} differ from the release: its model predicts else"
    their_lock = load_yaml(git.read_at(anchor_ref, str(lock)) or "") or {}
    theirs = pick_out(stage_outs(their_lock, "train"), "model")
    if theirs is None:
        return "the release's dvc.lock records no trained model"
    model = storage.read_model(model_out[0])
    classes = answer_labels(model, contract, holdout)
    challenger = side_of(model, holdout, contract, classes)
    released = rescore(
        anchor_ref,
        theirs,
        holdout,
        contract,
        classes,
        remote_optional=remote_optional,
        known=(model_out[1], challenger),  # the same model file: the same answers
    )
    return Rows(truth_of(holdout, params, classes), released, challenger, challenger, {})


def judge(
    params: Params, lock: Path, *, accepted: bool = False, remote_optional: bool = False
) -> Anchor:
    """The anchor check of this revision (see the module docstring)."""
    pattern = params.gate.anchor.tags
    if not pattern:
        return Anchor(None, None, None, "gate.anchor.tags is not set: no anchor")
    found = release(pattern)
    if found is None:
        return Anchor(None, None, None, f"no release yet (no git tag matching `{pattern}`)")
    tag, commit = found
    rows = holdout_rows(commit, params, lock, remote_optional)
    if isinstance(rows, str):
        return Anchor(tag, commit, None, rows)
    check = anchor_check(rows, params.gate, accepted=accepted)
    return Anchor(tag, commit, check, rows=rows.truth.n)


_OUTCOME = {
    "pass": ("✅", "within the budget"),
    "fail": ("❌", "shown beyond the budget"),
    "inconclusive": ("❔", "inconclusive"),
}


def line(anchor: Anchor, params: Params) -> str:
    """The anchor's line in the report, the gate's log and its summary: the outcome and the
    rule, never a figure of the holdout (no value, difference or interval)."""
    rule = params.gate.anchor
    if anchor.check is None:
        return f"➖ **Anchor**: {anchor.explanation}; no anchor check (docs/ci.md)."
    c = anchor.check
    icon, text = _OUTCOME[c.outcome]
    if c.verdict == "undefined":
        text = "undefined (no interval), which fails"
    elif c.action:
        text += f" ({c.action})"
    budget = f"{rule.budget:.0%}" if rule.scale == "relative" else f"{rule.budget:g}"
    return (
        f"{icon} **Anchor** `{anchor.tag}` (release, commit `{anchor.commit[:12]}`): "
        f"{c.name} {text}: at most {budget} worse than the release's model, judged on "
        f"{anchor.rows:,} holdout rows that no report shows figures of (docs/ci.md)."
    )


def public_queries(lock: Path) -> tuple[int, bool] | None:
    """How many models the public test rows have judged: the distinct trained models in the
    first-parent history of HEAD (the base branch's merges, this change included) whose
    dvc.lock records today's test split, back to where it was last drawn. True when the
    history read was cut at ``QUERY_HISTORY`` commits (then "at least"). None without a
    test split in dvc.lock. Pull requests never merged are not in the history: a lower
    bound."""
    ours = load_yaml(lock.read_text()) if lock.exists() else None
    test = pick_out(stage_outs(ours or {}, "split"), "test")
    if test is None:
        return None
    proc = git.run(
        "log",
        "--first-parent",
        "--format=%H",
        f"-n{QUERY_HISTORY}",
        "HEAD",
        "--",
        str(lock),
        check=False,
    )
    commits = proc.stdout.split()
    models = set()
    here = pick_out(stage_outs(ours, "train"), "model")
    if here is not None:
        models.add(here[1])
    for sha in commits:
        theirs = load_yaml(git.read_at(sha, str(lock)) or "") or {}
        if pick_out(stage_outs(theirs, "split"), "test") != test:
            return len(models), False
        model = pick_out(stage_outs(theirs, "train"), "model")
        if model is not None:
            models.add(model[1])
    return len(models), len(commits) >= QUERY_HISTORY
