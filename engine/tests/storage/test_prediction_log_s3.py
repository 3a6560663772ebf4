"""The prediction log on S3 (tests/s3.py's server): what the service writes is what the
monitor reads, an incomplete upload is never data, and an outage loses no answered row."""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest

from mlops_engine.serving.prediction_log import PredictionLogger, read_logs
from tests import s3
from tests.s3 import s3_environment


def _rows(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"hr": range(start, start + n), "temp": [0.5] * n})


def _wait(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_only_complete_uploads_are_read(s3_server, s3_bucket):
    sink = f"s3://{s3_bucket}/logs"
    with s3_environment(s3_server):
        logger = PredictionLogger(sink, "v1", flush_rows=3, flush_seconds=0.2)
        for i in range(7):
            logger.log(_rows(1, i), [float(i)])
        assert logger.close(timeout=120)  # the service's 10 s is for shutdown; s3fs starts here
        assert logger.written == 7 and logger.dropped == 0
        keys = s3_server.keys(s3_bucket, "logs/")
        assert len(keys) >= 3 and all(k.endswith(".parquet") for k in keys), keys
        day = keys[0].split("/")[1]
        # A writer that died mid-upload: a multipart upload started, one part sent, never
        # completed (S3 lists no object for it); and a hidden in-progress copy.
        client = s3_server.client()
        body = io.BytesIO()
        _rows(100_000).to_parquet(body)
        started = client.create_multipart_upload(Bucket=s3_bucket, Key=f"logs/{day}/z.parquet")
        client.upload_part(
            Bucket=s3_bucket,
            Key=f"logs/{day}/z.parquet",
            UploadId=started["UploadId"],
            PartNumber=1,
            Body=body.getvalue()[: len(body.getvalue()) // 2],
        )
        client.put_object(Bucket=s3_bucket, Key=f"logs/{day}/.z.parquet", Body=b"PAR1 half")
        frame = read_logs(sink)
        assert frame["prediction"].tolist() == [float(i) for i in range(7)]
        # A complete object that is not Parquet is an error naming it, never skipped.
        client.put_object(Bucket=s3_bucket, Key=f"logs/{day}/broken.parquet", Body=b"PAR1")
        with pytest.raises(ValueError, match=f"s3://{s3_bucket}/logs/{day}/broken.parquet"):
            read_logs(sink)


def test_a_storage_outage_loses_no_answered_row(tmp_path):
    """The S3 server stops while the service runs: the batch it could not write is kept and
    written once the server is back (restarted on the same port, empty: in-memory)."""
    first = s3.start(tmp_path / "a", auth=False)
    port = int(first.endpoint.rsplit(":", 1)[1])
    bucket = first.bucket("logs")
    sink = f"s3://{bucket}/logs"
    second = None
    try:
        with s3_environment(first):
            logger = PredictionLogger(sink, "v1", flush_rows=1, flush_seconds=0.2)
            logger.log(_rows(2), [0.0, 1.0])
            _wait(lambda: logger.written == 2)
            first.stop()
            logger.log(_rows(3, 2), [2.0, 3.0, 4.0])
            time.sleep(1.0)  # the writer tried and failed at least once
            assert logger.written == 2 and logger.dropped == 0
            second = s3.start(tmp_path / "b", port=port, auth=False)
            second.client().create_bucket(Bucket=bucket)
            _wait(lambda: logger.written == 5)
            logger.close()
            assert logger.dropped == 0
            assert read_logs(sink)["prediction"].tolist() == [2.0, 3.0, 4.0]  # the server's
    finally:
        first.stop()
        if second is not None:
            second.stop()
