"""The docs, executed: every command of every ```sh block runs for real, in the order a
reader meets it, in a throwaway copy of the template (tests/docs/walkthrough.py).

`use-this-template.md` is also the template's proof on data it has never seen: a new user
clones it, watches the example's CT loop, runs `init` on a classification table
(tests/fixtures/oj.csv.gz, only shipped for this), `make run` and `make test`, then goes on
through branches, a DVC remote, the service and `gh`.

Marked `example`: they walk the pristine template, so they skip inside the project the
guide creates (whose data is no longer the example), which keeps them from recursing.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
import yaml

from tests.docs.snippets import DOCS, blocks
from tests.docs.walkthrough import Walk
from tests.project import ROOT, clone, lock_outs, seeded_global_config

pytestmark = [pytest.mark.slow, pytest.mark.example]

README = blocks(ROOT / "README.md")
GUIDE = blocks(ROOT / "docs" / "use-this-template.md")
SCALE_OUT = blocks(ROOT / "docs" / "scale-out.md")
PIPELINE = blocks(ROOT / "docs" / "pipeline.md")
SERVING = blocks(ROOT / "docs" / "serving.md")
SERVE = {"make serve": "http://127.0.0.1:3000/readyz"}
CI_RUNS_IT = {"make test": ".ci/run runs `make test` in a fresh clone: it is this test suite"}


def test_every_doc_is_walked():
    walked = {"README.md", "use-this-template.md", "scale-out.md", "pipeline.md", "serving.md"}
    without_commands = {d.name for d in DOCS if not blocks(d)}
    assert {d.name for d in DOCS} - without_commands == walked
    placeholders = [
        "https://github.com/you/your-project.git",
        "/path/to/your.csv",
        "your_target_column",
        "s3://your-bucket/dvc",
    ]
    text = "".join(d.read_text() for d in DOCS)
    assert all(p in text for p in placeholders), "a substitution no longer matches the docs"


def _bucket_url(s3_server) -> tuple[str, str]:
    """The docs' bucket, a new one on the S3 server (tests/s3.py): (its name, its URL)."""
    bucket = s3_server.bucket("your-bucket")
    return bucket, f"s3://{bucket}/dvc"


def _without_the_s3_client(walk, project) -> None:
    """The project's environment as `make install` leaves it before a remote is configured,
    which has no S3 client: the docs' own step must install it. (The new project's
    `make test` added it for the suite, which stores to S3; a reader who ran any other
    `make` target since has it removed again: `uv sync` is exact.)"""
    subprocess.run(
        ["make", "install"], cwd=project, env=walk.env(), check=True, capture_output=True
    )
    probe = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", "import dvc_s3"],
        capture_output=True,
    )
    assert probe.returncode != 0, "dvc-s3 must come from the docs' command"


# What reads the project's own table, contract, params or model (the guide's `make test`).
OWN_TABLE_TESTS = (
    "tests",  # the project's own: its data, its model, its features and model families
    "engine/tests/data",
    "engine/tests/model/test_model_card.py",
    "engine/tests/model/test_lean_equivalence.py",
    "engine/tests/model/test_init_pipeline.py",  # init on other tables, from this params.yaml
    # the service on the table's schema: its requests, its answers, its server and its log
    # (not the service tests whose result cannot depend on the table: concurrent model saves,
    # batching latency, the Kubernetes manifests)
    "engine/tests/service/test_http.py",
    "engine/tests/service/test_fuzz.py",
    "engine/tests/service/test_server.py",
    "engine/tests/service/test_schema.py",
    "engine/tests/service/test_lean_service.py",
    "engine/tests/storage/test_prediction_log_s3.py",  # the service's log on S3
)


