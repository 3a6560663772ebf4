"""``params.yaml`` parsed once into frozen, validated objects.

Every knob of the project lives in ``params.yaml``. Parsing it strictly (unknown keys and
wrong types are errors) means a typo fails at once with the key's path in the message,
instead of silently falling back to a default three stages later.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlops_engine import metric_defs
from mlops_engine.contract import Contract

# names params.yaml may give where a per-row or paired metric is asked for (metric_defs.py)
PairedMetric = Literal[("auto", *(n for n in metric_defs.REGISTRY if n != "r2"))]  # type: ignore[valid-type]
ProperMetric = Literal[
    (
        "auto",
        *(n for n, m in metric_defs.REGISTRY.items() if m.per_row_loss and m.direction == "lower"),
    )
]  # type: ignore[valid-type]


class ConfigError(ValueError):
    """``params.yaml`` is missing, unreadable or does not match the expected shape."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimestampFromParts(_Frozen):
    """Build a timestamp from a year plus day-of-year and hour columns of the raw file."""

    year: int = Field(ge=1900, le=2200)
    day_of_year: str
    hour: str | None = None


class IngestParams(_Frozen):
    source: str
    time_column: str | None = None
    timestamp_from: TimestampFromParts | None = None
    rename: dict[str, str] = Field(default_factory=dict)
    drop_columns: tuple[str, ...] = ()
    history_until: dt.datetime | None = None
    """Rows at or after this time are not history but the production stream: the pipeline
    never reads them from the raw file; they come back only as labelled feedback."""

    @model_validator(mode="after")
    def _time_needs_name(self) -> IngestParams:
        if self.timestamp_from is not None and self.time_column is None:
            raise ValueError("timestamp_from needs time_column to name the derived column")
        return self


class TimeWindow(_Frozen):
    """Half-open window [start, end) of the time axis the model is trained and tested on."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None


class SplitParams(_Frozen):
    method: Literal["time", "random"] = "time"
    test_size: float = Field(default=0.2, gt=0, lt=1)
    window: TimeWindow = Field(default_factory=TimeWindow)
    stratify: bool = True
    holdout: float = Field(default=0.0, ge=0, lt=1)
    """Share of the test rows set aside as the holdout (``pipeline/split.py set_aside``):
    the last share by time (a random, seeded share without a time axis). No report prints
    a figure of it; only the anchor's verdict is judged there (ci/anchor.py). 0: none."""


# An estimator family's name: the engine's (pipeline/train.py ESTIMATORS: linear,
# hist_gradient_boosting, random_forest) or one the project's model.py adds. Checked against
# both when `train` starts (naming the known ones); config never imports the project, so the
# stages before train do not depend on its code.
Estimator = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class TrainParams(_Frozen):
    estimator: Literal["auto"] | Estimator = "auto"
    """``auto``: cross-validation picks one of ``candidates``; a name pins that estimator."""
    candidates: tuple[Estimator, ...] = ("linear", "hist_gradient_boosting")
    hyperparams: dict[str, Any] = Field(default_factory=dict)
    """For the pinned estimator; under ``auto``, for the hist_gradient_boosting candidate."""
    loss: Literal["auto", "squared_error", "poisson"] = "auto"
    """Regression loss; ``auto``: Poisson for a non-negative integer target (counts)."""
    cv_folds: int = Field(default=3, ge=2, le=10)
    blend: bool = True
    """Under ``auto``, also try a weighted average of the two best candidates (weight chosen
    on their out-of-fold predictions); it replaces the winner only if it scores better."""
    threshold: Literal["auto"] | float = "auto"
    """Binary decision threshold; ``auto``: max f1 on out-of-fold predictions when the
    rarer class is under 25% of the rows, else 0.5."""
    max_categories: int = Field(default=50, ge=2)
    n_threads: int = Field(default=1, ge=1)
    """OpenMP threads for fitting: HistGradientBoosting's bytes depend on it, so it is pinned
    (not "all cores") to make dvc.lock identical on a 2-core runner and a 16-core laptop."""

    @model_validator(mode="after")
    def _choices(self) -> TrainParams:
        if not self.candidates:
            raise ValueError("candidates: list at least one estimator")
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidates: an estimator is listed twice")
        if not isinstance(self.threshold, str) and not 0 < self.threshold < 1:
            raise ValueError("threshold: a probability strictly between 0 and 1, or auto")
        return self


