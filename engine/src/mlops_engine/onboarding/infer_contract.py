"""Bring your own data: infer a data contract and the task's defaults from a table.

Pure: ``infer`` reads a DataFrame and returns the params sections to write; the ``init``
command does the file work (copy the data, archive the example, rewrite params.yaml).
Everything it guesses is shown for review and lives in params.yaml, where it can be edited.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from mlops_engine.contract import RESERVED, as_category_text
from mlops_engine.metric_defs import direction

if TYPE_CHECKING:
    from mlops_engine.config import Params

log = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_CLOSED_LEVELS = 50  # more levels: an open category (no closed set of allowed values)
MAX_CLASSES_FOR_AUTO = 20  # an integer target with at most this many values is a class label
MARGIN = 0.1  # ranges widened by 10% of the observed span on both sides
MIN_ROWS = 100
RARE_CLASS_ROWS = 10  # a class with fewer rows: said, with what it means and what to do
NEAR_UNIQUE = 0.9  # a text column with more distinct values than this share of rows: said
AUTO = "auto"  # --time-column default: find the time column; "none": the table has none
# GitHub warns about a file over 50 MiB and rejects one over 100 MiB: a raw table that big
# belongs in the DVC remote (`dvc add`), not in git.
GIT_WARN_BYTES = 50 * 1024 * 1024
_TIME_NAME = re.compile(r"(date|time|day|stamp|_at$|^at_)", re.IGNORECASE)


def detect_time_column(frame: pd.DataFrame, target: str) -> tuple[str | None, list[str]]:
    """(the chosen time column or None, every candidate): a column, other than the target,
    already of a datetime type or of text whose every value parses as a date/time (with
    digits in it, so category labels such as "May" are not taken for dates). A name such
    as ``date``, ``created_at`` or ``timestamp`` wins among several; else the first."""
    import warnings

    found = []
    for name in frame.columns:
        series = frame[name]
        if name == target or series.isna().any():
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            found.append(name)
            continue
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        text = series.astype(str)
        if not text.str.contains(r"\d", regex=True).all():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format": parsed one by one
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
        if parsed.notna().all() and parsed.nunique() > 1:
            found.append(name)
    named = [c for c in found if _TIME_NAME.search(c)]
    return ((named or found or [None])[0], found)


def git_size_warning(path: Path) -> str | None:
    """What to do instead of committing ``path`` when it is too large for GitHub."""
    size = path.stat().st_size
    if size <= GIT_WARN_BYTES:
        return None
    return (
        f"warning: {path} is {size / 2**20:,.0f} MiB: GitHub rejects files over 100 MiB "
        f"(and warns over 50). Do not commit it to git: `dvc add {path}`, then commit "
        f"{path}.dvc and push the data to your DVC remote with `dvc push` "
        "(docs/use-this-template.md, step 4)"
    )


Task = Literal["regression", "classification"]


class InitError(ValueError):
    """The table cannot be used as it is; the message says what to change."""


@dataclass(frozen=True)
class Inferred:
    task: Task
    columns: dict[str, dict[str, Any]]
    dropped: dict[str, str]
    unique: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    duplicate_rows: bool = False
    leakage_confirmed: tuple[str, ...] = ()
    imbalanced: bool = False


def check_names(columns: list[str]) -> None:
    bad = []
    for name in columns:
        if not NAME.match(str(name)):
            bad.append(
                f"'{name}': must be a letter or _ then letters, digits or _ (at most 64): "
                "it becomes a JSON field of the service and a Python identifier"
            )
        elif name in RESERVED:
            bad.append(f"'{name}': reserved for the service's response and prediction log")
    if bad:
        raise InitError(
            "column name(s) the pipeline cannot carry; rename them in the file:\n  - "
            + "\n  - ".join(bad)
        )


def _bound(value: float, integer: bool, up: bool) -> float | int:
    if integer:
        return int(math.ceil(value) if up else math.floor(value))
    return round(value, 6)


def _numeric_spec(series: pd.Series, integer: bool) -> dict[str, Any]:
    lo, hi = float(series.min()), float(series.max())
    span = (hi - lo) or abs(hi) or 1.0
    low, high = lo - MARGIN * span, hi + MARGIN * span
    if lo >= 0:
        low = max(low, 0.0)  # counts, prices and shares do not turn negative
    return {
        "dtype": "int" if integer else "float",
        "min": _bound(low, integer, up=False),
        "max": _bound(high, integer, up=True),
    }


def _is_integer(series: pd.Series) -> bool:
    values = series.dropna()
    if pd.api.types.is_integer_dtype(series):
        return True
    return pd.api.types.is_float_dtype(series) and bool((values == values.round()).all())


def _task(target: pd.Series, requested: str) -> Task:
    if requested in ("regression", "classification"):
        if requested == "regression" and not pd.api.types.is_numeric_dtype(target):
            raise InitError(f"--task regression needs a numeric target; '{target.name}' is not")
        return requested  # type: ignore[return-value]
    if pd.api.types.is_bool_dtype(target) or not pd.api.types.is_numeric_dtype(target):
        return "classification"
    if _is_integer(target) and target.nunique() <= MAX_CLASSES_FOR_AUTO:
        return "classification"
    return "regression"


def _column_spec(series: pd.Series) -> dict[str, Any]:
    if pd.api.types.is_bool_dtype(series):
        spec: dict[str, Any] = {"dtype": "bool"}
    elif pd.api.types.is_numeric_dtype(series):
        spec = _numeric_spec(series.dropna(), _is_integer(series))
    else:
        levels = sorted(as_category_text(series.dropna()).unique())
        spec = {"dtype": "category"}
        if len(levels) <= MAX_CLOSED_LEVELS:
            spec["categories"] = levels
    if series.isna().any():
        spec["nullable"] = True
    return spec


def infer(
    frame: pd.DataFrame,
    target: str,
    task: str = "auto",
    time_column: str | None = None,
    min_rows: int = MIN_ROWS,
    confirmed: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
) -> Inferred:
    """The contract for ``frame``: dtypes, ranges with margins, categories, nulls, drops.

    A feature that alone predicts the target almost perfectly stops it (target leakage),
    unless ``confirmed`` (``contract.leakage_confirmed`` of params.yaml) names it. Columns
    in ``drop`` (``--drop``) are left out and listed in ingest.drop_columns, so the raw file
    stays as it is and ingest drops them on every run: the way out of a leak that init
    reports (editing ingest.drop_columns first cannot be: init rewrites that key)."""
    if frame.empty or frame.shape[1] == 0:
        raise InitError("the table is empty")
    check_names(list(frame.columns))
    if target not in frame.columns:
        raise InitError(f"target '{target}' is not a column; columns: {', '.join(frame.columns)}")
    if time_column is not None and time_column not in frame.columns:
        raise InitError(f"--time-column '{time_column}' is not a column")
    unknown = [c for c in drop if c not in frame.columns]
    if unknown:
        raise InitError(f"--drop {', '.join(unknown)}: not a column")
    if target in drop or (time_column is not None and time_column in drop):
        raise InitError("--drop: the target and the time column cannot be dropped")
    if len(frame) < min_rows:
        raise InitError(f"{len(frame)} rows: at least {min_rows} are needed to train and test")
    y = frame[target]
    if y.isna().any():
        raise InitError(
            f"target '{target}' is missing in {int(y.isna().sum())} row(s): drop those rows first"
        )
    if y.nunique() < 2:
        raise InitError(f"target '{target}' is constant ({y.iloc[0]!r}): nothing to learn")
    kind = _task(y, task)
    columns: dict[str, dict[str, Any]] = {}
    dropped: dict[str, str] = {}
    notes: list[str] = []
    unique: tuple[str, ...] = ()
    imbalanced = False
    for name in frame.columns:
        series = frame[name]
        if name == target:
            if kind == "classification":
                labels = as_category_text(series)
                classes = sorted(labels.unique())
                columns[name] = {"dtype": "category", "categories": classes}
                if not (
                    pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
                ):
                    notes.append(
                        f"target '{name}' is stored as {series.dtype} with {len(classes)} "
                        "values: a class label (classification); the contract reads its "
                        f"values as text ({', '.join(classes[:4])}"
                        + (", ..." if len(classes) > 4 else "")
                        + "). For a quantity to predict instead: TASK=regression"
                    )
                counts = labels.value_counts(normalize=True)
                imbalanced = bool(counts.min() < 0.1)
                if imbalanced:
                    notes.append(
                        f"imbalanced classes (rarest '{counts.idxmin()}' {counts.min():.1%}): "
                        "judge the model by f1/log_loss, not accuracy"
                    )
                rows = labels.value_counts()
                rare = rows[rows < RARE_CLASS_ROWS]
                if len(rare):
                    shown = ", ".join(f"'{c}' ({n} row(s))" for c, n in rare.items())
                    notes.append(
                        f"rare class(es): {shown}: kept as classes of their own; the model "
                        "learns little about them, a test set may hold none of them (then "
                        "evaluate names them and scores the classes it holds). To change: "
                        "merge them into a broader class in the file, or drop their rows"
                    )
            else:
                columns[name] = _numeric_spec(series, _is_integer(series))
            continue
        if name == time_column:
            stamp = pd.to_datetime(series, errors="coerce")
            if stamp.isna().any():
                raise InitError(f"time column '{name}': {int(stamp.isna().sum())} unparseable")
            columns[name] = {"dtype": "datetime"}
            if stamp.is_unique:
                unique = (name,)
            continue
        if name in drop:
            dropped[name] = "dropped on request (--drop)"
        elif series.nunique(dropna=True) <= 1:
            dropped[name] = "constant: carries no information"
        elif series.is_unique and not pd.api.types.is_float_dtype(series):
            dropped[name] = "unique per row (an identifier): would only be memorised"
        else:
            columns[name] = _column_spec(series)
    # Duplicates among the columns the pipeline keeps: a dropped date or identifier may be
    # all that told two rows apart, and validate checks the table after ingest drops it.
    duplicates = int(frame[list(columns)].duplicated().sum())
    if duplicates:
        notes.append(
            f"{duplicates} row(s) repeat another row exactly"
            + (
                f" once {', '.join(dropped)} {'is' if len(dropped) == 1 else 'are'} dropped"
                if dropped
                else ""
            )
            + ": allowed (contract.allow_duplicate_rows: true); set it to false if they "
            "are errors, after removing them from the file"
        )
    for name, spec in columns.items():
        if spec["dtype"] != "category" or name == target:
            continue
        levels = frame[name].nunique(dropna=True)
        if levels > NEAR_UNIQUE * len(frame):
            notes.append(
                f"'{name}' has {levels:,} distinct values in {len(frame):,} rows (nearly an "
                "identifier): kept as an open category, which a model mostly memorises. "
                f"To leave it out: DROP={name}"
            )
    if len(columns) - 1 - (time_column is not None) < 1:
        raise InitError("no usable feature column left after dropping ids and constants")
    from mlops_engine.pipeline.leakage import explain, find_leaks

    features = [c for c in columns if c not in (target, time_column)]
    leaks = find_leaks(frame, target, kind, features, confirmed)
    if leaks:
        names = " ".join(leak.column for leak in leaks)
        how = (
            f"drop it: run init again with DROP={names!r} (mlops init --drop COLUMN), "
            "or remove it from the file"
        )
        raise InitError(explain(leaks, target, how) + ", then run init again")
    kept = tuple(c for c in confirmed if c in features)
    if kept:
        notes.append(f"confirmed as known at prediction time (contract.leakage_confirmed): {kept}")
    return Inferred(kind, columns, dropped, unique, notes, duplicates > 0, kept, imbalanced)


def params_changes(
    inferred: Inferred,
    source: str,
    target: str,
    time_column: str | None,
    model_name: str,
    n_rows: int,
) -> dict[str, Any]:
    """Dotted params.yaml keys to set for the new data (everything else keeps its value)."""
    regression = inferred.task == "regression"
    target_spec = inferred.columns[target]
    binary = not regression and len(target_spec.get("categories") or []) == 2
    categorical = [
        c for c, s in inferred.columns.items() if s["dtype"] == "category" and c != target
    ]
    tolerances = (
        {
            # no r2 beside rmse: on the same rows one moves exactly as the other does
            "mae": 0.05,
            "rmse": 0.05,
        }
        if regression
        else {
            "log_loss": 0.05,
            "f1": 0.02,
            # threshold-free on two classes: accuracy at a tuned f1 threshold falls below
            # the majority class on imbalanced data by design
            **({"roc_auc": 0.02} if binary else {"accuracy": 0.02}),
        }
    )
    # the direction is the registry's (metric_defs.py); written out for the reader
    gate = {n: {"direction": direction(n), "tolerance": t} for n, t in tolerances.items()}
    return {
        "ingest.source": source,
        "ingest.time_column": time_column,
        "ingest.timestamp_from": None,
        "ingest.history_until": None,
        "ingest.drop_columns": sorted(inferred.dropped),
        "contract": {
            "task": inferred.task,
            "target": target,
            "time_column": time_column,
            "min_rows": max(10, min(MIN_ROWS, n_rows // 2)),
            "unique": list(inferred.unique),
            "allow_duplicate_rows": inferred.duplicate_rows,
            "leakage_confirmed": list(inferred.leakage_confirmed),
            "columns": inferred.columns,
        },
        "split.method": "time" if time_column else "random",
        "split.window.start": None,
        "split.window.end": None,
        "evaluate.baseline.group_by": categorical[:1],
        "evaluate.slices": [{"column": c} for c in categorical[:1]],
        "train.estimator": "auto",
        "train.loss": "auto",
        "train.threshold": "auto",
        "gate.baseline_margin": 0.1 if regression else 0.05,
        "gate.baseline_metric": "auto",
        "gate.metrics": gate,
        "serve.model_name": model_name,
        "monitor.quality.metric": "mae" if regression else "f1",
        "model_card.intended_use": None,  # the example's words do not describe the new table
    }


def params_comments(
    inferred: Inferred, target: str, time_column: str | None, changes: dict[str, Any]
) -> dict[str, str | None]:
    """End-of-line comments for the keys init rewrote, describing the new data (the
    example's comments - its riders, hours and 2011 - would be false); None removes one."""
    regression = inferred.task == "regression"
    share = f"{0.2:.0%}"
    group = changes["evaluate.baseline.group_by"]
    if regression:
        naive = f"naive model: mean '{target}'" + (f" per '{group[0]}'" if group else "")
    else:
        naive = f"naive model: class frequencies of '{target}'" + (
            f" per '{group[0]}'" if group else ""
        )
    metric = "MAE" if regression else "log loss"
    margin = changes["gate.baseline_margin"]
    return {
        "ingest.source": "the raw file; dvc.yaml reads this key",
        "ingest.time_column": "the time axis" if time_column else "no time axis",
        "ingest.timestamp_from": None,
        "ingest.history_until": (
            "later rows are the production stream (`mlops replay`); null: all history"
        ),
        "split.method": "time | random (random needs no time column)",
        "split.test_size": (
            f"the last {share} of the window, by time"
            if time_column
            else f"{share} of the rows at random" + ("" if regression else ", stratified by class")
        ),
        "split.window": "half-open [start, end) of the time axis; null: unbounded",
        "split.window.start": None,
        "evaluate.baseline.group_by": naive,
        "gate.baseline_margin": (
            f"the model must beat the naive baseline by {margin:.0%} ({metric}, always checked)"
        ),
    }


REGRESSION_PLOTS = [
    {
        "predicted_vs_actual": {
            "template": "scatter",
            "x": "actual",
            "y": {"reports/plots/predictions.csv": "predicted"},
        }
    },
    {
        "residuals": {
            "template": "scatter",
            "x": "predicted",
            "y": {"reports/plots/predictions.csv": "residual"},
        }
    },
]
CLASSIFICATION_PLOTS = [
    {
        "confusion_matrix": {
            "template": "confusion",
            "x": "actual",
            "y": {"reports/plots/predictions.csv": "predicted"},
        }
    },
    {"roc": {"template": "simple", "x": "fpr", "y": {"reports/plots/roc.csv": "tpr"}}},
    {
        "precision_recall": {
            "template": "simple",
            "x": "recall",
            "y": {"reports/plots/precision_recall.csv": "precision"},
        }
    },
]
COMMON_PLOTS = [
    {
        "feature_importance": {
            "template": "bar_horizontal",
            "x": "importance",
            "y": {"reports/plots/importance.csv": "feature"},
        }
    },
    "reports/figures",
]


def dvc_plots(task: Task) -> list[Any]:
    """The top-level ``plots:`` of dvc.yaml for the task (`dvc plots show/diff`). ROC and
    precision-recall files exist for binary targets; DVC skips a missing one."""
    return [*(REGRESSION_PLOTS if task == "regression" else CLASSIFICATION_PLOTS), *COMMON_PLOTS]


def review(inferred: Inferred, target: str) -> str:
    """The inferred contract as a table, for the user to check before `make run`."""
    lines = [f"task: {inferred.task} of '{target}'", "", "column            dtype     rule"]
    for name, spec in inferred.columns.items():
        rule = ""
        if "min" in spec:
            rule = f"[{spec['min']}, {spec['max']}]"
        elif spec.get("categories") is not None:
            shown = ", ".join(spec["categories"][:6])
            more = len(spec["categories"]) - 6
            rule = "{" + shown + (f", +{more} more" if more > 0 else "") + "}"
        elif spec["dtype"] == "category":
            rule = f"open set (> {MAX_CLOSED_LEVELS} levels)"
        null = " nullable" if spec.get("nullable") else ""
        lines.append(f"{name:<17} {spec['dtype']:<9} {rule}{null}")
    for name, why in inferred.dropped.items():
        lines.append(f"{name:<17} dropped   {why}")
    lines += [f"note: {n}" for n in inferred.notes]
    return "\n".join(lines)


@dataclass(frozen=True)
class InitRequest:
    """A user's table and how to read it (the ``init`` command's arguments, typed)."""

    data: Path
    target: str
    task: Literal["auto", "regression", "classification"] = "auto"
    time_column: str | None = AUTO  # AUTO: detect it; None: the table has no time axis
    drop: tuple[str, ...] = ()  # columns to leave out (ingest.drop_columns)
    raw_dir: Path = Path("data/raw")  # where the pipeline's input lives
    archive_dir: Path = Path("data/examples")  # where the example data goes
    params: Path = Path("params.yaml")


def init_project(a: InitRequest, params: Params) -> str:
    """Copy the data in, archive the example, rewrite params.yaml; return the review text."""
    import shutil

    from mlops_engine import params_file, storage

    source = a.data
    try:
        frame = storage.read_table(source)
    except Exception as err:  # any reader error: the message names the file and the fix
        raise InitError(
            f"cannot read {source}: {err}. Give a .csv, .csv.gz or .parquet file"
        ) from None
    raw = frame.copy()  # as the file holds it: what ingest and validate will read
    time_column, how = a.time_column, ""
    if time_column == AUTO:
        time_column, candidates = detect_time_column(frame, a.target)
        others = [c for c in candidates if c != time_column]
        how = (
            f"time column: '{time_column}' (detected: every value is a date/time"
            + (f"; also possible: {', '.join(others)}" if others else "")
            + "): the split is by time (the last share of the rows by time is the test set) "
            "and continuous training moves the window. Another: "
            "TIME_COLUMN=name (mlops init --time-column name); none: TIME_COLUMN=none"
            if time_column
            else "time column: none found (no column holds dates/times): the split is random "
            "and continuous training adds labelled production rows without moving a window "
            "(docs/continuous-training.md). If a column holds times: TIME_COLUMN=name"
        )
    if time_column is not None and time_column in frame.columns:
        frame[time_column] = pd.to_datetime(frame[time_column], errors="coerce")
    inferred = infer(
        frame,
        a.target,
        a.task,
        time_column,
        confirmed=params.contract.leakage_confirmed,
        drop=a.drop,
    )
    raw_dir, archive = a.raw_dir, a.archive_dir
    target_file = raw_dir / source.name
    model_name = re.sub(r"[^a-z0-9_.-]+", "-", source.name.split(".")[0].lower()).strip("-")
    changes = params_changes(
        inferred, str(target_file), a.target, time_column, model_name or "model", len(frame)
    )
    comments = params_comments(inferred, a.target, time_column, changes)
    text = params_file.render(a.params, changes, comments)  # validated before any file moves
    checked = check_on_own_table(raw, text, a.params)  # raises before any file moves
    if source.resolve() != target_file.resolve():
        for old in raw_dir.glob("*"):
            if old.is_file() and old.name != source.name:
                archive.mkdir(parents=True, exist_ok=True)
                shutil.move(str(old), archive / old.name)
        raw_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target_file)
    for stale in Path("data/feedback").glob("*.parquet"):  # feedback of the old contract
        stale.unlink()
    _archive_demo_stream(params, archive)
    storage.write_bytes(text.encode(), a.params)
    _set_dvc_plots(Path("dvc.yaml"), inferred.task)
    storage.write_json(
        {
            "source": str(target_file),
            "dropped": inferred.dropped,
            "notes": [*inferred.notes, *checked],
        },
        Path("reports") / "init.json",
    )
    too_big = git_size_warning(target_file)
    if too_big:
        log.warning("init: %s", too_big)
    return (
        review(inferred, a.target)
        + "".join(f"\nnote: {n}" for n in checked)
        + (f"\n{how}" if how else "")
        + (f"\n{too_big}" if too_big else "")
        + f"\n\nparams.yaml rewritten for {target_file} ({len(frame):,} rows); "
        + (f"example data moved to {archive}/. " if archive.exists() else "")
        + "Next: review params.yaml (contract ranges, gate), then `make run` and `make test`. "
        "The gate asks the model to beat a naive baseline (gate.baseline_margin); `make run`'s "
        "summary says plainly if it does not, and what to try."
    )


