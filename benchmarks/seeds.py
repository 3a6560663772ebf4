"""How much the default model's metrics move with the seed alone, and what each gate says.

For the bundled example and for a table made with `mlops init` (tests/fixtures/oj.csv.gz,
target Purchase, params rewritten as init rewrites them): one split, the default training
under seeds 0..N-1 (the seed drives the early-stopping holdout, the CV folds of a random
split and the booster), every model scored on the same test rows. Per gated metric: the
spread over the seeds, and how many seed-only changes (each seed against seed 42, the
default) fail the point gate (fixed relative tolerance) and the paired gate.

Usage: uv run python -m benchmarks.seeds [--seeds 10]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from tests.model.test_paired_gate import rows_for

from mlops_template import storage
from mlops_template.ci.gate import compare, paired_checks
from mlops_template.config import Params, load_params, parse_params, read_yaml
from mlops_template.onboarding.inference import infer, params_changes
from mlops_template.pipeline.evaluate import score
from mlops_template.pipeline.ingest import ingest
from mlops_template.pipeline.split import split
from mlops_template.pipeline.train import train
from mlops_template.pipeline.validate import validate

ROOT = Path(__file__).resolve().parents[1]


def example() -> tuple[str, Params, object]:
    params = load_params(ROOT / "params.yaml")
    return "bikeshare (example)", params, storage.read_table(ROOT / params.ingest.source)


def oj() -> tuple[str, Params, object]:
    source = ROOT / "tests" / "fixtures" / "oj.csv.gz"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    a = parser.parse_args()
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
            paired_fail += any(x.failed for x in paired_checks(rows, params.gate, params.seed))
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
