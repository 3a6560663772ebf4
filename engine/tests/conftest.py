"""Shared fixtures: the project's own params and the real default data, run through the
stages' pure cores in-process (no dependency on `make run` having been executed)."""

from __future__ import annotations

import os

# OpenMP threads (scikit-learn's histogram boosting: binning, prediction, permutation
# importance) busy-wait for work by default. The suite runs more processes than cores
# (pytest workers, their act jobs and dvc stages, the other Pythons' code tier), and the
# waiting threads then burn the cores the others need: under `make test`'s load,
# tests/model/test_model.py and test_init_pipeline.py took 66 s (39 CPU-s) with the default
# and 36 s (23 CPU-s) with PASSIVE, side by side. Set before anything loads libgomp, and
# inherited by every process the tests start; results do not depend on it (the thread
# count, which model bytes do depend on, is left alone).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

import pytest

from mlops_engine.config import load_params
from tests import s3
from tests.project import SEED_DIR, seed_cache
from tests.tiers import FolderTiers
from tests.workflows.act import venv_pool

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SOURCE = "data/raw/bikeshare_2011.csv.gz"


def pytest_configure(config):
    """The folder sets each test's tier marker (tests/tiers.py: FOLDERS, and a test file in
    an unregistered folder fails its collection). One pool of venv slots for every act job
    of this run (standins/setup-uv/claim-venv), made before xdist starts its workers so that
    they all inherit it (removed at exit)."""
    config.pluginmanager.register(FolderTiers(Path(__file__).parent), "engine-test-tiers")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        venv_pool()


def pytest_collection_modifyitems(config, items):
    """Tests that pin the example data's columns and figures only apply while the project
    still uses it; after `mlops init`, the contract-driven tests guard the new data."""
    _longest_first(items)
    if load_params(ROOT / "params.yaml").ingest.source == EXAMPLE_SOURCE:
        return
    skip = pytest.mark.skip(reason="about the bundled example data; this project uses its own")
    for item in items:
        if "example" in item.keywords:
            item.add_marker(skip)


# The suite's single longest test (~7 min under the suite's load on 2 cores): everything
# else must fit beside it on the other worker, so it has to start first.
CRITICAL = "engine/tests/workflows/test_loop.py::test_from_use_this_template_to_a_quiet_night"
# Tiers (the folder's marker, tests/tiers.py) of the slow tests, heaviest kinds first: act runs,
# walkthroughs, dvc runs, dvc runs against the S3 server; then the rest.
_SLOW_ORDER = ("workflows", "docs", "pipeline", "storage")


def _longest_first(items: list) -> None:
    """Order the collection for pytest-xdist's `worksteal` (what `make test` uses), which
    hands each of the 2 workers one contiguous half of it and later steals from the tail of
    the busier queue. The first half starts with the loop, then fast tests; the second with
    the other slow tests, heaviest kinds first: both workers start on long work at once, and
    what is left to steal at the end is short. In file order the loop could start minutes
    late and become the suite's tail. Selection and outcomes are unchanged."""
    first = [i for i in items if i.nodeid == CRITICAL]
    rest = [i for i in items if i.nodeid != CRITICAL]

    def kind(item) -> int:
        tiers = enumerate(_SLOW_ORDER)
        return next((n for n, k in tiers if item.get_closest_marker(k)), len(_SLOW_ORDER))

    slow = sorted((i for i in rest if "slow" in i.keywords), key=kind)
    fast = [i for i in rest if "slow" not in i.keywords]
    room = max(0, len(items) // 2 - len(first))
    items[:] = first + fast[:room] + slow + fast[room:]


@pytest.fixture(scope="session")
def dvc_seed(tmp_path_factory, worker_id) -> Path:
    """The DVC cache of one reproduction of the committed project (tests.project.seed_cache),
    shared by all xdist workers of this run, and with .ci/run's image build beside it."""
    return seed_cache(seed_dir(tmp_path_factory, worker_id))


def seed_dir(tmp_path_factory, worker_id) -> Path:
    """Where this run's DVC seed lives: $MLOPS_TEST_SEED_DIR when .ci/run set it (its image
    build, a process beside the suite, reproduces the project from the same seed: one
    reproduction instead of two), else the directory every xdist worker of the run sees."""
    if shared := os.environ.get(SEED_DIR):
        return Path(shared)
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> s3.S3Server:
    """moto's S3 server for this pytest process (each xdist worker starts its own on first
    use, ~1.5 s; see tests/s3.py), stopped when the session ends."""
    with s3.running(tmp_path_factory.mktemp("s3-server")) as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server) -> str:
    """A new bucket on the S3 server: its name."""
    return s3_server.bucket()


# root, params, ingested, validated, train_test, model: the engine's pytest plugin
# (mlops_engine/testing.py), the fixtures a project's own tests use too.