class SliceSpec(_Frozen):
    """A column to report metrics by; numeric columns are cut into labelled bins."""

    column: str
    bins: tuple[float, ...] | None = None
    labels: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _labels_match_bins(self) -> SliceSpec:
        if self.labels is not None and (
            self.bins is None or len(self.labels) != len(self.bins) - 1
        ):
            raise ValueError("labels need bins, with one label fewer than bin edges")
        return self

    @property
    def name(self) -> str:
        return f"{self.column}_band" if self.bins else self.column


class BaselineParams(_Frozen):
    """The naive reference model: mean (or majority class) of the target per group."""

    group_by: tuple[str, ...] = ()


class EvaluateParams(_Frozen):
    slices: tuple[SliceSpec, ...] = ()
    baseline: BaselineParams = Field(default_factory=BaselineParams)
    importance_repeats: int = Field(default=5, ge=1)
    importance_max_rows: int = Field(default=5000, ge=100)


Scale = Literal["relative", "absolute"]


class GateMetric(_Frozen):
    direction: Literal["lower", "higher"] | None = None
    """Documentation for the reader: the registry (metric_defs.py) decides, and a direction
    that contradicts it is an error."""
    tolerance: float = Field(ge=0, description="the smallest regression that matters")
    scale: Scale = "relative"
    """``relative``: a share of the champion's value (0.05: 5% worse); ``absolute``: in the
    metric's own units (0.5 MAE)."""


class SliceGate(_Frozen):
    """The paired comparison per slice of ``evaluate.slices`` (and per class of a
    classification target), on one metric."""

    metric: PairedMetric = "auto"
    """``auto``: the proper scoring rule (``gate.baseline_metric``'s choice)."""
    tolerance: float = Field(default=0.1, ge=0)
    scale: Scale = "relative"
    min_rows: int = Field(default=30, ge=2, description="fewer test rows: too small to tell")
    max_width: float = Field(default=4.0, gt=0)
    """An interval wider than ``max_width`` tolerances that shows neither a pass nor a
    regression is too small to tell (an inconclusive check); a regression shown beyond the
    tolerance fails whatever the slice's size or width."""


Inconclusive = Literal["needs-review", "warn", "fail"]


class InconclusiveParams(_Frozen):
    """What a check does when its interval neither shows the change within the tolerance
    nor beyond it (ci/gate.py), per check kind: ``needs-review`` fails, saying "needs
    review", until the pull request carries ``gate.accept_label``; ``warn`` passes with a
    warning; ``fail`` fails. Defaults chosen from measurement (docs/ci.md)."""

    metrics: Inconclusive = "needs-review"
    slices: Inconclusive = "needs-review"
    too_small: Inconclusive = "warn"
    """A slice "too small to tell" (under ``min_rows`` rows, or an interval wider than
    ``max_width`` tolerances): nobody can decide it from these rows, so by default it
    passes with a warning, listed in the gate's summary."""


class AnchorParams(_Frozen):
    """The fixed anchor (ci/anchor.py): the last released model, which does not move with
    every merge, judged on the holdout under a cumulative budget so that small accepted
    regressions cannot compound unnoticed."""

    tags: str | None = None
    """A git tag, or a glob of tags (``model-v*``): the newest match in version order is the
    release whose model is the anchor. None, or no such tag yet: no anchor check."""
    metric: PairedMetric = "auto"
    """``auto``: the proper scoring rule (``gate.baseline_metric``'s choice)."""
    budget: float = Field(default=0.08, ge=0)
    """The most the candidate may be worse than the anchor, cumulatively since the release."""
    scale: Scale = "relative"
    inconclusive: Inconclusive = "warn"
    """What an inconclusive anchor check does (needs-review | warn | fail)."""


class SeedGate(_Frozen):
    """Training randomness in the gate (ci/seeds.py): the candidate is trained again on
    ``count - 1`` other seeds (same data, same params; in memory, never a pipeline output)
    and each check's interval is widened by the spread between seeds. Only when one
    training takes at most ``max_train_seconds`` (measured on the first extra seed, which
    is stopped at that limit); otherwise, or with ``count: 1``, the report says that seed
    noise is not counted."""

    count: int = Field(default=3, ge=1)
    """Models of the candidate, the committed one included (1: seed noise not counted)."""
    max_train_seconds: float = Field(default=60.0, gt=0)


