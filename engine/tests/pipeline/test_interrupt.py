"""Interrupting `dvc repro` (Ctrl-C or kill -9) during any stage loses nothing (slow).

Each stage is held at a known point by a test hook (hold/sitecustomize.py) and signalled
there, so the outcome never depends on the machine's speed: SIGINT while the stage's first
output is still a temporary file, SIGKILL right after its first output was renamed into
place (the stage and dvc.lock unfinished). The stages share one project per worker: each
test leaves it recovered (the committed lock, every object cached, `dvc status` clean),
which is what it asserts, so the next starts from the same state as a new copy would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.project import (
    BIN,
    ROOT,
    clone,
    dvc,
    dvc_status,
    env,
    missing_cache_objects,
    use_cache,
)

pytestmark = pytest.mark.slow

STAGES = list(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])
HOOK = Path(__file__).parent / "hold"
CASES = ((signal.SIGINT, "tempfile.mkstemp"), (signal.SIGKILL, "os.rename"))


def _interrupt_at(project: Path, stage: str, sig: signal.Signals, event: str) -> str:
    """Run `dvc repro -f --downstream STAGE`; when the stage reports EVENT, signal the
    whole process group (dvc and the stage), as Ctrl-C or the OOM killer would."""
    marker = project.parent / f"held-{stage}-{sig.name}"
    marker.unlink(missing_ok=True)
    hold_env = {
        **env(),
        "PYTHONPATH": str(HOOK),
        "PIPELINE_HOLD": f"{stage}:{event}:{marker}",
    }
    log = (project.parent / f"repro-{stage}-{sig.name}.log").open("w+")
    proc = subprocess.Popen(
        [str(BIN / "dvc"), "repro", "--force", "--downstream", stage],
        cwd=project,
        env=hold_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # Ctrl-C reaches processes whose SIGINT is the default; a suite started in the
        # background of a non-interactive shell (`nohup make test &`) inherits it ignored,
        # and so would dvc and the held stage, which would then sleep through the signal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300  # a bound for a broken run, not a guess at timing
    # the hook creates the marker, then writes its one line: a signal between the two would
    # interrupt the write (an empty marker, seen once in a fresh-clone run), so wait for it whole
    while not (marker.exists() and marker.read_text().endswith("\n")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            raise AssertionError(f"{stage} never reached {event}:\n{log.read()[-4000:]}")
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    proc.wait(timeout=120)
    log.seek(0)
    output = log.read()
    assert proc.returncode != 0, f"{stage} was held at {event}, yet dvc exited 0:\n{output}"
    return marker.read_text()


@pytest.fixture(scope="module")
def project(tmp_path_factory, dvc_seed) -> Path:
    root = tmp_path_factory.mktemp("interrupt")
    project = clone(root / "project")
    use_cache(project, dvc_seed, root / "cache")
    dvc(project, "repro")  # outputs restored from the seed: the invariant holds from here on
    return project


@pytest.mark.parametrize("stage", STAGES)
def test_interrupted_stage_recovers_to_the_same_lock(stage, project):
    expected = (ROOT / "dvc.lock").read_text()
    assert (project / "dvc.lock").read_text() == expected, "a previous stage left it changed"
    assert missing_cache_objects(project) == []
    for sig, event in CASES:
        case = f"{sig.name} at {event} in {stage}"
        held = _interrupt_at(project, stage, sig, event)
        assert str(project) in held, f"{case}: held outside the project: {held}"
        assert missing_cache_objects(project) == [], f"{case}: dvc.lock points at nothing"
        result = dvc(project, "repro")
        assert (project / "dvc.lock").read_text() == expected, f"{case}: lock differs"
        assert missing_cache_objects(project) == [], case
        assert dvc_status(project) == {}, f"{case}: {result.stdout}"
