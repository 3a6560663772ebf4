"""The engine's inside is layered: a module imports only from its own layer or the layers
below it, so no two packages depend on each other (the cycles this removed: the model card
and the lock check imported the gate's package, which imported the pipeline's).

    cli, testing  entry points: the console script, the pytest plugin
    commands      the `mlops` commands: parse arguments, call below
    automation    template updates as a pull request (on the retraining PR's machinery)
    ct            continuous training: drift, policy, the retraining PR (automation)
    ci, canary    the gate, champion re-scoring, the PR report (evaluation); the dependency
                  canary (not pull-request CI: the world's releases, weekly)
    serving, onboarding   the service; `mlops init`
    pipeline      the stages' pure cores
    core          everything at the package's top level: config, contract, storage, the
                  paired statistics, metric definitions, lock diffs, the project's hooks,
                  the git and gh wrappers and step files

Imports inside functions count: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.project import ROOT

PACKAGE = ROOT / "engine" / "src" / "mlops_engine"
# cli and testing are entry points (the console script, the pytest plugin): above all
LAYERS = {
    **{"testing": 8, "cli": 7, "commands": 6, "automation": 5, "ct": 4, "ci": 3, "canary": 3},
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


def private_uses(path: Path) -> list[tuple[int, str]]:
    """Another module's private names this module reaches: ``from mlops_engine.x import
    _name`` and ``x._name`` on a module imported from the package."""
    tree = ast.parse(path.read_text())
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.startswith("mlops_engine"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        found.append((node.lineno, f"{node.module}.{a.name}"))
                    modules.add(a.asname or a.name)  # `from mlops_engine import x`: a module
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("mlops_engine"):
                    modules.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return found


def findings(scan, says: str, allowed=lambda path, hit: False) -> list[str]:
    """``scan`` (a module's path -> [(line, what)]) over every module of the package, as
    "path:line <says what>", leaving out what ``allowed(path, what)`` permits."""
    return [
        f"{path.relative_to(ROOT)}:{line} {says.format(hit)}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, hit in scan(path)
        if not allowed(path, hit)
    ]


def test_no_module_uses_another_modules_private_names():
    """What one module shares with another is public (the anchor and the seeds once
    reached into the champion's ``_outs``/``_pick`` and the gate's ``_same_answers``): a
    private name can change without reading the rest of the package."""
    wrong = findings(private_uses, "uses {}")
    assert not wrong, "\n".join(wrong)


WRAPPERS = {"git": PACKAGE / "git.py", "gh": PACKAGE / "gh.py"}
RUNNERS = {"run", "Popen", "call", "check_call", "check_output"}


def tool_calls(path: Path) -> list[tuple[int, str]]:
    """Where a module runs git or gh itself: a subprocess call, or a command list, whose
    program is the literal "git" or "gh"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.List | ast.Tuple) and node.elts:
            first = node.elts[0]
            if isinstance(first, ast.Constant) and first.value in WRAPPERS:
                found.append((node.lineno, first.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RUNNERS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("subprocess", "os")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).split()[:1] in (["git"], ["gh"])
        ):
            found.append((node.lineno, str(node.args[0].value).split()[0]))
    return found


def test_git_and_gh_run_through_their_one_wrapper_each():
    """git.py runs git and gh.py runs gh (errors as what they are: the command, the exit
    code, stderr); every other module calls them, so no second style creeps back (there
    were revisions.git, ct/proposal._git, template_update._git and three gh styles)."""
    wrong = findings(
        tool_calls, "runs {} itself", allowed=lambda path, tool: path == WRAPPERS[tool]
    )
    assert not wrong, "\n".join(wrong)


def _safe_loads(path) -> list[tuple[int, str]]:
    """`x.safe_load(...)` and `YAML(..., pure=...)` calls in a module, by line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name == "safe_load" or (name == "YAML" and any(k.arg == "pure" for k in node.keywords)):
            found.append((node.lineno, name))
    return found


def test_the_engine_parses_yaml_through_the_c_parsers():
    """A `yaml.safe_load` (PyYAML's pure-Python parser) or a `YAML(pure=True)` in the
    package reads the thousand-line dvc.lock ~10x slower; outputs.load_yaml is the one way."""
    wrong = findings(_safe_loads, "calls {}")
    assert not wrong, "\n".join(wrong)


# Each static check above, on a module written to break it: what it must see, by line.
CHECKS_SEE = {
    "private names": (
        private_uses,
        "from mlops_engine.ci.champion import _pick, side_of\n"
        "from mlops_engine import revisions\n"
        "revisions._private()\n",
        [(1, "mlops_engine.ci.champion._pick"), (3, "revisions._private")],
    ),
    "git and gh run directly": (
        tool_calls,
        "import subprocess\n"
        'subprocess.run(["git", "status"])\n'
        'cmd = ("gh", "pr", "list")\n'
        'subprocess.check_output("git log", shell=True)\n',
        [(2, "git"), (3, "gh"), (4, "git")],
    ),
    "a pure-Python YAML parse": (
        _safe_loads,
        "import yaml\nyaml.safe_load('a: 1')\n"
        "from ruamel.yaml import YAML\nYAML(typ='safe', pure=True)\n",
        [(2, "safe_load"), (4, "YAML")],
    ),
}


@pytest.mark.parametrize("check", CHECKS_SEE)
def test_each_check_sees_what_it_forbids(check, tmp_path):
    scan, source, expected = CHECKS_SEE[check]
    module = tmp_path / "m.py"
    module.write_text(source)
    assert sorted(scan(module)) == expected