class GateParams(_Frozen):
    metrics: dict[str, GateMetric] = Field(default_factory=dict)
    baseline_margin: float = Field(
        default=0.1, ge=0, description="minimum relative improvement over the naive baseline"
    )
    baseline_metric: ProperMetric = "auto"
    """The proper scoring rule the margin applies to, always checked even when not gated;
    ``auto``: log_loss for classification, mae for regression."""
    confidence: float = Field(default=0.95, ge=0.5, lt=1)
    """Two-sided level of the paired bootstrap intervals (paired.py)."""
    resamples: int = Field(default=1000, ge=100)
    block_length: int | None = Field(default=None, ge=1)
    """Time split: test rows per resampled block; null: from the data (Politis-White on
    the paired differences, at least a day of rows; paired.py ``auto_block_length``)."""
    seed: int = 0
    """Seeds the resamples; apart from the training ``seed`` so that a change of the
    training seed, or a re-run of the pull request, never redraws them."""
    inconclusive: InconclusiveParams = Field(default_factory=InconclusiveParams)
    accept_label: str = Field(default="gate:accept", min_length=1)
    """The pull-request label with which a maintainer accepts inconclusive checks under
    ``needs-review`` (passed to ``mlops gate --labels``; recorded in the report)."""
    slices: SliceGate = Field(default_factory=SliceGate)
    anchor: AnchorParams = Field(default_factory=AnchorParams)
    seeds: SeedGate = Field(default_factory=SeedGate)


class BatchingParams(_Frozen):
    """BentoML adaptive batching: requests queue up to ``max_latency_ms`` to form a batch."""

    max_batch_size: int = Field(default=512, ge=1)
    max_latency_ms: int = Field(default=5000, ge=1)


class PredictionLogParams(_Frozen):
    enabled: bool = True
    sink: str = "data/production/prediction_logs"
    flush_rows: int = Field(default=1000, ge=1)
    flush_seconds: float = Field(default=5.0, gt=0)


