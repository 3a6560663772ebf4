"""The served image's size and time to ready, against the goals (issue 34): at most 700 MB
uncompressed, ready at most 5 s after ``podman run``.

The image is the one the image tests use (tests/image/build.py: the same make targets as
cd.yml, podman as the backend, the stand-in for python:3.13-slim, tests/image/runtime.py),
built first when podman's store lacks it. Size: podman's uncompressed size of the image
(every layer, the base included). Ready: from ``podman run`` to the first 200 of /readyz,
median of ``--starts`` starts. Before the slim image (cd.yml's image on main, 2026-12-07):
2.03 GB and 3.6 s.

Usage: uv run python -m benchmarks.image [--starts 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time
import urllib.request

from tests.image import build, runtime

SIZE_GOAL_MB, READY_GOAL_S = 700, 5.0


def _ready_after(image: str) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = f"mlops-image-bench-{port}"
    started = time.monotonic()
    runtime.podman(
        "run", "--detach", "--name", name, "--network", "host", "--env", f"PORT={port}",
        "--env", "MLOPS_PREDICTION_LOG=off", image,
    )  # fmt: skip
    try:
        while time.monotonic() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{image} not ready in 120 s")
    finally:
        runtime.podman("rm", "--force", "--time", "0", name, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    starts = parser.parse_args().starts
    built = build.ensure()
    size = int(runtime.podman("image", "inspect", "--format", "{{.Size}}", built.image).stdout)
    load_before = os.getloadavg()[0]  # time to ready is CPU-bound: say how busy the host was
    ready = [_ready_after(built.image) for _ in range(starts)]
    load_after = os.getloadavg()[0]
    mb, median = size / 1e6, statistics.median(ready)
    cores = os.cpu_count()
    print(f"image {built.image}")
    print(f"  size      {mb:7.0f} MB   goal <= {SIZE_GOAL_MB} MB   before: 2030 MB")
    print(
        f"  ready     {median:7.1f} s    goal <= {READY_GOAL_S} s     before: 3.6 s"
        f"   ({starts} starts: {', '.join(f'{r:.1f}' for r in ready)})"
    )
    print(f"  load      {load_before:.1f} before, {load_after:.1f} after (1 min, {cores} cores)")
    print(f"  built in  {built.seconds} (s per make target, when it was built)")


if __name__ == "__main__":
    main()