def test_the_use_this_template_guide(tmp_path, s3_server, dvc_seed):
    # "Use this template" on GitHub: a new repository holding the template's files.
    template = clone(tmp_path / "template")
    github = tmp_path / "github" / "you"
    github.mkdir(parents=True)
    origin = github / "your-project.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(template), str(origin)], check=True)
    home = tmp_path / "home"
    home.mkdir()
    junit = tmp_path / "junit.xml"
    walk = Walk(
        cwd=home,
        state=tmp_path,
        substitutions={
            "https://github.com/you/your-project.git": str(origin),
            "/path/to/your.csv": str(ROOT / "engine" / "tests" / "fixtures" / "oj.csv.gz"),
            "your_target_column": "Purchase",
            "s3://your-bucket/dvc": (bucket := _bucket_url(s3_server))[1],
        },
        exits={"make monitor": {0, 2}},  # make's 2 is "Error 3": mlops monitor said retrain
        servers=SERVE,
        # The new project's `make test` runs its own tests (tests/) and here, through
        # PYTEST_ARGS, also every engine test that reads the new table, its contract, params
        # or model: the data tier, the model card, and the service. Left out are those whose
        # result cannot depend on the table, which this suite runs itself on the same commit:
        # the engine's `code`, `pipeline`, `storage` and `workflows` tiers (unit tests on tiny
        # frames; DVC's machinery, where what is tested is the atomic writes and dvc.lock, and
        # its remotes on S3; the workflow files and the harness's stand-ins), but the
        # prediction log on S3, and the model, service and docs tests
        # on tables and files of their own (sklearn's datasets, the paired gate's fixture
        # tables, the docs' own commands).
        # No xdist workers (the suite keeps the cores busy) and 200 generated requests against the
        # new table's schema (the suite fuzzes the template's with 1,200).
        extra_env={
            "PYTEST_ARGS": f"--junitxml={junit} -p no:cacheprovider " + " ".join(OWN_TABLE_TESTS),
            "TEST_WORKERS": "0",
            "FUZZ_EXAMPLES": "200",
        },
    )
    clone_and_run, demo_ct, own_data, commit, branch, remote, serve, label, model = GUIDE

    walk.covered = CI_RUNS_IT  # step 1's `make test` is the example's full suite
    # Step 1's `make run` is the README's quickstart on the same commit, walked in
    # test_the_readme_and_its_pages; here too it starts from the run's DVC seed (as from a
    # DVC remote: unchanged stages restored), through DVC's global config for this block.
    walk.extra_env["DVC_GLOBAL_CONFIG_DIR"] = str(seeded_global_config(dvc_seed, tmp_path))
    walk.block(clone_and_run)
    del walk.extra_env["DVC_GLOBAL_CONFIG_DIR"]
    project = home / "your-project"
    assert walk.cwd == project and (project / "models" / "model.joblib").exists()
    walk.block(demo_ct)
    if walk.ran["make monitor"].returncode == 2:
        assert "Error 3" in walk.ran["make monitor"].errors, walk.ran["make monitor"].errors
    summary = json.loads((project / "reports" / "monitor" / "summary.json").read_text())
    assert summary["verdict"] in {"drift", "no_drift"}, summary
    assert (project / "reports" / "monitor" / "drift.html").stat().st_size > 100_000

    walk.covered = {}  # from here on `make test` runs the new project's own suite
    walk.block(own_data)
    init = walk.ran["make init DATA=/path/to/your.csv TARGET=your_target_column"]
    assert "task: classification of 'Purchase'" in init.output
    assert (project / "data/examples/bikeshare_2011.csv.gz").exists(), "archived, not lost"
    assert (project / "data/examples/production/prediction_logs").is_dir(), "demo stream kept"
    assert not (project / "data/production/prediction_logs").exists(), "old contract's logs"
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["f1"] > metrics["baseline"]["f1"] and metrics["roc_auc"] > 0.8
    assert {"confusion_matrix.png", "roc.png"} <= {
        p.name for p in (project / "reports/figures").iterdir()
    }
    _new_contract_tests_ran(junit)

    walk.block(commit)
    walk.block(branch)
    pushed = subprocess.run(
        ["git", "show", "tune-model:params.yaml"], cwd=origin, capture_output=True, text=True
    ).stdout
    assert "learning_rate: 0.05" in pushed and "Purchase" in pushed

    _without_the_s3_client(walk, project)
    walk.extra_env.update(s3_server.env())  # the reader's keys (and a MinIO user's endpoint)
    walk.block(remote)
    for name in s3_server.env():
        del walk.extra_env[name]
    unstaged = subprocess.run(
        ["git", "diff", "--name-only", "HEAD", "--", ".dvc", "pyproject.toml", "uv.lock"],
        cwd=project,
        capture_output=True,
        text=True,
    ).stdout
    assert unstaged == "", f"step 4 left uncommitted: {unstaged}"
    model_md5 = lock_outs(project)["models/model.joblib"]
    pushed = s3_server.keys(bucket[0], "dvc/files/md5/")
    assert f"dvc/files/md5/{model_md5[:2]}/{model_md5[2:]}" in pushed

    walk.block(serve)  # ready on /readyz, then stopped with SIGTERM
    walk.block(label)
    assert "retraining" in (tmp_path / "gh" / "labels.json").read_text()
    walk.block(model)
    params = (project / "params.yaml").read_text()
    assert "max_iter: 400" in params and "max_leaf_nodes: 15" in params

    assert walk.missed(GUIDE) == []