class ServeParams(_Frozen):
    model_name: str = Field(default="model", pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    max_records: int = Field(default=1000, ge=1, description="records per request")
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    timeout_s: float = Field(default=30.0, gt=0)
    max_concurrency: int = Field(default=512, ge=1)
    access_log: bool = False
    tracing: bool = False
    gc_threshold: tuple[int, int, int] = Field(
        default=(50_000, 20, 20), description="Python's gc.set_threshold in the server"
    )
    batching: BatchingParams = Field(default_factory=BatchingParams)
    prediction_log: PredictionLogParams = Field(default_factory=PredictionLogParams)


Period = Literal["day", "week", "month"]


class StreamParams(_Frozen):
    """The demo production stream: ``mlops replay`` sends one period of the raw file's
    rows after ``ingest.history_until`` per call, as prediction logs plus labelled rows."""

    period: Period = "month"
    cursor: str = "data/production/cursor.json"


class DriftOverride(_Frozen):
    """A per-column override of Evidently's test (e.g. ``psi``, ``ks``, ``wasserstein``)."""

    method: str | None = None
    threshold: float | None = Field(default=None, gt=0)


class DriftPolicy(_Frozen):
    share: float = Field(default=0.5, gt=0, le=1, description="drifted feature share that counts")
    method: str | None = None
    threshold: float | None = Field(default=None, gt=0)
    columns: dict[str, DriftOverride] = Field(default_factory=dict)
    ignore: tuple[str, ...] = ()


class QualityPolicy(_Frozen):
    metric: str = "mae"
    max_degradation: float = Field(
        default=0.25, ge=0, description="relative loss vs the training-time test metric"
    )


class DebouncePolicy(_Frozen):
    """Retrain only when ``drifted`` of the last ``windows`` windows (one period apart) drifted."""

    windows: int = Field(default=3, ge=1)
    drifted: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _k_of_n(self) -> DebouncePolicy:
        if self.drifted > self.windows:
            raise ValueError(f"drifted ({self.drifted}) > windows ({self.windows})")
        return self


class SampleParams(_Frozen):
    max_rows: int | None = Field(default=10_000, ge=100)


class MonitorParams(_Frozen):
    labelled_sink: str = "data/production/labelled"
    period: Period = "week"
    window_periods: int = Field(default=4, ge=1)
    reference: Literal["recent", "all"] = Field(
        default="recent", description="recent: the last window_periods of the model's window"
    )
    min_rows: int = Field(default=100, ge=1)
    sample: SampleParams = Field(default_factory=SampleParams)
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    quality: QualityPolicy = Field(default_factory=QualityPolicy)
    debounce: DebouncePolicy = Field(default_factory=DebouncePolicy)
    cooldown_periods: int = Field(default=1, ge=0)
    max_silence_days: int = Field(default=8, ge=1, description="PR warning when older")


class RetrainParams(_Frozen):
    window: Literal["expanding", "sliding"] = "expanding"
    keep_days: int | None = Field(default=None, ge=1, description="sliding window length")
    branch: str = "retrain/auto"
    labels: tuple[str, ...] = ("retraining",)


class ModelCardParams(_Frozen):
    """The team's own words in ``reports/model_card.md`` (the rest is generated)."""

    intended_use: str | None = None


class Params(_Frozen):
    seed: int = Field(ge=0)
    ingest: IngestParams
    contract: Contract
    split: SplitParams = Field(default_factory=SplitParams)
    train: TrainParams = Field(default_factory=TrainParams)
    evaluate: EvaluateParams = Field(default_factory=EvaluateParams)
    gate: GateParams = Field(default_factory=GateParams)
    serve: ServeParams = Field(default_factory=ServeParams)
    stream: StreamParams = Field(default_factory=StreamParams)
    monitor: MonitorParams = Field(default_factory=MonitorParams)
    retrain: RetrainParams = Field(default_factory=RetrainParams)
    model_card: ModelCardParams = Field(default_factory=ModelCardParams)

    @model_validator(mode="after")
    def _cross_section(self) -> Params:
        if self.split.method == "time" and self.contract.time_column is None:
            raise ValueError("split.method 'time' needs contract.time_column")
        for spec in self.evaluate.slices:
            if spec.column not in self.contract.columns:
                raise ValueError(f"evaluate.slices: '{spec.column}' is not a contract column")
        known = metric_defs.names(self.contract.task)
        for name, rule in self.gate.metrics.items():
            if name not in known:
                raise ValueError(
                    f"gate.metrics.{name}: not a {self.contract.task} metric "
                    f"(one of {', '.join(known)})"
                )
            if rule.direction not in (None, metric_defs.direction(name)):
                raise ValueError(
                    f"gate.metrics.{name}.direction: {metric_defs.direction(name)} is better "
                    f"for {name}, not {rule.direction} (or leave direction out)"
                )
        named = [
            ("gate.baseline_metric", self.gate.baseline_metric),
            ("gate.slices.metric", self.gate.slices.metric),
            ("gate.anchor.metric", self.gate.anchor.metric),
        ]
        if "metric" in self.monitor.quality.model_fields_set:
            named.append(("monitor.quality.metric", self.monitor.quality.metric))
        for where, name in named:
            if name != "auto" and name not in known:
                raise ValueError(
                    f"{where}: {name} is not a {self.contract.task} metric "
                    f"(one of {', '.join(known)})"
                )
        for col in self.evaluate.baseline.group_by:
            if col not in self.contract.features:
                raise ValueError(f"evaluate.baseline.group_by: '{col}' is not a feature")
        return self


def _format(err: ValidationError, path: Path) -> str:
    lines = [f"{path}: {err.error_count()} problem(s)"]
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  - {where}: {e['msg']}")
    return "\n".join(lines)


def parse_params(raw: dict[str, Any], path: Path = Path("params.yaml")) -> Params:
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format(err, path)) from None


def read_yaml(text: str) -> Any:
    """Parse params.yaml as YAML 1.2, the way DVC reads and rewrites it.

    ``dvc exp run -S`` rewrites the file with ruamel and drops the quotes around strings
    such as ``No`` or ``on``; a YAML 1.1 reader (PyYAML) would then see booleans. ruamel's
    safe loader, with its C parser where ruamel.yaml.clib is installed (the engine's
    `ruamel.yaml[oldlibyaml]`), as DVC's; the 1.2 types come from ruamel's resolver either way.
    """
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(text)


def load_params(path: str | Path = "params.yaml") -> Params:
    from ruamel.yaml import YAMLError

    path = Path(path)
    try:
        raw = read_yaml(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (run from the project root)") from None
    except YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return parse_params(raw, path)