def check_on_own_table(raw: pd.DataFrame, text: str, path: Path) -> list[str]:
    """Init's contract on the table it was inferred from, through the stages that read it
    first (ingest, validate, split), before any file moves: every rule must hold there
    (a failure is init's own fault, reported as such and nothing written), and the split's
    two sides are checked for classes one of them lacks. Returns what the user must know:
    how the rows are split, and each class a side lacks, with the choices."""
    from mlops_engine.config import parse_params, read_yaml
    from mlops_engine.pipeline.ingest import ingest
    from mlops_engine.pipeline.split import set_aside, split, stratifiable
    from mlops_engine.pipeline.validate import validate

    params = parse_params(read_yaml(text), path)
    contract = params.contract
    checked = validate(ingest(raw, params.ingest), contract)
    if not checked.ok:
        raise InitError(
            "the contract inferred from this table does not hold on it (a fault of init: "
            "please report it); nothing was written:\n  - "
            + "\n  - ".join(f.describe() for f in checked.failures)
        )
    try:
        train, test = split(checked.frame, params.split, contract, params.seed)
        test, holdout = set_aside(test, params.split, contract, params.seed)
    except ValueError as err:
        raise InitError(f"the split cannot be drawn on this table: {err}") from None
    notes = []
    share = f"{params.split.test_size:.0%}"
    if params.split.method == "time":
        notes.append(f"split: by time, the last {share} of the rows are the test set")
    elif contract.task == "classification":
        y = checked.frame[contract.target]
        stratified = params.split.stratify and stratifiable(y, params.split.test_size)
        notes.append(
            f"split: {share} of the rows at random, "
            + (
                "stratified by class"
                if stratified
                else "not stratified (a class has too few rows for both sides)"
            )
        )
    else:
        notes.append(f"split: {share} of the rows at random")
    if len(holdout):
        notes.append(
            f"split: {len(holdout):,} of the {len(test) + len(holdout):,} test rows "
            f"({params.split.holdout:.0%}) set aside as the holdout: only the anchor check "
            "judges them, no report shows them (docs/ci.md)"
        )
    if contract.task == "classification":
        classes = set(contract.columns[contract.target].categories or ())
        seen_train = set(train[contract.target].astype(str))
        seen_test = set(test[contract.target].astype(str))
        choices = (
            "choices: a longer test window (split.test_size), a random split "
            "(TIME_COLUMN=none, if rows do not depend on time), or merging the rare "
            "class(es) into a broader one in the file"
            if params.split.method == "time"
            else "choices: a larger test share (split.test_size), or merging the rare "
            "class(es) into a broader one in the file"
        )
        lacking = sorted(classes - seen_test)
        if lacking:
            notes.append(
                f"the test set holds no row of class(es) {', '.join(lacking)}: evaluate "
                "names them, f1 averages the classes the test set holds and nothing "
                "measures the model on the missing ones; " + choices
            )
        unseen = sorted(classes - seen_train)
        if unseen:
            notes.append(
                f"the training set holds no row of class(es) {', '.join(unseen)}: the "
                "model cannot predict them (probability 0, a large log loss on their "
                "test rows); " + choices
            )
    return notes


