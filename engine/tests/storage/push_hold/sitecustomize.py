"""Test hook for tests/storage/test_push_outage.py (on PYTHONPATH only there): holds
`dvc push` as it starts uploading its N-th object, so the test cuts the storage off at a
known point of the push, not after a guessed sleep.

``PUSH_HOLD=N:MARKER``: in a `dvc push` process, when the N-th cache object is opened for
upload (an ``open`` audit event inside s3fs's ``_put_file``), write MARKER and wait until
``MARKER.go`` exists; then the upload goes on, against whatever the test left of the
server. s3fs runs every upload on one event loop, so the whole push waits here: each upload
before it is either acknowledged or in flight.
"""

import os
import sys
import time

_SPEC = os.environ.get("PUSH_HOLD")

if _SPEC and len(sys.argv) > 1 and os.path.basename(sys.argv[0]) == "dvc" and sys.argv[1] == "push":
    _nth, _marker = _SPEC.split(":", 1)
    _seen = [0]

    def _uploading() -> bool:
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_name == "_put_file":
                return True
            frame = frame.f_back
        return False

    def _hold(event: str, args: tuple) -> None:
        if event != "open" or os.path.exists(_marker):
            return
        if "/files/md5/" not in str(args[0]) or not _uploading():
            return
        _seen[0] += 1
        if _seen[0] < int(_nth):
            return
        with open(_marker, "w") as fh:
            fh.write(f"{os.getpid()} upload {_seen[0]}: {args[0]}\n")
        while not os.path.exists(_marker + ".go"):
            time.sleep(0.02)

    sys.addaudithook(_hold)
