"""The engine's inside is layered: a module imports only from its own layer or the layers
below it, so no two packages depend on each other (the cycles this removed: the model card
and the lock check imported the gate's package, which imported the pipeline's).

    cli, testing  entry points: the console script, the pytest plugin
    commands      the `mlops` commands: parse arguments, call below
    automation    template updates as a pull request (on the retraining PR's machinery)
    ct            continuous training: drift, policy, the retraining PR (automation)
    ci            the gate, champion re-scoring, the PR report, the canary (evaluation)
    serving, onboarding   the service; `mlops init`
    pipeline      the stages' pure cores
    core          everything at the package's top level: config, contract, storage, the
                  paired statistics, lock diffs, the project's hooks, git and step files

Imports inside functions count: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.project import ROOT

PACKAGE = ROOT / "engine" / "src" / "mlops_engine"
# cli and testing are entry points (the console script, the pytest plugin): above all
LAYERS = {
    **{"testing": 8, "cli": 7, "commands": 6, "automation": 5, "ct": 4, "ci": 3},
    **{"serving": 2, "onboarding": 2, "pipeline": 1},
}
CORE = 0


def layer_of(module: str) -> tuple[str, int]:
    """``mlops_engine.ci.gate`` -> ("ci", 3); a top-level module is core."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in LAYERS:
        return parts[1], LAYERS[parts[1]]
    if len(parts) == 2 and parts[1] in LAYERS:  # a subpackage's __init__, cli, testing
        return parts[1], LAYERS[parts[1]]
    return "core", CORE


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.startswith("mlops_engine"):
                if node.module == "mlops_engine":  # from mlops_engine import x (a module)
                    found += [(node.lineno, f"mlops_engine.{a.name}") for a in node.names]
                else:
                    found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("mlops_")]
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        name, level = layer_of(module)
        for line, target in imports(path):
            target_name, target_level = layer_of(target)
            if target_level > level or (target_level == level and target_name != name):
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({name}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_lazy_import_upwards(tmp_path):
    """The rule above can fail: an import inside a function is found."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from mlops_engine.ci.gate import x\n")
    assert imports(module) == [(2, "mlops_engine.ci.gate")]
    assert layer_of("mlops_engine.ci.gate")[1] > layer_of("mlops_engine.pipeline.train")[1]
