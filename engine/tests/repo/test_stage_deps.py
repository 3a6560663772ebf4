"""Every stage in dvc.yaml depends on exactly the project modules its command imports.

DVC re-runs a stage when one of its ``deps`` changes, so a module the command imports but
the stage does not list is an edit that silently leaves ``dvc.lock`` claiming a
reproduction that did not happen; a listed module the command no longer imports re-runs the
stage for nothing. The closure is computed statically (``ast``): the module-level imports of
the command's module, the imports inside the stage's command function, then every import
(module-level or inside a function) of each project module reached. ``cli.py`` only parses
arguments and dispatches, so it is not part of any stage. A stage that loads the pickled
model also runs ``pipeline/features.py`` (the model's derived-feature step imports it).
A stage that reaches ``mlops_engine.project`` runs the project's package (its features and
model families, found through its entry point): it lists that package's folder. A stage
that reaches ``mlops_engine.templating`` lists each template its modules render (named as a
string literal, ``"model_card.md.j2"``) and the project's ``templates/`` folder, so a
reworded card re-renders.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
import yaml

from mlops_engine import project
from mlops_engine.cli import build_parser
from mlops_engine.commands import COMMANDS
from mlops_engine.templating import PROJECT_TEMPLATES
from tests.project import ROOT

PACKAGE = "mlops_engine"
SRC = ROOT / "engine" / "src"
# The project's package: one folder dep, since the engine imports all of it at once.
PROJECT = f"src/{project.load().__name__}"
# The fitted pipeline's own project code: unpickling a model imports it.
UNPICKLED = "mlops_engine.pipeline.features"
STAGES: dict = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
# A template a module renders (templating.render("model_card.md.j2", ...)): its wording
TEMPLATE_NAME = re.compile(r"[\"'](\w+\.md\.j2)[\"']")


def module_file(name: str) -> Path | None:
    """The file of project module ``name`` (a package's ``__init__.py``), None if not ours."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    path = SRC.joinpath(*name.split("."))
    if path.is_dir():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else None


def imported(node: ast.AST, current: str) -> set[str]:
    """Module names imported anywhere under ``node`` (``from a import b`` may name a module)."""
    names: set[str] = set()
    package = current if module_file(current).name == "__init__.py" else current.rpartition(".")[0]
    for n in ast.walk(node):
        if isinstance(n, ast.Import):
            names |= {alias.name for alias in n.names}
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - n.level + 1] + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in n.names}
    return names


def closure(start: set[str]) -> set[Path]:
    """Project files reached from ``start``, each module's parent packages included."""
    seen: set[str] = set()
    todo = [m for m in start if module_file(m)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parents = [name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)]
        tree = ast.parse(module_file(name).read_text())
        todo += [m for m in imported(tree, name) | set(parents) if module_file(m)]
    return {module_file(m) for m in seen}


def stage_closure(stage: str) -> set[str]:
    words = STAGES[stage]["cmd"].split()
    assert words[0] == "mlops", f"stage {stage}: cmd must be one `mlops` command"
    build_parser()  # registers the commands
    fn = COMMANDS[words[1]][0]
    module = inspect.getmodule(fn)
    module_tree = ast.parse(Path(module.__file__).read_text())
    top_level = {
        name
        for stmt in module_tree.body
        if isinstance(stmt, ast.Import | ast.ImportFrom)
        for name in imported(stmt, module.__name__)
    }
    function = next(
        n for n in ast.walk(module_tree) if isinstance(n, ast.FunctionDef) and n.name == fn.__name__
    )
    start = top_level | imported(function, module.__name__)
    if any(str(d).endswith(".joblib") for d in STAGES[stage].get("deps", [])):
        start.add(UNPICKLED)  # loading the model runs its derived features' code
    files = closure(start) | {Path(module.__file__)}
    deps = {str(p.relative_to(ROOT)) for p in files}
    if f"engine/src/{PACKAGE}/project.py" in deps:
        deps.add(PROJECT)
    if f"engine/src/{PACKAGE}/templating.py" in deps:
        # the templates its modules render, and the project's folder of overrides
        for path in files:
            for name in TEMPLATE_NAME.findall(path.read_text()):
                deps.add(f"engine/src/{PACKAGE}/templates/{name}")
        deps.add(str(PROJECT_TEMPLATES))
    return deps


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_are_the_modules_its_command_imports(stage):
    needed = stage_closure(stage)
    listed = {
        d
        for d in STAGES[stage].get("deps", [])
        if d.startswith(("src/", "engine/src/")) or d == str(PROJECT_TEMPLATES)
    }
    missing, extra = sorted(needed - listed), sorted(listed - needed)
    assert not missing, f"dvc.yaml stage {stage!r} lacks deps its command imports: {missing}"
    assert not extra, f"dvc.yaml stage {stage!r} lists deps its command does not import: {extra}"


def test_the_closure_follows_lazy_imports_and_packages(tmp_path):
    # The train stage imports its core inside the command function; it must be found, and
    # the package's __init__ (which Python runs first) with it.
    deps = stage_closure("train")
    assert "engine/src/mlops_engine/pipeline/train.py" in deps
    assert "engine/src/mlops_engine/pipeline/__init__.py" in deps
    assert "engine/src/mlops_engine/cli.py" not in deps
    assert PROJECT in deps, "train runs the project's features and model families"
    assert not any("serving" in d or "/ct/" in d for d in deps), deps
