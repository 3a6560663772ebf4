"""Each object store's client is an extra installed from uv.lock, and `make` installs the
ones the project's storage URLs need (Makefile `EXTRAS`, docs/dependencies.md)."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import yaml

from tests.project import ROOT
from tests.workflows.act import uv_bin_dir


def test_every_backend_extra_is_locked():
    """Each store's extra of the project installs the engine's, whose clients are locked."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = tomllib.loads((ROOT / "engine" / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"] for p in lock["package"]}
    for extra, packages in {
        "s3": {"dvc-s3", "s3fs"},
        "gs": {"dvc-gs", "gcsfs"},
        "azure": {"dvc-azure", "adlfs"},
    }.items():
        assert project["optional-dependencies"][extra] == [f"mlops-engine[{extra}]"]
        assert {r.split(">")[0].split("[")[0] for r in extras[extra]} == packages
        assert packages <= locked, packages - locked


# The template's params.yaml as shipped: the project's own may already name its storage
# (pr.yml runs this test on every state the loop produces, sinks on s3:// included).
TEMPLATE = ROOT / "engine" / "tests" / "fixtures" / "template_params.yaml"


def _params_with_sink(path: Path, sink: str | None) -> None:
    """The template's params.yaml (as is: its comments name s3:// and gs://), or with its
    prediction log at ``sink``."""
    if not sink:
        shutil.copy(TEMPLATE, path)
        return
    params = yaml.safe_load(TEMPLATE.read_text())
    params["serve"]["prediction_log"]["sink"] = sink
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def _sync_command(tmp_path, remote: str | None, sink: str | None, *args: str) -> str:
    shutil.copy(ROOT / "Makefile", tmp_path)
    # the Makefile asks credentials.SCHEMES which extra a URL scheme needs (one table)
    (tmp_path / "engine" / "src" / "mlops_engine").mkdir(parents=True)
    engine_src = Path("engine", "src", "mlops_engine")
    shutil.copy(ROOT / engine_src / "credentials.py", tmp_path / engine_src)
    _params_with_sink(tmp_path / "params.yaml", sink)
    for name in ("uv.lock", "pyproject.toml"):
        (tmp_path / name).write_text("")
    (tmp_path / ".dvc").mkdir()
    config = f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {remote}\n"
    (tmp_path / ".dvc" / "config").write_text(config if remote else "")
    out = subprocess.run(
        ["make", "-n", "install", f"UV={shutil.which('true')}", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in out.splitlines() if " sync " in line)


def test_make_installs_the_extras_of_the_projects_storage(tmp_path):
    (tmp_path / "a").mkdir()
    assert "--extra" not in _sync_command(tmp_path / "a", None, None), "the template: none"
    for case, remote, sink, extras in [
        ("b", "s3://bucket/dvc", None, "--extra s3"),
        ("c", None, "gs://bucket/logs", "--extra gs"),
        ("d", "azure://container/dvc", "s3://bucket/logs", "--extra azure --extra s3"),
        # adlfs's schemes for a sink (DVC's remote is azure://): the azure extra as well
        ("f", None, "az://container/logs", "--extra azure"),
        ("g", None, "abfss://container@account.dfs.core.windows.net/logs", "--extra azure"),
        ("h", "gs://bucket/dvc", "gcs://bucket/logs", "--extra gs"),
    ]:
        (tmp_path / case).mkdir()
        assert _sync_command(tmp_path / case, remote, sink).endswith(extras), case
    (tmp_path / "e").mkdir()
    assert _sync_command(tmp_path / "e", None, None, "EXTRAS=gs").endswith("--extra gs")


def test_the_image_gets_the_client_of_the_prediction_log_sink(tmp_path):
    """The Bento's requirements (`mlops build`) hold s3fs when the service logs to s3://,
    from the serve-s3 group: not the s3 extra, whose dvc-s3 would bring DVC into the image."""
    from mlops_engine.serving.bento import requirement_groups

    local = tmp_path / "local.yaml"
    _params_with_sink(local, "data/production/prediction_logs")
    assert requirement_groups(local) == ["--only-group", "serve"], "a directory: serve only"
    s3_params = tmp_path / "params.yaml"
    _params_with_sink(s3_params, "s3://bucket/logs")
    groups = requirement_groups(s3_params)
    assert groups == ["--only-group", "serve", "--only-group", "serve-s3"]
    uv = str(Path(uv_bin_dir()) / "uv")
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-hashes", "--no-emit-project", *groups],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "\ns3fs==" in exported and "\naiobotocore==" in exported
    assert "\ndvc" not in exported and "\nevidently==" not in exported


def test_the_makefile_and_the_code_share_one_table_of_schemes():
    """Every scheme credentials.SCHEMES knows installs its extra through the Makefile, the
    same extra extra_for names for the service's image and the errors."""
    from mlops_engine.credentials import SCHEMES, extra_for, extras_named

    for scheme, extra in SCHEMES.items():
        assert extra_for(f"{scheme}://b/p") == extra
        assert extras_named(f"sink: {scheme}://b/p  # s3://commented\n") == [extra]


def test_the_canary_installs_what_make_test_fast_installs(tmp_path):
    """The canary's upgraded environment runs the fast tier: it gets the same extras as
    `make test-fast` (the project's storage clients and the suite's s3), from one list."""
    extras = {}
    for goal in ("test-fast", "canary"):
        (tmp_path / goal).mkdir()
        line = _sync_command(tmp_path / goal, "azure://container/dvc", None, goal)
        if goal == "test-fast":
            extras[goal] = sorted(line.split("--extra ")[1:])
    out = subprocess.run(
        ["make", "-n", "canary", f"UV={shutil.which('true')}"],
        cwd=tmp_path / "canary",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (canary,) = [x for x in out.splitlines() if "mlops canary" in x]
    extras["canary"] = sorted(canary.split('CANARY_EXTRAS="')[1].split('"')[0].split())
    assert [e.strip() for e in extras["test-fast"]] == extras["canary"] == ["azure", "s3"]
