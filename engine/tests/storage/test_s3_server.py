"""The S3 server the tests store to asks for credentials as AWS does (tests/s3.py), and the
project's clients reach it through the environment alone, as they would reach AWS."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.project import env


def test_signed_with_its_key_is_served(s3_server, s3_bucket):
    s3_server.client().put_object(Bucket=s3_bucket, Key="a.txt", Body=b"x")
    assert s3_server.keys(s3_bucket) == ["a.txt"]


@pytest.mark.parametrize(
    "keys, code",
    [
        ({"aws_secret_access_key": "wrong"}, "SignatureDoesNotMatch"),
        ({"aws_access_key_id": "AKIAUNKNOWN000000000"}, "InvalidClientTokenId"),
    ],
)
def test_a_wrong_key_is_refused(s3_server, s3_bucket, keys, code):
    with pytest.raises(ClientError) as refused:
        s3_server.client(**keys).list_objects_v2(Bucket=s3_bucket)
    assert refused.value.response["Error"]["Code"] in {code, "InvalidAccessKeyId", "AccessDenied"}


def test_no_key_is_refused(s3_server, s3_bucket):
    """An unsigned request (what a client without credentials could send) gets no data."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    s3_server.client().put_object(Bucket=s3_bucket, Key="secret.txt", Body=b"x")
    with pytest.raises(ClientError):
        client.get_object(Bucket=s3_bucket, Key="secret.txt")


def _fsspec(s3_server, bucket: str, creds: dict[str, str]) -> subprocess.CompletedProcess:
    """s3fs in a fresh process whose environment is a user's: endpoint and keys only."""
    child = {k: v for k, v in env().items() if not k.startswith("AWS_")}
    child.update(creds)
    code = (
        "import fsspec, sys\n"
        "fs = fsspec.filesystem('s3')\n"
        "with fs.open(sys.argv[1] + '/x/y.txt', 'wb') as fh: fh.write(b'hi')\n"
        "print(fs.cat(sys.argv[1] + '/x/y.txt').decode())\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, bucket], env=child, capture_output=True, text=True
    )


def test_s3fs_reaches_it_from_the_environment_alone(s3_server, s3_bucket):
    ok = _fsspec(s3_server, s3_bucket, s3_server.env())
    assert ok.returncode == 0 and ok.stdout.strip() == "hi", ok.stderr
    no_keys = {"AWS_ENDPOINT_URL": s3_server.endpoint}
    refused = _fsspec(s3_server, s3_bucket, no_keys)
    assert refused.returncode != 0 and "NoCredentialsError" in refused.stderr, refused.stderr
    wrong = {**s3_server.env(), "AWS_SECRET_ACCESS_KEY": "wrong"}
    refused = _fsspec(s3_server, s3_bucket, wrong)
    assert refused.returncode != 0, refused.stdout
    assert "SignatureDoesNotMatch" in refused.stderr, refused.stderr[-2000:]
