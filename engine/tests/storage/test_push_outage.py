"""A push to the DVC remote that the storage refuses or drops half-way (slow): the error
says what it was and what to re-run, nothing the storage acknowledged is lost or rewritten,
and the re-run uploads what the remote lacks."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests import s3
from tests.project import clone, dvc, env, use_cache

pytestmark = pytest.mark.slow

HOOK = Path(__file__).parent / "push_hold"
HELD_AT = 4  # the remote's `jobs` is 2: when the 4th upload starts, two were acknowledged
RERUN = "Re-run `make repro-push` (it uploads only what the remote lacks)"


def _repro_push(project: Path, keys: dict[str, str], **extra: str) -> subprocess.Popen:
    child = {k: v for k, v in env().items() if not k.startswith("AWS_")} | keys | extra
    return subprocess.Popen(
        ["mlops", "repro", "--push"],
        cwd=project,
        env=child,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: mlops and the dvc it runs go together
    )


def _finished(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=600)
    return proc.returncode, out


def _stored(server: s3.S3Server, bucket: str) -> dict[str, tuple[str, object]]:
    """Each content-addressed object's key -> (the md5 of its bytes, its LastModified)."""
    client = server.client()
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="dvc/"):
        for o in page.get("Contents", []):
            if "/files/md5/" in o["Key"]:
                body = client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                out[o["Key"]] = (hashlib.md5(body).hexdigest(), o["LastModified"])
    return out


def _assert_whole(stored: dict[str, tuple[str, object]]) -> None:
    """An object's name is the md5 of its bytes: a partial upload would show here."""
    for key, (md5, _) in stored.items():
        name = key.split("/files/md5/")[1].replace("/", "").removesuffix(".dir")
        assert md5 == name, f"{key} does not hold the bytes it names"


def test_a_refused_or_dropped_push_loses_nothing_and_the_rerun_completes_it(
    tmp_path, dvc_seed, s3_server, s3_bucket
):
    project = clone(tmp_path / "project")
    use_cache(project, dvc_seed, tmp_path / "cache")
    dvc(project, "remote", "add", "-d", "storage", f"s3://{s3_bucket}/dvc")
    dvc(project, "remote", "modify", "storage", "jobs", "2")
    front = s3.Front(s3_server).start()  # clients reach the server through it
    marker = tmp_path / "held"
    running: list[subprocess.Popen] = []
    try:
        _refused_dropped_and_rerun(project, front, s3_server, s3_bucket, marker, running)
    finally:  # a failed check must not leave a push held or the forwarder's threads behind
        Path(f"{marker}.go").touch()
        for proc in running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        front.stop()


def _refused_dropped_and_rerun(project, front, s3_server, s3_bucket, marker, running) -> None:
    def push(keys: dict[str, str], **extra: str) -> subprocess.Popen:
        running.append(_repro_push(project, keys, **extra))
        return running[-1]

    # A push the storage refuses (a key that may only read) says to re-run it, naming the
    # secrets: here they are set, so their values are what to check.
    reader = {"AWS_ACCESS_KEY_ID": s3_server.read_only[0]}
    reader["AWS_SECRET_ACCESS_KEY"] = s3_server.read_only[1]
    code, out = _finished(push({**front.env(), **reader}))
    assert code == 1, out[-4000:]
    assert RERUN in out and "(they are set: check their values" in out, out[-4000:]
    assert not _stored(s3_server, s3_bucket)

    # The storage goes away while the push uploads: held as the 4th object's upload starts
    # (tests/storage/push_hold), the endpoint is cut (open connections reset), then let go.
    proc = push(front.env(), PYTHONPATH=str(HOOK), PUSH_HOLD=f"{HELD_AT}:{marker}")
    deadline = time.monotonic() + 300  # a bound for a broken run, not a guess at timing
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the push never reached upload {HELD_AT}:\n{_finished(proc)}")
        assert time.monotonic() < deadline, f"the push never reached upload {HELD_AT}"
        time.sleep(0.05)
    front.stop()
    Path(f"{marker}.go").touch()
    code, out = _finished(proc)
    assert code == 1, out[-4000:]
    assert "failed to upload" in out, out[-4000:]  # dvc's own count of what it could not
    assert RERUN in out and "could not be reached" in out, out[-4000:]
    assert "check their values" not in out, "an outage is not a credentials problem"
    kept = _stored(s3_server, s3_bucket)
    _assert_whole(kept)
    assert len(kept) >= HELD_AT - 2, f"acknowledged before the outage: {sorted(kept)}"

    # The endpoint is back: the re-run completes the push and rewrites nothing it had.
    front.start()
    code, out = _finished(push(front.env()))
    assert code == 0, out[-4000:]
    final = _stored(s3_server, s3_bucket)
    _assert_whole(final)
    assert len(final) > len(kept), "the outage left objects to upload"
    assert {k: final[k] for k in kept} == kept, "an acknowledged object was uploaded again"
    status = dvc(project, "status", "--cloud", extra_env=front.env())
    assert "in sync" in status.stdout, status.stdout
