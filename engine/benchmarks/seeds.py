"""How much the default model's metrics move with the seed alone, and what each gate says.

For the bundled example and for a table made with `mlops init` (tests/fixtures/oj.csv.gz,
target Purchase, params rewritten as init rewrites them): one split, the default training
under seeds 0..N-1 (the seed drives the early-stopping holdout, the CV folds of a random
split and the booster), every model scored on the same test rows. Per gated metric: the
spread over the seeds, and how many seed-only changes (each seed against seed 42, the
default) fail the point gate (fixed relative tolerance) and the paired gate.

Then, on the bundled example, what the paired gate's three outcomes do (docs/ci.md, the
table behind ``gate.inconclusive``'s defaults): against the seed-42 champion, each seed's
model as it is (a seed-only change), with every row's error made 10% larger (a +10%
regression) and with the late hours' errors made 30% larger (a +30% regression confined to
the 72-row late band). Per scenario and check kind: how many checks pass, are inconclusive
or fail, how many of them claim "improved" or "regressed", and what share of the pull
requests would pass, need a person (``needs-review``) or fail outright.

With ``--counted`` the same table with training randomness counted (ci/seeds.py): each
challenger also trained on the gate's own extra seeds (``gate.seeds.count`` models in all;
the degraded scenarios degrade them alike), its intervals widened by their spread. With
``--ring N``: the must-show's setting (tests/model/test_seed_gate.py), the example's window
with half of it held out and the CV winner pinned, N seed-only pull requests in a ring of
N models, rows only and with 3 and 5 seeds counted.

Usage: uv run python -m benchmarks.seeds [--seeds 10] [--outcomes 20] [--counted] [--ring 30]
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from mlops_engine import storage
from mlops_engine.ci.gate import Rows, compare, paired_checks
from mlops_engine.ci.seeds import train_seeds
from mlops_engine.config import Params, load_params, parse_params, read_yaml
from mlops_engine.onboarding.infer_contract import infer, params_changes
from mlops_engine.paired import Side
from mlops_engine.pipeline.evaluate import score
from mlops_engine.pipeline.ingest import ingest
from mlops_engine.pipeline.split import split
from mlops_engine.pipeline.train import train
from mlops_engine.pipeline.validate import validate
from tests.model.test_paired_gate import rows_for

ROOT = Path(__file__).resolve().parents[2]


def example() -> tuple[str, Params, object]:
    params = load_params(ROOT / "params.yaml")
    return "bikeshare (example)", params, storage.read_table(ROOT / params.ingest.source)


def oj() -> tuple[str, Params, object]:
    source = ROOT / "engine" / "tests" / "fixtures" / "oj.csv.gz"
    frame = storage.read_table(source)
    raw = read_yaml((ROOT / "params.yaml").read_text())
    changes = params_changes(infer(frame, "Purchase"), str(source), "Purchase", None, "oj", 1070)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = raw
        for key in parents:
            node = node[key]
        node[leaf] = value
    return "oj (mlops init)", parse_params(raw), frame


def degraded(rows: Rows, factor: float, where: np.ndarray | None = None) -> Rows:
    """The challenger (and its other seeds' models) with each row's error (on ``where``'s
    rows) ``factor`` times larger."""
    y = rows.truth.y.astype(float)
    scale = np.where(where if where is not None else True, factor, 1.0)

    def worse(side: Side) -> Side:
        return Side(np.round(y - scale * (y - side.predicted), 4))

    return replace(
        rows,
        challenger=worse(rows.challenger),
        seed_sides=tuple(worse(s) for s in rows.seed_sides),
    )


def outcomes(n_seeds: int, counted: bool = False) -> None:
    """The three outcomes on the example (the module docstring)."""
    name, params, frame = example()
    if counted:
        name += f", seed noise counted ({params.gate.seeds.count} seeds)"
    data = validate(ingest(frame, params.ingest), params.contract).frame
    train_rows, test = split(data, params.split, params.contract, params.seed)
    c = params.contract
    champion = train(train_rows, params.train, c, 42)
    seeds = [s for s in range(n_seeds + 1) if s != 42][:n_seeds]
    late = None
    tally: dict[str, Counter] = {}
    detectable: dict[str, list[float]] = {}
    for s in seeds:
        rows = rows_for(params, train_rows, test, champion, train(train_rows, params.train, c, s))
        if counted:
            at = params.model_copy(update={"seed": s})
            runs = train_seeds(train_rows, test, at, rows.challenger)
            rows = replace(rows, seed_sides=runs.sides)
        if late is None:
            late = rows.slices["hr_band"] == "late"
        for scenario, r in (
            ("seed only", rows),
            ("+10% all rows", degraded(rows, 1.10)),
            ("+30% late band", degraded(rows, 1.30, late)),
        ):
            checks = [x for x in paired_checks(r, params.gate) if x.reference == "base"]
            if scenario == "seed only":
                for x in checks:
                    detectable.setdefault(x.slice or x.name, []).append(x.detectable / x.base)
            t = tally.setdefault(scenario, Counter())
            for x in checks:
                kind = "slices" if x.slice else "metrics"
                t[kind, x.outcome] += 1
                t[kind, "claims"] += x.verdict in ("improved", "regressed")
                t[kind, "n"] += 1
            kinds = {
                k: [x for x in checks if bool(x.slice) == (k == "slices")]
                for k in ("metrics", "slices")
            }
            fails = any(x.outcome == "fail" for x in checks)
            t[
                "pr",
                "fails" if fails else "needs review" if any(x.failed for x in checks) else "passes",
            ] += 1
            # the same pull request under gate.inconclusive.slices: warn
            metric_review = any(x.outcome == "inconclusive" for x in kinds["metrics"])
            t[
                "pr warn slices",
                "fails" if fails else "needs review" if metric_review else "passes",
            ] += 1
    print()
    print(f"Three outcomes on {name}, {len(test)} test rows, {len(seeds)} seeds against seed 42:")
    print()
    print(
        "| scenario | checks | pass | inconclusive | fail | claims improved/regressed "
        "| PRs passing | needing review | failing "
        "| same, slices `warn`: passing / review / failing |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for scenario, t in tally.items():
        for kind in ("metrics", "slices"):
            n = t[kind, "n"]
            pr = t["pr", "passes"], t["pr", "needs review"], t["pr", "fails"]
            warn = (
                t["pr warn slices", "passes"],
                t["pr warn slices", "needs review"],
                t["pr warn slices", "fails"],
            )
            print(
                f"| {scenario} | {kind} ({n}) | {t[kind, 'pass'] / n:.0%} "
                f"| {t[kind, 'inconclusive'] / n:.0%} | {t[kind, 'fail'] / n:.0%} "
                f"| {t[kind, 'claims'] / n:.1%} "
                + (
                    f"| {pr[0]}/{len(seeds)} | {pr[1]}/{len(seeds)} | {pr[2]}/{len(seeds)} "
                    f"| {warn[0]} / {warn[1]} / {warn[2]} |"
                    if kind == "metrics"
                    else "| | | | |"
                ),
                flush=True,
            )
    print()
    print(
        "Detectable regression (failed 80% of the time; median over the seed-only pairs, "
        "relative to the champion): "
        + ", ".join(f"{k} {statistics.median(v):+.0%}" for k, v in detectable.items())
    )


def ring(n: int) -> None:
    """The must-show's setting (tests/model/test_seed_gate.py) with ``n`` pull requests."""
    from tests.model.test_seed_gate import claims, seed_only_pool

    params, train_rows, test, pool = seed_only_pool(n)
    print()
    print(
        f"Seed-only pull requests, a ring of {n} models, {len(train_rows)} training rows, "
        f"{len(test)} test rows (claims improved/regressed: checks, pull requests):"
    )
    print()
    print("| seeds counted | checks claiming | pull requests claiming | checks inconclusive |")
    print("|---|---:|---:|---:|")
    for k in (1, 3, 5):
        said, total, prs, unsure = claims(params, train_rows, test, pool, k)
        label = "none (rows only)" if k == 1 else f"{k} models"
        print(
            f"| {label} | {said}/{total} ({said / total:.1%}) | {prs}/{n} | {unsure / total:.0%} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--outcomes", type=int, default=20, help="seeds for the outcome table")
    parser.add_argument("--counted", action="store_true", help="outcomes with seeds counted")
    parser.add_argument("--ring", type=int, default=0, help="the must-show's ring of models")
    a = parser.parse_args()
    if a.ring:
        ring(a.ring)
    if a.outcomes:
        outcomes(a.outcomes, a.counted)
    if not a.seeds:
        return
    print(
        "| table | test rows | metric | seed 42 | mean | sd | min .. max | spread / tolerance "
        "| seed-only changes failing: point gate | paired gate |"
    )
    print("|---|---:|---|---:|---:|---:|---|---:|---:|---:|")
    for name, params, frame in (example(), oj()):
        data = validate(ingest(frame, params.ingest), params.contract).frame
        train_rows, test = split(data, params.split, params.contract, params.seed)
        c = params.contract
        champion = train(train_rows, params.train, c, 42)
        base = score(champion, test, c)
        seeds = [s for s in range(a.seeds + 1) if s != 42][: a.seeds]
        scores, point_fail, paired_fail = [], 0, 0
        for s in seeds:
            model = train(train_rows, params.train, c, s)
            now = score(model, test, c)
            scores.append(now)
            point_fail += any(x.failed for x in compare(base, now, params.gate))
            rows = rows_for(params, train_rows, test, champion, model)
            paired_fail += any(x.failed for x in paired_checks(rows, params.gate))
        for metric, rule in params.gate.metrics.items():
            values = [sc[metric] for sc in scores]
            spread = (max(values) - min(values)) / (rule.tolerance * abs(base[metric]))
            print(
                f"| {name} | {len(test)} | {metric} | {base[metric]:.4g} "
                f"| {statistics.mean(values):.4g} | {statistics.stdev(values):.3g} "
                f"| {min(values):.4g} .. {max(values):.4g} | {spread:.1f} "
                f"| {point_fail}/{len(seeds)} | {paired_fail}/{len(seeds)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
