"""A person's commands: bring your own data (``mlops init``), rename the package, start
your own wording of the reports (``mlops templates``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlops_engine.commands import command
from mlops_engine.config import Params


def _init_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="your table: .csv, .csv.gz or .parquet")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--task", choices=["auto", "regression", "classification"], default="auto")
    p.add_argument(
        "--time-column",
        default="auto",
        help="timestamp column (time split, CT); auto: detect it (default); none: no time axis",
    )
    p.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="COLUMN",
        help="leave this column out (repeatable); ingest drops it on every run",
    )
    p.add_argument("--raw-dir", default="data/raw", help="where the pipeline's input lives")
    p.add_argument("--archive-dir", default="data/examples", help="where the example goes")


@command(
    "init",
    "use your own table: infer the data contract and defaults, rewrite params.yaml",
    _init_args,
)
def _init(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.onboarding.infer_contract import InitRequest, init_project

    request = InitRequest(
        data=Path(a.data),
        target=a.target,
        task=a.task,
        time_column=None if a.time_column == "none" else a.time_column,
        drop=tuple(a.drop),
        raw_dir=Path(a.raw_dir),
        archive_dir=Path(a.archive_dir),
        params=Path(a.params),
    )
    sys.stdout.write(init_project(request, params) + "\n")
    return 0


@command(
    "rename-package",
    "rename the project's package (folder, distribution, entry point, its own imports)",
    lambda p: p.add_argument("name", help="the new package name: a lowercase Python identifier"),
)
def _rename_package(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.onboarding.rename import rename

    try:
        done = rename(Path.cwd(), a.name)
    except ValueError as err:
        sys.stderr.write(f"rename-package: {err}\n")
        return 2
    if not done.files:
        sys.stdout.write(f"the package is already {done.new}\n")
        return 0
    sys.stdout.write(f"renamed {done.old} -> {done.new}:\n")
    sys.stdout.write("".join(f"  {f}\n" for f in done.files))
    return 0


def _templates_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["list", "copy"], help="list them, or copy one to edit")
    p.add_argument("name", nargs="?", help="copy: the template, e.g. model_card.md.j2")
    p.add_argument("--to", default="templates", help="the project's templates folder")


@command(
    "templates",
    "the PR report's and the model card's wording: list the engine's templates, or copy one "
    "into templates/ to edit (that copy is then used instead)",
    _templates_args,
)
def _templates(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine import templating

    if a.action == "copy":
        if not a.name:
            raise templating.TemplateError(f"copy which? {', '.join(templating.names())}")
        sys.stdout.write(f"{templating.copy(a.name, Path(a.to))}: edit it; it is used now\n")
        return 0
    for name in templating.names():
        mine = Path(a.to) / name
        sys.stdout.write(f"{name}{f'  (yours: {mine})' if mine.exists() else ''}\n")
    return 0
