"""Test hook for tests/pipeline/test_interrupt.py (on PYTHONPATH only there): holds one
pipeline stage at a known point so the test signals it there, not after a guessed sleep.

``PIPELINE_HOLD=STAGE:EVENT:MARKER``: in the process running ``mlops STAGE`` (dvc runs each
stage's command as its own process), at the first audit EVENT whose path lies inside the
project, write MARKER and sleep until signalled. Every artifact goes through
``storage.atomic_path``, so the events mark the dangerous moments: ``tempfile.mkstemp`` (an
output's temporary file exists, nothing is renamed yet) and ``os.rename`` (raised by
``os.replace``: one output is in place, the stage and dvc.lock are not finished).
"""

import os
import sys
import time

_SPEC = os.environ.get("PIPELINE_HOLD")

if _SPEC:
    _stage, _event, _marker = _SPEC.split(":", 2)
    _cwd = os.getcwd()

    def _hold(event: str, args: tuple) -> None:
        if event != _event or os.path.exists(_marker):
            return
        argv = sys.argv
        # the stage's name in dvc.yaml, its command's with "-" (model_card: `mlops model-card`)
        if (
            len(argv) < 2
            or os.path.basename(argv[0]) != "mlops"
            or argv[1] != _stage.replace("_", "-")
        ):
            return
        path = os.path.abspath(str(args[1] if event == "os.rename" else args[0]))
        if not path.startswith(_cwd):
            return
        with open(_marker, "w") as fh:
            fh.write(f"{os.getpid()} {event} {path}\n")
        time.sleep(3600)  # until the test's signal

    sys.addaudithook(_hold)
