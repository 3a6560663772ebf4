"""The lean inference path: the fitted pipeline's own arithmetic without its per-call overhead.

Why: the pipeline's ``predict`` has a fixed cost per call, whatever the rows, in the
ColumnTransformer (pandas column selection, input checks, one imputer and one encoder call
per block) and in HistGradientBoosting's ``predict`` (input checks, then one Cython call per
tree). The service calls the model once per small batch, so that fixed cost was nearly the
whole model cost and capped what BentoML's request path sustains (``benchmarks/serving.py``
prints both paths; the figures: docs/performance.md, "Why the service is shaped as it is").

``build`` reads the fitted pipeline once and keeps its numbers as arrays: the imputers'
fitted ``statistics_``, each one-hot encoder's ``categories_`` as a lookup table, and the
trees as leaf bitmasks per input column (``LeanModel._compile_trees``). A prediction then
does the same float64 comparisons as scikit-learn (``x <= threshold``), reaches the same
leaves, adds their values tree after tree from the baseline (in that order: numpy's
``sum`` adds pairwise and would differ in the last bits) and applies the loss's own inverse
link. So its predictions are identical, bit for bit: ``verify`` checks that against the
pipeline before the service starts (it refuses to start if not) and at ``mlops save-model``,
and tests/model/test_lean_equivalence.py does on the whole test split. A call costs a
small fraction of the pipeline's (``benchmarks/serving.py`` prints both in every run).

Only what it reproduces exactly is compiled: one ColumnTransformer of SimpleImputer and
OneHotEncoder blocks (no dropped or infrequent categories, dense output) in front of a
HistGradientBoostingRegressor without native categorical splits, trees of up to 64 leaves.
Anything else raises ``Unsupported``, and the service serves the pipeline itself.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlops_engine.contract import Contract

log = logging.getLogger(__name__)

# Rows evaluated at once: the mask gather is rows x split columns x trees of 2-8 bytes, a
# few MB for a model like the bundled one; larger batches go in chunks.
CHUNK_ROWS = 512
# From this many rows, one numpy call per column and per tree beats one call over all of
# them (where the two cross on the bundled model: docs/performance.md, "Why the service is
# shaped as it is").
LOOP_ROWS = 64


class Unsupported(ValueError):
    """The pipeline has a step the lean path does not reproduce exactly."""


class EquivalenceError(RuntimeError):
    """The lean path's predictions differ from the pipeline's."""


@dataclass(frozen=True)
class _Numeric:
    """A SimpleImputer block: NaN (or None) -> the fitted statistic, as float64."""

    columns: tuple[str, ...]
    start: int
    fill: np.ndarray

    def fill_into(self, X: np.ndarray, columns: Mapping[str, Sequence[Any]]) -> None:
        values = np.array([columns[c] for c in self.columns], dtype=np.float64).T
        missing = np.isnan(values)
        if missing.any():
            values = np.where(missing, self.fill, values)
        X[:, self.start : self.start + len(self.columns)] = values


@dataclass(frozen=True)
class _OneHot:
    """An (imputer +) OneHotEncoder column: NaN -> the imputer's statistic (None is a value
    of its own, as in SimpleImputer on object columns); a known category -> its indicator;
    an unknown one -> all zeros (``handle_unknown`` 'ignore' / 'infrequent_if_exist' with no
    infrequent category)."""

    column: str
    start: int
    index: dict[Any, int]
    missing_code: int
    table: np.ndarray  # one row per category, then a zero row for unknown values

    def fill_into(self, X: np.ndarray, columns: Mapping[str, Sequence[Any]]) -> None:
        unknown = len(self.table) - 1
        index, missing = self.index, self.missing_code
        codes = [
            index.get(v, unknown) if v == v else missing  # NaN != NaN: missing
            for v in columns[self.column]
        ]
        X[:, self.start : self.start + self.table.shape[1]] = self.table[codes]


def _steps(transformer: Any) -> list[Any]:
    from sklearn.pipeline import Pipeline

    if isinstance(transformer, Pipeline):
        return [step for _, step in transformer.steps]
    return [transformer]


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _imputer(step: Any) -> Any:
    from sklearn.impute import SimpleImputer

    if type(step) is not SimpleImputer:
        raise Unsupported(f"{type(step).__name__} in a preprocessing block")
    if not _is_nan(step.missing_values) or step.add_indicator:
        raise Unsupported("SimpleImputer with missing_values other than NaN or an indicator")
    return step


def _blocks(pre: Any) -> tuple[list[_Numeric | _OneHot], list[str], int]:
    """The ColumnTransformer as fill instructions, its input columns, its output width."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    if type(pre) is not ColumnTransformer or getattr(pre, "sparse_output_", False):
        raise Unsupported(f"preprocessing is {type(pre).__name__}, not a dense ColumnTransformer")
    blocks: list[_Numeric | _OneHot] = []
    inputs: list[str] = []
    width = 0
    for name, transformer, cols in pre.transformers_:
        out = pre.output_indices_[name]
        if transformer == "drop" or out.stop == out.start:
            continue
        if transformer == "passthrough" or not all(isinstance(c, str) for c in cols):
            raise Unsupported(f"block {name!r}: passthrough or columns not given by name")
        cols = list(cols)
        steps = _steps(transformer)
        imputer = None if type(steps[0]) is OneHotEncoder else _imputer(steps[0])
        rest = steps if imputer is None else steps[1:]
        fill = np.asarray(imputer.statistics_, dtype=object) if imputer is not None else None
        if not rest:
            assert fill is not None
            values = np.asarray(fill, dtype=np.float64)
            if len(values) != len(cols) or not np.isfinite(values).all():
                raise Unsupported(f"block {name!r}: an imputer dropped or kept a column empty")
            blocks.append(_Numeric(tuple(cols), out.start, values))
        elif len(rest) == 1 and type(rest[0]) is OneHotEncoder:
            enc = rest[0]
            infrequent = getattr(enc, "infrequent_categories_", [None] * len(cols))
            if (
                enc.drop is not None
                or enc.handle_unknown not in ("ignore", "infrequent_if_exist")
                or any(i is not None for i in infrequent)
                or np.dtype(enc.dtype) != np.float64
                or (fill is not None and len(fill) != len(cols))
            ):
                raise Unsupported(f"block {name!r}: OneHotEncoder drops or groups categories")
            start = out.start
            for j, (col, cats) in enumerate(zip(cols, enc.categories_, strict=True)):
                index = {c: i for i, c in enumerate(cats.tolist())}
                n = len(index)
                table = np.vstack([np.eye(n), np.zeros((1, n))])
                missing = n if fill is None else index.get(fill[j], n)
                if fill is None:  # no imputer: NaN is a category if it was seen, else unknown
                    missing = next((i for c, i in index.items() if _is_nan(c)), n)
                blocks.append(_OneHot(col, start, index, missing, table))
                start += n
            if start != out.stop:
                raise Unsupported(f"block {name!r}: encoder width differs from its output")
        else:
            kinds = ", ".join(type(s).__name__ for s in steps)
            raise Unsupported(f"block {name!r}: {kinds}")
        inputs += cols
        width = max(width, out.stop)
    return blocks, inputs, width