def _archive_demo_stream(params: Any, archive: Any) -> None:
    """Move the local production data of the old contract (the example's replayed stream)
    out of the monitor's way; remote sinks (s3://...) are the user's and stay untouched, and
    so does a local folder outside the project (a deployment's real logs: found when a test
    tier ran init on a project whose sinks pointed at its production folder and moved it)."""
    import shutil
    from pathlib import Path

    local = [
        params.serve.prediction_log.sink,
        params.monitor.labelled_sink,
        params.stream.cursor,
    ]
    here = Path.cwd().resolve()
    for sink in (Path(s) for s in local if "://" not in s):
        if not sink.resolve().is_relative_to(here):
            log.info("init: %s is outside the project: left as it is", sink)
            continue
        if sink.exists():
            destination = archive / "production" / sink.name
            if destination.exists():
                shutil.rmtree(destination) if destination.is_dir() else destination.unlink()
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(sink), destination)
            log.info("init: %s (old contract) moved to %s", sink, destination)


def _set_dvc_plots(dvc_file: Any, task: Task) -> None:
    from ruamel.yaml import YAML

    from mlops_engine import storage

    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)  # the file's own style: "  - item"
    doc = yaml.load(dvc_file.read_text())
    doc["plots"] = dvc_plots(task)
    import io

    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    storage.write_bytes(buffer.getvalue().encode(), dvc_file)
