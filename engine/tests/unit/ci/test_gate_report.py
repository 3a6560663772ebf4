import pytest

from mlops_engine.ci.gate import baseline_check, compare
from mlops_engine.ci.markdown import ReportInputs, params_diff, render
from mlops_engine.config import GateMetric, GateParams

GATE = GateParams(
    baseline_margin=0.2,
    metrics={
        "mae": GateMetric(direction="lower", tolerance=0.05),
        "r2": GateMetric(direction="higher", tolerance=0.02),
    },
)


def _verdicts(base, current):
    return {c.name: c.verdict for c in compare(base, current, GATE)}


@pytest.mark.parametrize(
    ("base", "current", "expected"),
    [
        ({"mae": 20, "r2": 0.8}, {"mae": 19, "r2": 0.81}, {"mae": "improved", "r2": "improved"}),
        (
            {"mae": 20, "r2": 0.8},
            {"mae": 20.9, "r2": 0.79},
            {"mae": "within tolerance", "r2": "within tolerance"},
        ),
        (
            {"mae": 20, "r2": 0.8},
            {"mae": 21.1, "r2": 0.78},
            {"mae": "regressed", "r2": "regressed"},
        ),
        ({"mae": 20, "r2": 0.8}, {"mae": 20, "r2": 0.8}, {"mae": "unchanged", "r2": "unchanged"}),
        (None, {"mae": 20, "r2": 0.8}, {"mae": "no base", "r2": "no base"}),
        ({"mae": 20, "r2": 0.8}, {"mae": 20}, {"mae": "unchanged", "r2": "missing"}),
    ],
)
def test_gate_is_direction_aware_with_relative_tolerance(base, current, expected):
    assert _verdicts(base, current) == expected


def test_only_regressed_or_missing_fails():
    checks = compare({"mae": 20, "r2": 0.8}, {"mae": 25, "r2": 0.9}, GATE)
    assert [c.name for c in checks if c.failed] == ["mae"]
    assert "mae: 20 -> 25 (regressed; higher is worse, tolerance 5%)" in checks[0].describe()


def test_baseline_margin():
    assert not baseline_check({"mae": 15, "baseline": {"mae": 20}}, GATE).failed
    assert baseline_check({"mae": 17, "baseline": {"mae": 20}}, GATE).failed


def test_params_diff_lists_changed_added_removed_leaves():
    base = {"train": {"lr": 0.1, "depth": 3}, "seed": 1}
    new = {"train": {"lr": 0.05, "leaves": 31}, "seed": 1}
    assert params_diff(base, new) == [
        ("train.depth", 3, None),
        ("train.leaves", None, 31),
        ("train.lr", 0.1, 0.05),
    ]


def test_report_shows_verdicts_params_validation_charts_and_keeps_images_private():
    checks = compare({"mae": 20, "r2": 0.8}, {"mae": 25, "r2": 0.9}, GATE)
    text = render(
        ReportInputs(
            title="T",
            checks=checks,
            current={},
            base={},
            params_diff=[("train.lr", 0.1, 0.05)],
            validation={
                "valid": False,
                "n_failures": 1,
                "failures": [
                    {"column": "hum", "rule": "max <= 1", "count": 2, "examples": ["1.5"]}
                ],
            },
            slices={"band": {"a": {"n": 1, "mae": 2.0}, "b": {"n": 1, "mae": 3.0}}},
            base_slices={"band": {"a": {"n": 1, "mae": 2.5}, "b": {"n": 1, "mae": 2.0}}},
            importance=[("hr", 5.0)],
            figures=["reports/figures/residuals.png"],
            artifact_url="https://example.invalid/artifact/1",
            versions={"commit": "abc"},
        )
    )
    assert "❌ **Quality gate failed**: mae: 20 -> 25" in text
    assert "| mae | 20 | 25 | +5 (+25.0%) | ↓ | ❌ regressed (tol. 5%) |" in text
    assert "| `train.lr` | 0.1 | 0.05 |" in text
    assert "| hum | max <= 1 | 2 | 1.5 |" in text
    assert "bar [2.5, 2]" in text and "line [2, 3]" in text
    assert "![" not in text, "images are linked from the artifact, not embedded, by default"
    assert "https://example.invalid/artifact/1" in text
    assert text.rstrip().endswith("<!-- mlops-template report -->")


def test_report_local_images_for_explicit_publishing():
    text = render(
        ReportInputs(
            title="T",
            checks=[],
            current={},
            base=None,
            params_diff=[],
            validation=None,
            figures=["reports/figures/a.png"],
            images="local",
        )
    )
    assert "![a.png](reports/figures/a.png)" in text
