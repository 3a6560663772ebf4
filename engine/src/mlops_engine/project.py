"""The project's hooks: the one place the engine reaches into the package a team owns.

A project names its package under the entry-point group ``mlops_engine.project`` (in its
``pyproject.toml``: ``[project.entry-points."mlops_engine.project"] hooks = "<package>"``).
Importing that package registers what the team wrote:

- derived features, with ``mlops_engine.pipeline.features.derived`` (``@derived(...)``);
- extra model families, as ``ESTIMATORS``: ``{(name, loss): (estimator class, defaults)}``,
  merged over the engine's (``mlops_engine.pipeline.train.ESTIMATORS``), a name then usable
  as ``train.estimator`` or in ``train.candidates`` in params.yaml.

Why an entry point: the engine never imports a project by name, so a team renames its package
(folder, distribution, this one line) without touching engine code, and the engine installed
without any project (its own tests, a wheel in a clean environment) runs on its defaults.
"""

from __future__ import annotations

import functools
from importlib import metadata
from types import ModuleType

GROUP = "mlops_engine.project"


@functools.cache
def load() -> ModuleType | None:
    """The project's package, imported once (its registrations run); None without a project."""
    found = list(metadata.entry_points(group=GROUP))
    if not found:
        return None
    if len({ep.value for ep in found}) > 1:
        names = ", ".join(
            sorted(f"{ep.value} ({ep.dist.name if ep.dist else '?'})" for ep in found)
        )
        raise RuntimeError(
            f"more than one installed distribution declares a project ({GROUP}): {names}; "
            "install one project per environment"
        )
    return found[0].load()


def name() -> str:
    """The project's package name, for messages ("<none>" when no project is installed)."""
    module = load()
    return module.__name__ if module is not None else "<none>"


def hook(attribute: str, default: object = None) -> object:
    """The project's ``attribute``, or ``default`` when it has none (or there is no project)."""
    module = load()
    return getattr(module, attribute, default) if module is not None else default
