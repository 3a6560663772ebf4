"""Wall time of the PR workflow under act (warm uv cache), split by step, and the time the
DVC run-cache saves when a pull request touches no pipeline input.

Two runs of the same PR (a wording change in the report code), side by side:
  no remote:   the CI workspace has no pipeline outputs, so every stage is recomputed;
  with remote: `mlops repro` pulls outputs and run-cache from a DVC remote (a local
               directory here), so training is restored instead of rerun.

Usage: uv run python -m benchmarks.pr_workflow
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tests.workflows.act import (
    act,
    pull_request_event,
    sandbox,
    step_seconds,
    with_dvc_remote,
)


def _run(remote: bool) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        box = sandbox(Path(tmp))
        if remote:
            with_dvc_remote(box)
        box.git("checkout", "-q", "-b", "feature")
        path = box.repo / "engine/src/mlops_engine/ci/markdown.py"
        path.write_text(path.read_text().replace("The pull-request report:", "The PR report:"))
        box.git("commit", "-qam", "Reword")
        start = time.perf_counter()
        result = act(box, "pull_request", pull_request_event(), "pr.yml")
        wall = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(result.stdout[-3000:] + result.stderr[-2000:])
        return wall, step_seconds(result.stdout)


def main() -> None:
    # each job builds its own .venv and compiles its bytecode, as on a fresh GitHub runner
    # (the test suite's act jobs share venv slots instead: tests/workflows/act.py)
    os.environ["STANDIN_VENV_POOL"] = "none"
    act(sandbox(Path(tempfile.mkdtemp())), "pull_request", pull_request_event(), "pr.yml")  # warm
    cold_wall, cold = _run(remote=False)
    warm_wall, warm = _run(remote=True)
    steps = [
        s for s in cold if not s.startswith(("echo", "mkdir", "python3", "actions/", "astral"))
    ]
    print(f"{'step':<70}{'no remote':>11}{'remote':>9}")
    for step in steps:
        print(f"{step[:68]:<70}{cold.get(step, 0):>10.1f}s{warm.get(step, 0):>8.1f}s")
    repro = "Reproduce the pipeline (DVC remote and run-cache when configured)"
    print(f"{'whole workflow (act wall time)':<70}{cold_wall:>10.1f}s{warm_wall:>8.1f}s")
    print(
        f"run-cache saves {cold[repro] - warm[repro]:.1f}s on the reproduce step "
        f"({cold[repro] / max(warm[repro], 0.01):.1f}x faster); "
        f"{cold_wall - warm_wall:.1f}s on the whole workflow"
    )


if __name__ == "__main__":
    main()
