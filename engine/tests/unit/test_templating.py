"""The PR report's and the gate summary's wording are templates (mlops_engine/templates/): the
engine's render the report unchanged, a project's copy in its templates/ folder replaces one
(an include too), and a template that uses a variable it does not get fails naming the
template, the line and the variable. The model card's side: tests/model/test_model_card.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_engine import templating
from mlops_engine.ci.comment import MARKER
from mlops_engine.ci.gate import MetricCheck
from mlops_engine.ci.markdown import ReportInputs, gate_summary, render
from mlops_engine.cli import main
from tests.project import ROOT

# The engine's report for INPUTS below, as it was rendered before the wording moved into
# templates (blank-line runs aside): every section, table and note kind.
GOLDEN = Path(__file__).with_name("pr_report.golden.md")


def _check(name, base, current, verdict, **kw) -> MetricCheck:
    kw = {"direction": "lower", "tolerance": 0.05, "low": -0.5, "high": 0.4, "rows": 310} | kw
    return MetricCheck(name=name, base=base, current=current, verdict=verdict, **kw)


INPUTS = ReportInputs(
    title="Model report",
    checks=[
        _check("mae", 22.5, 19.7, "improved", detectable=0.8),
        _check("r2", 0.84, 0.85, "within tolerance", direction="higher", scale="absolute"),
        _check("mae", 37.7, 19.7, "improved", reference="baseline", tolerance=0.0),
        _check(
            "mae",
            20.0,
            23.0,
            "inconclusive",
            slice="hr_band=night",
            rows=41,
            on_inconclusive="needs-review",
        ),
        _check(
            "mae",
            15.0,
            14.0,
            "too small to tell",
            slice="hr_band=dawn",
            rows=9,
            low=-3.0,
            high=2.0,
            undefined=12,
            on_inconclusive="warn",
        ),
    ],
    current={
        "mae": 19.7,
        "model_selection": {
            "winner": "blend",
            "loss": "poisson",
            "cv": "5-fold time",
            "scoring": "mae",
            "cv_scores": {"linear": 45.719182, "hist_gradient_boosting": 8.546471, "x": None},
            "blend": {
                "members": ["linear", "hist_gradient_boosting"],
                "weights": [0.2, 0.8],
                "cv_score": 8.1,
            },
        },
    },
    base={"mae": 22.5},
    params_diff=[("train.max_iter", 200, 300), ("train.new", None, "yes")],
    validation={
        "valid": False,
        "n_failures": 1,
        "failures": [
            {"column": "temp", "rule": "in_range(0, 1)", "count": 3, "examples": ["1.2", "7"]}
        ],
    },
    slices={"hr_band": {"night": {"n": 41, "mae": 23.0}, "day": {"n": 269, "mae": 19.1}}},
    base_slices={"hr_band": {"night": {"mae": 20.0}}},
    importance=[(f"feature_{i}", 1 / (i + 1)) for i in range(12)],
    figures=["reports/figures/residuals.png"],
    artifact_url="https://github.com/o/r/actions/runs/1/artifacts/2",
    versions={"commit": "0123456789ab", "main": "ba9876543210"},
    base_label="main",
    notes=["Compared with main's committed metrics."],
    accept_label="gate:accept",
    anchor="✅ **Anchor** `model-v1`: mae within 10% (docs/ci.md).",
)


def test_the_engines_templates_render_the_report_unchanged():
    text = render(INPUTS)
    assert text == GOLDEN.read_text()
    assert text.endswith(f"\n\n{MARKER}\n"), "the comment's marker, added after the template"


def test_a_projects_template_replaces_the_engines_and_an_include_looks_there_first(tmp_path):
    ours = tmp_path / "templates"
    ours.mkdir()
    (ours / "_gate_outcomes.md.j2").write_text("Ours: {{ outcomes.needs | join(' and ') }}\n")
    text = render(INPUTS, ours)
    assert "Ours: mae on hr_band=night\n" in text, "the report includes the project's partial"
    assert "Needs review (inconclusive)" not in text
    assert "Ours: mae on hr_band=night" in gate_summary(INPUTS.checks, "gate:accept", ours)
    (ours / "pr_report.md.j2").write_text(
        "# {{ title }} for the ops team\n{% for c in overall %}{{ c.name }} {{ c.current | num }}\n"
        "{% endfor %}"
    )
    assert render(INPUTS, ours) == (
        f"# Model report for the ops team\nmae 19.7\nr2 0.85\nmae 19.7\n\n{MARKER}\n"
    )
    assert render(INPUTS) == GOLDEN.read_text(), "without the folder: the engine's"


def test_a_variable_the_template_does_not_get_fails_naming_it_and_the_line(tmp_path):
    (tmp_path / "pr_report.md.j2").write_text("## {{ title }}\n\n{{ gate_verdict }}\n")
    with pytest.raises(templating.TemplateError) as err:
        render(INPUTS, tmp_path)
    assert f"{tmp_path / 'pr_report.md.j2'}, line 3: 'gate_verdict' is undefined" in str(err.value)
    (tmp_path / "pr_report.md.j2").write_text("## {{ title }}\n{% for c in checks %}\n")
    with pytest.raises(templating.TemplateError, match=r"pr_report.md.j2, line 2: Unexpected end"):
        render(INPUTS, tmp_path)
    (tmp_path / "pr_report.md.j2").write_text('{% include "_not_there.md.j2" %}\n')
    with pytest.raises(templating.TemplateError, match=r"'_not_there.md.j2' not found"):
        render(INPUTS, tmp_path)
    (tmp_path / "pr_report.md.j2").write_text("{{ title }}\n{{ paired_error | signed }}\n")
    with pytest.raises(templating.TemplateError, match=r"pr_report.md.j2, line 2: TypeError"):
        render(INPUTS, tmp_path)  # a filter given a value it cannot take (None)


def test_mlops_templates_copies_one_to_start_from_and_never_over_an_edit(tmp_path, monkeypatch):
    params = ROOT / "params.yaml"
    monkeypatch.chdir(tmp_path)
    assert main(["--params", str(params), "templates", "copy", "pr_report"]) == 0
    copied = tmp_path / "templates" / "pr_report.md.j2"
    assert copied.read_text() == (templating.bundled() / "pr_report.md.j2").read_text()
    assert render(INPUTS, copied.parent) == GOLDEN.read_text(), "the copy renders the same"
    copied.write_text("edited\n")
    assert main(["--params", str(params), "templates", "copy", "pr_report.md.j2"]) == 1
    assert copied.read_text() == "edited\n"
    assert main(["--params", str(params), "templates", "copy", "nonesuch"]) == 1
