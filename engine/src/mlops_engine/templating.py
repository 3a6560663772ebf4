"""The wording of what the engine writes for people: Jinja templates a team edits without
reading Python.

The PR report (``pr_report.md.j2``, also the retraining PR's body), the quality gate's job
summary (``gate_summary.md.j2``) and the model card (``model_card.md.j2``) are rendered from
templates shipped in the engine's package (``mlops_engine/templates/``). Python computes
every figure and hands the template a context; the words, the order of the sections and
the tables' layout are the template's.

A project overrides a template by putting a file of the same name in its ``templates/``
folder (``PROJECT_TEMPLATES``, next to ``dvc.yaml``; ``mlops templates copy NAME`` starts
one from the engine's): that file is used instead, and an ``{% include %}`` or
``{% import %}`` inside any template also looks there first. The model card stage lists the
folder in its ``deps``, so an edited wording re-runs it.

Rendering is strict: a variable the context lacks, a syntax error or a missing template
raises ``TemplateError`` naming the template, the line and the variable, never a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from mlops_engine.metric_defs import arrow

# The project's folder of overrides (relative to the project's root, where dvc.yaml is)
PROJECT_TEMPLATES = Path("templates")
SUFFIX = ".md.j2"


class TemplateError(ValueError):
    """A template could not be rendered: which one, where, and why."""


def _num(value: Any) -> str:
    """A figure as every report writes it: 4 significant digits, "–" for none."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


FILTERS = {
    "num": _num,
    "g4": lambda v: f"{v:.4g}",  # a value in a chart
    "signed": lambda v: f"{v:+.4g}",  # a difference: +0.0123
    "pct": lambda v: f"{v:.0%}",  # a share: 95%
    "pct1": lambda v: f"{v:+.1%}",  # a relative change: +1.2%
    "count": lambda v: f"{v:,}",  # a count of rows: 1,653
    "g": lambda v: f"{v:g}",  # a short number: 0.5
    "arrow": arrow,  # a metric's direction as the reports mark it (metric_defs): ↓ or ↑
}


def bundled() -> Path:
    """The engine's own templates (package data, in the wheel)."""
    return Path(str(resources.files("mlops_engine") / "templates"))


def names() -> list[str]:
    """The templates a project can override (partials, named ``_*``, included)."""
    return sorted(p.name for p in bundled().glob(f"*{SUFFIX}"))


def environment(overrides: Path | None = None) -> jinja2.Environment:
    """The engine's templates behind the project's ``overrides`` folder (if given): a
    template of the same name there wins, for a render and for each include or import."""
    loaders: list[jinja2.BaseLoader] = []
    if overrides is not None and Path(overrides).is_dir():
        loaders.append(jinja2.FileSystemLoader(str(overrides)))
    loaders.append(jinja2.FileSystemLoader(str(bundled())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # markdown, not HTML: GitHub renders it
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def _where(tb: TracebackType | None, fallback: str) -> str:
    """The innermost template frame of a rendering error: "path, line N"."""
    found = fallback
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(SUFFIX):
            found = f"{filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return found


def render(name: str, context: Mapping[str, Any], overrides: Path | None = None) -> str:
    """Template ``name`` rendered with ``context`` (the project's copy first, if any)."""
    env = environment(overrides)
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as err:
        where = f"{overrides} or the engine's" if overrides is not None else "the engine's"
        raise TemplateError(
            f"template {err.name!r} not found ({where} templates: {', '.join(names())})"
        ) from err
    except jinja2.TemplateSyntaxError as err:
        raise TemplateError(
            f"{err.filename or err.name}, line {err.lineno}: {err.message}"
        ) from err
    try:
        return template.render(**context)
    except jinja2.UndefinedError as err:
        raise TemplateError(
            f"{_where(err.__traceback__, template.filename or name)}: {err.message} "
            f"(the variables {name} gets: docs/ci.md#the-reports-wording)"
        ) from err
    except jinja2.TemplateNotFound as err:  # an include or import
        raise TemplateError(
            f"{_where(err.__traceback__, template.filename or name)}: template {err.name!r} "
            f"not found (the engine's: {', '.join(names())})"
        ) from err
    except jinja2.TemplateSyntaxError as err:  # in an included or imported template
        raise TemplateError(
            f"{err.filename or err.name}, line {err.lineno}: {err.message}"
        ) from err
    except Exception as err:  # a filter or a method on a value it cannot take
        where = _where(err.__traceback__, template.filename or name)
        raise TemplateError(f"{where}: {type(err).__name__}: {err}") from err


def copy(name: str, folder: Path = PROJECT_TEMPLATES) -> Path:
    """Start an override: the engine's template ``name`` copied into ``folder`` (never over
    an existing copy)."""
    if not name.endswith(SUFFIX):
        name += SUFFIX
    source = bundled() / name
    if not source.is_file():
        raise TemplateError(f"no template {name!r} (the engine's: {', '.join(names())})")
    target = Path(folder) / name
    if target.exists():
        raise TemplateError(f"{target} exists already: edit it, or remove it to start over")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text())
    return target
