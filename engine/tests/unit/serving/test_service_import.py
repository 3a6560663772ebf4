"""What importing the service costs: `bentoml serve` imports it in its own process before it
starts the worker that loads the model, so everything imported there is paid twice, in
series, before the image is ready (issue 34: ready within 5 s of `podman run`)."""

from __future__ import annotations

import subprocess
import sys

from tests.project import ROOT


def test_importing_the_service_leaves_scikit_learn_and_scipy_to_the_worker():
    """scikit-learn with the SciPy it imports was 0.85 s of the 2 s `bentoml serve`'s own
    process took to import the service in the image (python -X importtime); the worker
    imports it anyway, unpickling the model."""
    code = (
        "import sys, mlops_engine.serving.service; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
