"""Pipeline stages: one command per DVC stage in dvc.yaml, each load -> pure core -> write."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlops_engine import storage
from mlops_engine.commands import command, log
from mlops_engine.config import Params


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
    from mlops_engine.pipeline.ingest import ingest, with_feedback

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
    from mlops_engine.pipeline.validate import validate

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
        p.add_argument(
            "--holdout",
            default=None,
            help="write the test rows set aside (split.holdout) here; empty when it is 0",
        ),
    ),
)
def _split(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.pipeline.split import set_aside, split

    train, test = split(storage.read_parquet(a.data), params.split, params.contract, params.seed)
    if a.holdout is None and params.split.holdout:
        raise ValueError("split: split.holdout is set: give --holdout PATH (dvc.yaml)")
    test, holdout = set_aside(test, params.split, params.contract, params.seed)
    storage.write_parquet(train, a.train)
    storage.write_parquet(test, a.test)
    if a.holdout is not None:
        storage.write_parquet(holdout, a.holdout)
    log.info(
        "split: train %d rows, test %d rows, holdout %d rows (never shown in reports)",
        len(train),
        len(test),
        len(holdout),
    )
    return 0


@command(
    "train",
    "fit the model pipeline",
    lambda p: (p.add_argument("--train", required=True), p.add_argument("--model", required=True)),
)
def _train(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.pipeline.train import train

    model = train(storage.read_parquet(a.train), params.train, params.contract, params.seed)
    storage.write_model(model, a.model)
    log.info("train: %s fitted -> %s", type(model.named_steps["model"]).__name__, a.model)
    return 0


@command(
    "reference",
    "the model's window (training and test rows) with its predictions: what the drift "
    "monitor compares with",
    lambda p: (
        p.add_argument("--model", required=True),
        p.add_argument("--train", required=True),
        p.add_argument("--test", required=True),
        p.add_argument("--out", required=True),
    ),
)
def _reference(a: argparse.Namespace, params: Params) -> int:
    import pandas as pd

    from mlops_engine.pipeline.reference import reference

    window = pd.concat(
        [storage.read_parquet(a.train), storage.read_parquet(a.test)], ignore_index=True
    )
    frame = reference(window, storage.read_model(a.model), params.contract)
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
    from mlops_engine.pipeline.evaluate import evaluate
    from mlops_engine.pipeline.plots import render

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
    "model-card",
    "reports/model_card.md: the model described from itself, its evaluation and params",
    lambda p: (
        [
            p.add_argument(name, required=True)
            for name in (
                "--model",
                "--train",
                "--test",
                "--metrics",
                "--slices",
                "--importance",
                "--out",
            )
        ]
        + [p.add_argument("--source", required=True, help="the raw data file (hashed)")]
    ),
)
def _model_card(a: argparse.Namespace, params: Params) -> int:
    import csv

    from mlops_engine.pipeline.model_card import CardInputs, render
    from mlops_engine.storage import md5_of
    from mlops_engine.templating import PROJECT_TEMPLATES

    with open(a.importance) as fh:
        importance = [(r["feature"], float(r["importance"])) for r in csv.DictReader(fh)]
    inputs = CardInputs(
        params=params,
        model=storage.read_model(a.model),
        train=storage.read_parquet(a.train),
        test=storage.read_parquet(a.test),
        metrics=storage.read_json(a.metrics),
        slices=storage.read_json(a.slices),
        importance=importance,
        hashes={path: md5_of(path) for path in (a.source, a.train, a.test, a.model)},
    )
    # the project's own wording (templates/model_card.md.j2), when it has one
    storage.write_bytes(render(inputs, PROJECT_TEMPLATES).encode(), a.out)
    log.info("model-card: %s", a.out)
    return 0
