"""Interrupting `dvc repro` (Ctrl-C or kill -9) during any stage loses nothing (slow)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time

import pytest

from tests.project import BIN, ROOT, clone, dvc, env, missing_cache_objects

pytestmark = [pytest.mark.pipeline, pytest.mark.slow]

STAGES = ["ingest", "validate", "split", "train", "reference", "evaluate"]


def _interrupt_during(project, stage: str, sig: signal.Signals, delay: float) -> str:
    """Start `dvc repro -f --downstream STAGE`; signal its whole process group mid-stage."""
    proc = subprocess.Popen(
        [str(BIN / "dvc"), "repro", "--force", "--downstream", stage],
        cwd=project,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    deadline, seen = time.monotonic() + 120, []
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=1))
        except queue.Empty:
            continue
        if f"Running stage '{stage}'" in seen[-1]:
            break
    else:
        proc.kill()
        raise AssertionError(f"stage {stage} never started:\n{''.join(seen)}")
    time.sleep(delay)  # inside the stage's command: importing, computing or writing
    os.killpg(proc.pid, sig)
    proc.wait(timeout=120)
    assert proc.returncode != 0, f"{stage} finished before the {sig.name} arrived"
    return "".join(seen)


def test_interrupted_repro_recovers_to_the_same_lock(tmp_path):
    project = clone(tmp_path / "interrupted")
    expected = (ROOT / "dvc.lock").read_text()
    dvc(project, "repro")  # a clone's cache starts empty; the invariant holds from here on
    assert missing_cache_objects(project) == []
    for stage in STAGES:
        for sig, delay in ((signal.SIGINT, 1.0), (signal.SIGKILL, 2.0)):
            case = f"{sig.name} during {stage}"
            _interrupt_during(project, stage, sig, delay)
            assert missing_cache_objects(project) == [], f"{case}: dvc.lock points at nothing"
            result = dvc(project, "repro")
            assert (project / "dvc.lock").read_text() == expected, f"{case}: lock differs"
            assert missing_cache_objects(project) == [], case
            assert "up to date" in dvc(project, "status").stdout, f"{case}: {result.stdout}"