def _new_contract_tests_ran(junit) -> None:
    outcome: dict[str, set[str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        status = "skipped" if case.find("skipped") is not None else "passed"
        if case.find("failure") is not None or case.find("error") is not None:
            status = "failed"
        outcome.setdefault(case.get("classname", ""), set()).add(status)
    for module in ("tests.test_data", "tests.test_model"):
        assert outcome.get(module) == {"passed"}, (module, outcome.get(module))
    # the project's features and model families: those reading columns this table lacks skip
    assert "passed" in outcome.get("tests.test_hooks", set()), outcome.get("tests.test_hooks")
    for module in ("engine.tests.service.test_http", "engine.tests.service.test_server"):
        assert "passed" in outcome.get(module, set()), (module, outcome.get(module))  # requests
    assert outcome["engine.tests.data.test_contract"] == {"skipped"}, "example-only tests skip"
    assert "failed" not in set().union(*outcome.values())


def test_the_readme_and_its_pages(tmp_path, s3_server, dvc_seed):
    """The README's blocks, then the pipeline and serving pages' in the order a reader who
    follows the README's links meets them, in one clone.

    The clone's DVC cache is the run's seed (DVC's global config, as a configured remote
    would restore it): `make run` runs for real (uv sync into a new .venv, `dvc repro`,
    `mlops summary`) and restores the stages, whose computation from a fresh clone is the
    seed itself (tests.project.seed_cache; tests/pipeline/test_dvc_pipeline.py checks it
    against dvc.lock). The experiment below runs its stages for real."""
    project = clone(tmp_path / "project")
    walk = Walk(
        cwd=project,
        state=tmp_path,
        substitutions={"s3://your-bucket/dvc": (bucket := _bucket_url(s3_server))[1]},
        covered=CI_RUNS_IT,
        servers=SERVE,
    )
    walk.extra_env["DVC_GLOBAL_CONFIG_DIR"] = str(seeded_global_config(dvc_seed, tmp_path))
    quickstart, own_data = README
    explore, back, remote = PIPELINE
    (serve,) = SERVING
    assert [c.text for c in own_data] == [c.text for c in GUIDE[2]], (
        "the README's init block is the guide's step 2, walked in the test above"
    )
    walk.skip(own_data, "the guide's step 2 (test_the_use_this_template_guide)")
    committed = lock_outs(project)["models/model.joblib"]

    walk.block(quickstart)
    assert lock_outs(project)["models/model.joblib"] == committed
    walk.block(explore)
    assert "mae" in walk.ran["uv run dvc metrics show"].output
    # a training param reruns train and what reads its model, and nothing before it
    tried = walk.ran["uv run dvc exp run -S train.hyperparams.learning_rate=0.05"].output
    stages = list(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])
    ran = [s for s in stages if f"Running stage '{s}'" in tried]
    assert ran == ["train", "reference", "evaluate", "model_card"], tried
    model_bytes = (project / "models" / "model.joblib").read_bytes()
    assert hashlib.md5(model_bytes).hexdigest() == committed, "the experiment was dropped"
    assert subprocess.run(["git", "diff", "--quiet"], cwd=project).returncode == 0

    walk.block(serve)
    curl = next(c for c in serve if c.text.startswith("curl"))
    answer, shown = json.loads(walk.ran[curl.text].output), json.loads(curl.shows)
    assert [set(a) for a in answer] == [set(s) for s in shown]
    assert answer[0]["model_version"] == shown[0]["model_version"] == committed[:16]
    assert math.isclose(answer[0]["prediction"], shown[0]["prediction"], abs_tol=0.05)

    walk.block(back)
    data = project / "data" / "raw" / "mydata.parquet"  # "your own data"
    pd.read_csv(project / "data" / "raw" / "bikeshare_2011.csv.gz").to_parquet(data)
    _without_the_s3_client(walk, project)
    walk.extra_env.update(s3_server.env())
    walk.block(remote)
    assert (project / "data" / "raw" / "mydata.parquet.dvc").exists()
    log = subprocess.run(
        ["git", "show", "--stat", "HEAD"], cwd=project, capture_output=True, text=True
    )
    assert "mydata.parquet.dvc" in log.stdout and ".dvc/config" in log.stdout
    data_md5 = yaml.safe_load((project / "data/raw/mydata.parquet.dvc").read_text())
    data_md5 = data_md5["outs"][0]["md5"]
    pushed = s3_server.keys(bucket[0], "dvc/files/md5/")
    assert f"dvc/files/md5/{data_md5[:2]}/{data_md5[2:]}" in pushed, "data pushed to S3"

    assert walk.missed(README) == []
    assert walk.missed(PIPELINE) == []
    assert walk.missed(SERVING) == []


def test_the_scale_out_guide(tmp_path):
    project = clone(tmp_path / "project")
    walk = Walk(cwd=project, state=tmp_path)
    for block in SCALE_OUT:
        walk.block(block)
    kubectl = walk.ran["kubectl apply -k deploy/kubernetes/"].output
    assert "deployment/predictor" in kubectl and "horizontalpodautoscaler" in kubectl
    assert walk.missed(SCALE_OUT) == []