class LeanModel:
    """A compiled, read-only copy of a fitted pipeline's prediction (see the module doc)."""

    def __init__(self, pipeline: Any) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.pipeline import Pipeline

        if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
            raise Unsupported("the model is not a two-step Pipeline (preprocess, estimator)")
        pre, est = pipeline.steps[0][1], pipeline.steps[1][1]
        if type(est) is not HistGradientBoostingRegressor:
            raise Unsupported(f"estimator {type(est).__name__}")
        if getattr(est, "_preprocessor", None) is not None or est.n_trees_per_iteration_ != 1:
            raise Unsupported("HistGradientBoosting with native categorical features")
        self.blocks, self.columns, self.width = _blocks(pre)
        if est.n_features_in_ != self.width:
            raise Unsupported("preprocessing width differs from the estimator's input")
        self.estimator = est
        self.inverse_link = est._loss.link.inverse  # what its predict applies to the raw sum
        trees = [predictors[0].nodes for predictors in est._predictors]
        if any(t["is_categorical"].any() for t in trees):
            raise Unsupported("trees with categorical splits")
        self._compile_trees(trees, float(np.ravel(est._baseline_prediction)[0]))

    def _compile_trees(self, trees: list[np.ndarray], baseline: float) -> None:
        """Every tree as leaf bitmasks, in a table per input column (QuickScorer's layout:
        Lucchese et al., SIGIR 2015). Number each tree's leaves left to right; a split whose
        comparison ``x <= t`` is false (the row goes right) rules out the leaves of its left
        subtree. The leaf a row reaches is the leftmost leaf no false split of that tree
        rules out, whichever splits were on its path: the same leaf as walking the tree.
        Whether a split is false depends on one column only (``t < x``), so for each column
        the AND of the masks of all its splits with ``t < x`` is precomputed for each rank
        of ``x`` among that column's thresholds: a row costs one binary search per column,
        one AND per column and tree, and the index of the lowest set bit."""
        leaves = max(int(t["is_leaf"].sum()) for t in trees)
        dtype = next(
            (d for d in (np.uint16, np.uint32, np.uint64) if np.iinfo(d).bits >= leaves), None
        )
        if dtype is None:
            raise Unsupported(f"trees of {leaves} leaves (the lean path takes up to 64)")
        bits = np.iinfo(dtype).bits
        full = (1 << bits) - 1
        value = np.zeros((len(trees), bits))
        splits: list[tuple[int, float, int, int]] = []  # column, threshold, tree, mask
        for k, tree in enumerate(trees):
            numbered: list[int] = []

            def number(
                node: int, tree: np.ndarray = tree, numbered: list[int] = numbered, k: int = k
            ) -> tuple[int, int]:
                """Leaves [first, end) of ``node``'s subtree, numbered left to right."""
                if tree["is_leaf"][node]:
                    numbered.append(node)
                    return len(numbered) - 1, len(numbered)
                first, middle = number(int(tree["left"][node]))
                _, end = number(int(tree["right"][node]))
                left = ((1 << (middle - first)) - 1) << first
                splits.append(
                    (
                        int(tree["feature_idx"][node]),
                        float(tree["num_threshold"][node]),
                        k,
                        full & ~left,
                    )
                )
                return first, end

            number(0)
            value[k, : len(numbered)] = tree["value"][numbered]
        self._leaf_value = value.ravel()
        self._leaf_base = np.arange(len(trees), dtype=np.intp) * bits
        columns = sorted({s[0] for s in splits})
        self._columns_split = np.array(columns, dtype=np.intp)
        self._cuts: list[np.ndarray] = []
        tables, offsets = [], []
        for column in columns:
            mine = [s for s in splits if s[0] == column]
            cuts = np.unique([s[1] for s in mine])
            table = np.full((len(cuts) + 1, len(trees)), full, dtype=dtype)
            for _, threshold, k, mask in mine:  # false for every x above this threshold
                table[int(np.searchsorted(cuts, threshold)) + 1 :, k] &= dtype(mask)
            offsets.append(sum(len(t) for t in tables))
            tables.append(table)
            self._cuts.append(cuts)
        self._table = np.concatenate(tables) if tables else np.full((1, len(trees)), full, dtype)
        self._offsets = np.array(offsets or [0], dtype=np.intp)
        self._baseline = baseline
        self.n_trees = len(trees)
        # The trees' nodes, flat, for tree_probes (every split reached, both ways).
        sizes = np.array([len(t) for t in trees])
        roots = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate(trees)
        shift = np.repeat(roots, sizes)
        leaf = nodes["is_leaf"].astype(bool)
        own = np.arange(len(nodes))
        self._left = np.where(leaf, own, nodes["left"].astype(np.intp) + shift)
        self._right = np.where(leaf, own, nodes["right"].astype(np.intp) + shift)
        self._feature = np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp)
        self._threshold = nodes["num_threshold"].astype(np.float64)
        self._split = ~leaf
        self._depth = nodes["depth"].astype(np.intp)

    def split_values(self) -> dict[int, np.ndarray]:
        """The thresholds the trees compare each prepared column with (for ``probe_frame``)."""
        return {int(c): cuts for c, cuts in zip(self._columns_split, self._cuts, strict=True)}

    def prepare(self, columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        """The rows as the estimator sees them: what the ColumnTransformer would output."""
        n = len(columns[self.columns[0]])
        X = np.empty((n, self.width), dtype=np.float64)
        for block in self.blocks:
            block.fill_into(X, columns)
        return X

    def trees(self, X: np.ndarray) -> np.ndarray:
        """Predictions for prepared rows (see ``_compile_trees``), in chunks of CHUNK_ROWS.

        Prepared rows hold no NaN (every numeric block ends in an imputer with finite
        statistics, checked in ``build``; one-hot columns are 0 or 1), so the trees'
        learned side for missing values is never needed here."""
        chunks = [X[i : i + CHUNK_ROWS] for i in range(0, len(X), CHUNK_ROWS)] or [X]
        out = [self._trees(x, len(x) >= LOOP_ROWS) for x in chunks]
        return out[0] if len(out) == 1 else np.concatenate(out)

    def _trees(self, X: np.ndarray, loop: bool) -> np.ndarray:
        """``loop``: a numpy call per column and per tree instead of one over all of them
        (more per call, less per row: the faster way from LOOP_ROWS rows on).
        ``verify`` checks both ways."""
        n = len(X)
        if not self._cuts:
            masks = np.repeat(self._table, n, axis=0)
        elif loop:  # AND one column's masks at a time: no rows x columns x trees temporary
            masks = self._table[
                self._offsets[0] + self._cuts[0].searchsorted(X[:, self._columns_split[0]])
            ]
            for j in range(1, len(self._cuts)):
                cuts, column = self._cuts[j], self._columns_split[j]
                masks &= self._table[self._offsets[j] + cuts.searchsorted(X[:, column])]
        else:
            rank = np.empty((n, len(self._offsets)), dtype=np.intp)
            for j, (column, cuts) in enumerate(zip(self._columns_split, self._cuts, strict=True)):
                rank[:, j] = cuts.searchsorted(X[:, column])  # thresholds < x: splits false
            rank += self._offsets
            masks = np.bitwise_and.reduce(self._table[rank], axis=1)  # rows x trees
        leaf = np.bitwise_count((masks & -masks) - 1).astype(np.intp)  # lowest set bit
        leaf += self._leaf_base
        values = self._leaf_value.take(leaf.T)  # trees x rows
        # Added tree after tree from the baseline, as scikit-learn does (numpy's sum adds
        # pairwise and would differ in the last bits): one add per tree, or a cumulative
        # sum (itself sequential, but slow down the columns of a wide matrix).
        if loop:
            total = np.full(n, self._baseline)
            for row in values:
                total += row
        else:
            total = np.cumsum(np.vstack([np.full(n, self._baseline), values]), axis=0)[-1]
        return self.inverse_link(total)

    def predict_array(self, X: np.ndarray) -> np.ndarray:
        return self.trees(X)

    def predict_columns(self, columns: Mapping[str, Sequence[Any]]) -> np.ndarray:
        """Predictions for rows given column-wise (``{name: values}``, as the service has them)."""
        return self.predict_array(self.prepare(columns))

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        return self.predict_columns({c: frame[c].tolist() for c in self.columns})


def build(pipeline: Any) -> LeanModel:
    """The lean copy of ``pipeline``; ``Unsupported`` says which step it cannot reproduce."""
    return LeanModel(pipeline)


def probe_frame(
    lean: LeanModel, contract: Contract, seed: int = 0, rows: int = 256
) -> pd.DataFrame:
    """Rows that exercise every decision the lean copy makes, for ``verify``.

    ``rows`` random rows within the contract (every category of the contract and of the
    encoders, None for nullable columns, a value no encoder knows, NaN), then, for every
    threshold a tree compares a numeric column with, a row at the threshold and one just
    above it (where ``<=`` and ``<`` would part), the other columns from the random rows.
    Validation is not the point here: both sides get the same rows, in or out of range.
    """
    rng = np.random.default_rng(seed)
    numeric = {
        b.start + j: c
        for b in lean.blocks
        if isinstance(b, _Numeric)
        for j, c in enumerate(b.columns)
    }
    splits = lean.split_values()
    frame: dict[str, list[Any]] = {}
    for name in lean.columns:
        spec = contract.columns.get(name)
        out = [k for k, c in numeric.items() if c == name]
        if out:
            cuts = splits.get(out[0], np.array([0.0, 1.0]))
            low = spec.min if spec is not None and spec.min is not None else float(cuts.min()) - 1
            high = spec.max if spec is not None and spec.max is not None else float(cuts.max()) + 1
            values: list[Any] = rng.uniform(low, high, rows).tolist()
            if spec is not None and spec.dtype == "int":
                values = [float(round(v)) for v in values]
            values[0] = math.nan
        else:
            seen = next(b.index for b in lean.blocks if isinstance(b, _OneHot) and b.column == name)
            declared = list(spec.categories or ()) if spec is not None else []
            options = [*dict.fromkeys([*declared, *seen]), "<never seen>", math.nan, None]
            values = [options[i % len(options)] for i in rng.permutation(max(rows, len(options)))]
            values = values[:rows]
        frame[name] = values
    # object columns, as the service's records give: pandas 3 would infer its string dtype
    # for the categories and turn None into NaN, and None is a value the copy must match on
    base = pd.DataFrame(
        {
            name: pd.Series(v, dtype=None if name in numeric.values() else object)
            for name, v in frame.items()
        }
    )
    probes = []
    for out, cuts in splits.items():
        if out not in numeric:
            continue  # a one-hot column: the categories above reach both sides
        at = np.concatenate([cuts, np.nextafter(cuts, np.inf)])
        probe = base.iloc[np.arange(len(at)) % rows].reset_index(drop=True)
        probe[numeric[out]] = at
        probes.append(probe)
    return pd.concat([base, *probes], ignore_index=True)


def tree_probes(lean: LeanModel) -> np.ndarray:
    """Prepared rows that reach every split of every tree: for each split, a row inside the
    intervals its ancestors set, with the split's column at the threshold (goes left) and
    just above it (goes right). With these the lean trees are checked against scikit-learn's
    own traversal on every comparison and every leaf, whatever the inputs."""
    n = len(lean._feature)
    split = np.flatnonzero(lean._split)
    parent = np.full(n, -1)
    parent[lean._left[split]] = split
    parent[lean._right[split]] = split
    is_left = np.zeros(n, dtype=bool)
    is_left[lean._left[split]] = True
    low, high = np.full((n, lean.width), -np.inf), np.full((n, lean.width), np.inf)
    for level in range(1, int(lean._depth.max()) + 1):  # parents before children
        at = np.flatnonzero(lean._depth == level)
        up = parent[at]
        low[at], high[at] = low[up], high[up]
        f, t = lean._feature[up], lean._threshold[up]
        left, right = at[is_left[at]], at[~is_left[at]]
        high[left, f[is_left[at]]] = np.minimum(high[left, f[is_left[at]]], t[is_left[at]])
        low[right, f[~is_left[at]]] = np.maximum(low[right, f[~is_left[at]]], t[~is_left[at]])
    low, high = low[split], high[split]
    row = np.zeros_like(low)  # a column no ancestor constrains: 0
    above, below = np.isfinite(low), np.isfinite(high)  # x > low, x <= high
    row[above & below] = (low[above & below] + high[above & below]) / 2
    row[above & ~below] = low[above & ~below] + 1
    row[below & ~above] = high[below & ~above]
    f, t = lean._feature[split], lean._threshold[split]
    rows = np.repeat(row, 2, axis=0)
    rows[0::2][np.arange(len(split)), f] = t
    rows[1::2][np.arange(len(split)), f] = np.nextafter(t, np.inf)
    return rows


def _compare(what: str, got: np.ndarray, expected: np.ndarray, rows: Any) -> None:
    differ = ~((got == expected) | (np.isnan(got) & np.isnan(expected)))
    if differ.any():
        first = int(np.argmax(differ.reshape(len(got), -1).any(axis=1)))
        shown = rows.iloc[first].to_dict() if isinstance(rows, pd.DataFrame) else rows[first]
        raise EquivalenceError(
            "refusing to serve: the lean inference path (mlops_engine.serving.lean) differs from "
            f"the pipeline ({what}) on "
            f"{int(differ.reshape(len(got), -1).any(axis=1).sum())} of {len(got)} rows "
            f"(max abs difference {np.nanmax(np.abs(got - expected)):.3g}; first: {shown})"
        )


def verify(lean: LeanModel, pipeline: Any, frame: pd.DataFrame) -> int:
    """Raise ``EquivalenceError`` unless the lean copy gives exactly the pipeline's numbers:
    its prepared rows are the ColumnTransformer's output for ``frame``, its predictions on
    them are the pipeline's, and on ``tree_probes`` (every split of every tree, both ways)
    its trees give what the estimator gives. Returns the number of rows checked."""
    inputs = frame[lean.columns]
    X = lean.prepare({c: inputs[c].tolist() for c in lean.columns})
    _compare("prepared rows", X, pipeline.steps[0][1].transform(inputs), inputs)
    _compare("predictions", lean.trees(X), pipeline.predict(inputs), inputs)
    probes = tree_probes(lean)
    expected = lean.estimator.predict(probes)
    for loop in (False, True):  # both ways of evaluating the trees, whatever the batch size
        got = np.concatenate(
            [
                lean._trees(probes[i : i + CHUNK_ROWS], loop)
                for i in range(0, len(probes), CHUNK_ROWS)
            ]
        )
        _compare(f"every split{', per tree' if loop else ''}", got, expected, probes)
    return len(inputs) + len(probes)


def for_service(pipeline: Any, contract: Contract) -> LeanModel | None:
    """The verified lean copy of the served pipeline, or None where the pipeline has a step
    it does not reproduce (then the pipeline serves). Raises ``EquivalenceError`` when the
    copy compiles but differs: a server must not start giving other numbers than the model."""
    try:
        lean = build(pipeline)
    except Unsupported as err:
        log.info("lean inference path off (%s): serving the pipeline's predict", err)
        return None
    checked = verify(lean, pipeline, probe_frame(lean, contract))
    log.info(
        "lean inference path on: %d trees, identical to the pipeline on %d probe rows",
        lean.n_trees,
        checked,
    )
    return lean
