"""The ``mlops`` console script: one subcommand per pipeline stage and per workflow step.

Each command only loads inputs, calls a pure core function and writes outputs; paths come
from the command line (decided by ``dvc.yaml``), knobs from ``params.yaml``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mlops_template import storage
from mlops_template.config import ConfigError, Params, load_params
from mlops_template.init import InitError

log = logging.getLogger("mlops")

Command = Callable[[argparse.Namespace, Params], int]
_COMMANDS: dict[str, tuple[Command, str, Callable[[argparse.ArgumentParser], None]]] = {}


def command(name: str, help: str, args: Callable[[argparse.ArgumentParser], None]):
    def register(fn: Command) -> Command:
        _COMMANDS[name] = (fn, help, args)
        return fn

    return register


@command(
    "ingest",
    "raw file -> typed, time-stamped parquet",
    lambda p: (
        p.add_argument("--source", required=True),
        p.add_argument("--feedback", help="folder of labelled production batches (*.parquet)"),
        p.add_argument("--out", required=True),
    ),
)
def _ingest(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.ingest import ingest, with_feedback

    feedback = [storage.read_parquet(f) for f in storage.list_parquet(a.feedback)]
    frame = with_feedback(
        ingest(storage.read_table(a.source), params.ingest), feedback, params.ingest.time_column
    )
    if feedback:
        log.info("ingest: + %d feedback batch(es) from %s", len(feedback), a.feedback)
    storage.write_parquet(frame, a.out)
    log.info("ingest: %d rows x %d columns -> %s", *frame.shape, a.out)
    return 0


@command(
    "validate",
    "check the data contract; write the validated table and a report",
    lambda p: (
        p.add_argument("--data", required=True),
        p.add_argument("--out", required=True),
        p.add_argument("--report", required=True),
    ),
)
def _validate(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.validate import validate

    result = validate(storage.read_parquet(a.data), params.contract)
    storage.write_json(result.report(), a.report)
    if not result.ok:
        for failure in result.failures:
            log.error("validate: %s", failure.describe())
        log.error(
            "validate: %d rule(s) failed; report in %s. Fix the data, or the contract in "
            "params.yaml if the data is right, then run `make run` again",
            len(result.failures),
            a.report,
        )
        return 1
    storage.write_parquet(result.frame, a.out)
    log.info("validate: %d rows pass the contract -> %s", result.n_rows, a.out)
    return 0


@command(
    "split",
    "time-aware train/test split inside the training window",
    lambda p: (
        p.add_argument("--data", required=True),
        p.add_argument("--train", required=True),
        p.add_argument("--test", required=True),
    ),
)
def _split(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.split import split

    train, test = split(storage.read_parquet(a.data), params.split, params.contract, params.seed)
    storage.write_parquet(train, a.train)
    storage.write_parquet(test, a.test)
    log.info("split: train %d rows, test %d rows", len(train), len(test))
    return 0


@command(
    "train",
    "fit the model pipeline",
    lambda p: (p.add_argument("--train", required=True), p.add_argument("--model", required=True)),
)
def _train(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.train import train

    model = train(storage.read_parquet(a.train), params.train, params.contract, params.seed)
    storage.write_model(model, a.model)
    log.info("train: %s fitted -> %s", type(model.named_steps["model"]).__name__, a.model)
    return 0


@command(
    "reference",
    "the training rows with the model's predictions: what the drift monitor compares with",
    lambda p: (
        p.add_argument("--model", required=True),
        p.add_argument("--train", required=True),
        p.add_argument("--out", required=True),
    ),
)
def _reference(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.reference import reference

    frame = reference(storage.read_parquet(a.train), storage.read_model(a.model), params.contract)
    storage.write_parquet(frame, a.out)
    log.info("reference: %d rows x %d columns -> %s", *frame.shape, a.out)
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    for name in (
        "--model",
        "--train",
        "--test",
        "--metrics",
        "--slices",
        "--plots-dir",
        "--figures-dir",
    ):
        p.add_argument(name, required=True)


@command("evaluate", "metrics, slices, plots and the naive baseline", _evaluate_args)
def _evaluate(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.evaluate import evaluate
    from mlops_template.plots import render

    model = storage.read_model(a.model)
    train, test = storage.read_parquet(a.train), storage.read_parquet(a.test)
    result = evaluate(model, train, test, params.contract, params.evaluate, params.seed)
    storage.write_json(result.metrics, a.metrics)
    storage.write_json(result.slices, a.slices)
    storage.write_csv(result.predictions, Path(a.plots_dir) / "predictions.csv")
    storage.write_csv(result.importance, Path(a.plots_dir) / "importance.csv")
    for name, table in result.curves.items():
        storage.write_csv(table, Path(a.plots_dir) / f"{name}.csv")
    for name, png in render(result, params.contract.task).items():
        storage.write_bytes(png, Path(a.figures_dir) / name)
    log.info("evaluate: %s", {k: v for k, v in result.metrics.items() if not isinstance(v, dict)})
    return 0


@command(
    "summary",
    "print the headline metrics and where the reports are",
    lambda p: p.add_argument("--dvc-file", default="dvc.yaml"),
)
def _summary(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.summary import summarize

    sys.stdout.write(summarize(Path(a.dvc_file), params) + "\n")
    return 0


@command(
    "repro",
    "dvc repro, restoring from the DVC remote and run-cache when one exists",
    lambda p: p.add_argument(
        "--push", action="store_true", help="push outputs and run-cache (trusted events only)"
    ),
)
def _repro(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.reproduce import reproduce

    reproduce(push=a.push)
    return 0


def _gate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base-ref", required=True, help="git revision to compare with, e.g. origin/main"
    )
    p.add_argument("--dvc-file", default="dvc.yaml")


@command("gate", "fail when a metric regresses beyond its tolerance vs --base-ref", _gate_args)
def _gate(a: argparse.Namespace, params: Params) -> int:
    from mlops_template import revisions
    from mlops_template.gate import all_checks
    from mlops_template.outputs import locate

    path = locate(Path(a.dvc_file)).metrics
    current = storage.read_json(path)
    checks = all_checks(revisions.json_at(a.base_ref, path), current, params.gate)
    for check in checks:
        (log.error if check.failed else log.info)("gate: %s", check.describe())
    failed = [c.name for c in checks if c.failed]
    if failed:
        log.error("gate: FAILED on %s", ", ".join(failed))
        return 1
    log.info("gate: passed (%d checks against %s)", len(checks), a.base_ref)
    return 0


def _report_args(p: argparse.ArgumentParser) -> None:
    _gate_args(p)
    p.add_argument("--out", required=True, help="markdown file to write")
    p.add_argument("--title", default="Model report")
    p.add_argument(
        "--summary",
        default=os.environ.get("GITHUB_STEP_SUMMARY"),
        help="also append to this file (default: $GITHUB_STEP_SUMMARY)",
    )
    p.add_argument(
        "--images",
        choices=["link", "local"],
        default="link",
        help="link: figures stay in the workflow artifact; local: for cml --publish",
    )
    p.add_argument("--artifact-url", default=os.environ.get("REPORT_ARTIFACT_URL") or None)
    p.add_argument("--plots-diff", default=None, help="write `dvc plots diff` HTML here")


@command(
    "report", "markdown report: metrics vs --base-ref, params diff, validation, plots", _report_args
)
def _report(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.pr_report import build_report

    text = build_report(a, params)
    storage.write_bytes(text.encode(), a.out)
    if a.summary:
        with open(a.summary, "a", encoding="utf-8") as fh:
            fh.write(text)
    log.info("report: %s%s", a.out, f" (and {a.summary})" if a.summary else "")
    return 0


def _save_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument("--dvc-file", default="dvc.yaml")


@command(
    "save-model",
    "save the pipeline's model to the BentoML store with lineage; print its tag",
    _save_model_args,
)
def _save_model(a: argparse.Namespace, params: Params) -> int:
    import yaml

    from mlops_template import registry, revisions
    from mlops_template.model_tag import model_md5
    from mlops_template.outputs import locate, lock_versions

    metrics_path = locate(Path(a.dvc_file)).metrics
    lineage = registry.Lineage(
        git_commit=revisions.commit_of("HEAD"),
        model_md5=model_md5(Path(a.lock), a.model),
        data={k: v for k, v in lock_versions(Path(a.lock)).items() if k != a.model},
        params=yaml.safe_load(Path(a.params).read_text()),
        metrics=storage.read_json(metrics_path) if metrics_path else {},
    )
    tag = registry.save(Path(a.model), params.serve.model_name, lineage)
    sys.stdout.write(tag + "\n")
    log.info("save-model: %s (sha256 recorded, lineage: commit %s)", tag, lineage.git_commit[:12])
    return 0


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--export", default=None, help="also export the Bento to this file")
    p.add_argument("--registry", default="ghcr.io")
    p.add_argument("--repository", default=os.environ.get("GITHUB_REPOSITORY", "local/mlops"))
    p.add_argument("--github-output", default=os.environ.get("GITHUB_OUTPUT"))
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))


@command(
    "build",
    "build the Bento (service + exact model + locked requirements); print its tag",
    _build_args,
)
def _build(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.bento import build, describe, export
    from mlops_template.model_tag import model_tag
    from mlops_template.outputs import locate

    version = model_tag(Path(a.lock), params.serve.model_name).split(":", 1)[1]
    tag = build(model_version=version)
    if a.export:
        export(tag, Path(a.export))
    image = f"{a.registry}/{a.repository}".lower()
    outputs = {"bento_tag": tag, "model_version": version, "image": image}
    if a.github_output:
        with open(a.github_output, "a", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in outputs.items())
    if a.summary:
        metrics = storage.read_json(locate(Path(a.dvc_file)).metrics)
        with open(a.summary, "a", encoding="utf-8") as fh:
            fh.write(describe(outputs, metrics))
    sys.stdout.write(tag + "\n")
    return 0


def _replay_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None, help="raw file (default: ingest.source)")
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument("--periods", type=int, default=1, help="how many periods to send")
    p.add_argument("--start", default=None, help="replay from this time (ignores the cursor)")


@command(
    "replay",
    "send the next period of the demo production stream as prediction logs + labels",
    _replay_args,
)
def _replay(a: argparse.Namespace, params: Params) -> int:
    import pandas as pd

    from mlops_template.ingest import ingest
    from mlops_template.model_tag import model_md5
    from mlops_template.prediction_log import write_batch
    from mlops_template.stream import as_traffic, next_period

    contract, cursor_file = params.contract, Path(params.stream.cursor)
    if contract.time_column is None or params.ingest.history_until is None:
        raise ValueError("replay needs contract.time_column and ingest.history_until")
    whole = params.ingest.model_copy(update={"history_until": None})
    stream = ingest(storage.read_table(a.source or params.ingest.source), whole)
    stream = stream[stream[contract.time_column] >= pd.Timestamp(params.ingest.history_until)]
    start = a.start or (storage.read_json(cursor_file)["next"] if cursor_file.exists() else None)
    trained_until = params.split.window.end or params.ingest.history_until
    # no cursor yet (e.g. a fresh CI runner): start right after the current training data
    cursor = pd.Timestamp(start or max(trained_until, params.ingest.history_until))
    model, version = storage.read_model(a.model), model_md5(Path(a.lock), a.model)[:16]
    for _ in range(a.periods):
        rows, cursor = next_period(stream, contract.time_column, cursor, params.stream.period)
        if rows.empty:
            log.warning("replay: the stream has no rows from %s on", cursor)
            break
        logs, labelled = as_traffic(rows, model, version, contract)
        for day, part in logs.groupby(logs["logged_at"].dt.date):
            write_batch(params.serve.prediction_log.sink, part, at=pd.Timestamp(day))
        for day, part in labelled.groupby(labelled["logged_at"].dt.date):
            write_batch(params.monitor.labelled_sink, part, at=pd.Timestamp(day))
        storage.write_json({"next": cursor.isoformat()}, cursor_file)
        log.info("replay: %d rows up to %s (model %s)", len(rows), cursor, version)
    return 0


def _monitor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reference", default="data/reference/reference.parquet")
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--out-dir", default="reports/monitor")
    p.add_argument("--now", default=None, help="end of the newest window (default: last log)")
    p.add_argument("--github-output", default=os.environ.get("GITHUB_OUTPUT"))
    p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY"))
    p.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 for both verdicts (CI reads retrain= from the outputs); failures stay 1",
    )


@command(
    "monitor",
    "drift check of production vs the training reference; exit 3 = retrain, 0 = not, 1 = failed",
    _monitor_args,
)
def _monitor(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.monitoring import run_monitor

    outcome = run_monitor(a, params)
    sys.stdout.write(outcome.verdict_line() + "\n")
    if a.github_output:
        with open(a.github_output, "a", encoding="utf-8") as fh:
            fh.writelines(f"{k}={v}\n" for k, v in outcome.outputs().items())
    if a.summary:
        with open(a.summary, "a", encoding="utf-8") as fh:
            fh.write(outcome.markdown())
    return 3 if outcome.decision.retrain and not a.exit_zero else 0


def _retrain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="models/model.joblib")
    p.add_argument("--test", default="data/processed/test.parquet")
    p.add_argument("--feedback-dir", default="data/feedback")
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--monitor-summary", default="reports/monitor/summary.json")
    p.add_argument("--out-dir", default="reports/retrain")
    p.add_argument("--github-output", default=os.environ.get("GITHUB_OUTPUT"))
    p.add_argument("--artifact-url", default=os.environ.get("REPORT_ARTIFACT_URL") or None)


@command(
    "retrain",
    "add the new labelled production rows as feedback, move the window, dvc repro, compare",
    _retrain_args,
)
def _retrain(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.retraining import run_retrain

    key = run_retrain(a, params)
    if a.github_output:
        with open(a.github_output, "a", encoding="utf-8") as fh:
            fh.write(f"retrain_key={key}\n")
    sys.stdout.write(key + "\n")
    return 0


def _propose_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default="main")
    p.add_argument("--body", default="reports/retrain/pr.md")
    p.add_argument("--key-file", default="reports/retrain/key.txt")
    p.add_argument("--remote", default="origin")
    p.add_argument(
        "--paths",
        nargs="+",
        default=["params.yaml", "dvc.lock", "data/feedback", "reports"],
        help="what the retraining commit contains",
    )


@command(
    "propose",
    "commit the retrained pipeline to the fixed retraining branch; open or update its one PR",
    _propose_args,
)
def _propose(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.propose import Proposal, propose

    title_line = Path(a.body).read_text().splitlines()[0].lstrip("# ").strip()
    result = propose(
        Proposal(
            branch=params.retrain.branch,
            base=a.base,
            title=title_line,
            body_file=a.body,
            key=Path(a.key_file).read_text().strip(),
            paths=a.paths,
            labels=params.retrain.labels,
            remote=a.remote,
        )
    )
    sys.stdout.write(f"{result}\n")
    return 0


@command(
    "ct-status",
    "age and result of the last scheduled drift check (warning annotation when stale)",
    lambda p: (
        p.add_argument("--workflow", default="ct.yml"),
        p.add_argument("--summary", default=os.environ.get("GITHUB_STEP_SUMMARY")),
        p.add_argument("--strict", action="store_true", help="exit 1 when stale"),
    ),
)
def _ct_status(a: argparse.Namespace, params: Params) -> int:
    import datetime as dt

    from mlops_template.ct_status import describe, last_runs

    level, text = describe(
        last_runs(a.workflow), dt.datetime.now(dt.UTC), params.monitor.max_silence_days, a.workflow
    )
    sys.stdout.write((f"::warning title=Drift check::{text}" if level == "stale" else text) + "\n")
    if a.summary:
        with open(a.summary, "a", encoding="utf-8") as fh:
            fh.write(f"{'⚠️' if level == 'stale' else '✅'} {text}\n\n")
    return 1 if level == "stale" and a.strict else 0


def _init_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="your table: .csv, .csv.gz or .parquet")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--task", choices=["auto", "regression", "classification"], default="auto")
    p.add_argument("--time-column", default=None, help="timestamp column (time split, CT)")
    p.add_argument("--raw-dir", default="data/raw", help="where the pipeline's input lives")
    p.add_argument("--archive-dir", default="data/examples", help="where the example goes")


@command(
    "init",
    "use your own table: infer the data contract and defaults, rewrite params.yaml",
    _init_args,
)
def _init(a: argparse.Namespace, params: Params) -> int:
    from mlops_template.init import init_project

    sys.stdout.write(init_project(a, params) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops", description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml", help="path to params.yaml")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text, add_args) in _COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    start = time.perf_counter()
    try:
        params = load_params(args.params)
        code = _COMMANDS[args.command][0](args, params)
    except ConfigError as err:
        log.error("%s", err)
        return 2
    except InitError as err:
        log.error("init: %s", err)
        return 2
    except (ValueError, KeyError, FileNotFoundError, OSError, RuntimeError) as err:
        log.error("%s failed: %s", args.command, err)
        return 1
    log.info("%s: done in %.1fs", args.command, time.perf_counter() - start)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
