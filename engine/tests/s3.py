"""A real S3 API on loopback for the tests: moto's standalone server (``moto_server``, PyPI
``moto[server]``, a dev dependency), started by the tests themselves.

It requires credentials the way AWS does. moto only checks signatures once it has served
``INITIAL_NO_AUTH_ACTION_COUNT`` requests (an environment variable of the server; moto's
default is "never"): the server starts with it set to the number of IAM requests that
create two users (one allowed S3, one only to read it) and their access keys (``_SETUP``),
made with no real keys. From then on every request must be signed with one of those keys:
no key, or a wrong one, is refused (``InvalidAccessKeyId`` / ``SignatureDoesNotMatch``), and
the reader's writes are denied, as on AWS.

Clients talk to it exactly as to AWS, through the environment only (``S3Server.env``):
``AWS_ENDPOINT_URL`` (botocore reads it since 1.31, so boto3, aiobotocore, s3fs and dvc-s3
all do) and ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, the names of the repository
secrets the workflows pass (engine/src/mlops_engine/credentials.py).

It is moto with AWS's rules for ``AssumeRoleWithWebIdentity`` (tests/moto_sts.py: unsigned,
the token checked against an OIDC provider and the role's trust policy), so a workflow can
trade GitHub's OIDC token (tests/oidc.py) for a role's temporary keys, as on AWS
(``S3Server.github_role``); a third user (``admin``, IAM only) creates that provider and role.

One server per pytest process (each xdist worker starts its own: ~1.5 s), stopped at the end
of the session; each test gets its own bucket.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port
from tests.project import ROOT

# CreateUser, PutUserPolicy, CreateAccessKey for three users (one may only read S3, one
# only manage IAM): the requests moto serves unauthenticated.
_SETUP = 9
_ALLOW_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)
_READ_S3 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:Head*"], "Resource": "*"}
        ],
    }
)

_IAM_ONLY = _ALLOW_S3.replace('"s3:*"', '"iam:*"')
# sts.amazonaws.com: the audience aws-actions/configure-aws-credentials asks GitHub for
STS_AUDIENCE = "sts.amazonaws.com"


@dataclass
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    process: subprocess.Popen
    log: Path
    read_only: tuple[str, str] = ("", "")  # a key that may read and list, not write
    admin: tuple[str, str] = ("", "")  # a key that may manage IAM only
    buckets: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """What a client of this server needs, as a user of AWS would set it."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def client(self, **keys: str):
        """A boto3 S3 client of this server (``keys`` replace the real ones)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=keys.get("aws_access_key_id", self.access_key_id),
            aws_secret_access_key=keys.get("aws_secret_access_key", self.secret_access_key),
        )

    def github_role(self, issuer: str, repository: str, subject: str = "*") -> str:
        """A role that GitHub's OIDC tokens from ``issuer`` (tests/oidc.py) for
        ``repository`` may assume (``subject``: the ``sub`` pattern after
        ``repo:<repository>:``), allowed S3 as the ``tests`` user is; its ARN. Set up as AWS's
        guide for GitHub does: an OIDC provider with audience sts.amazonaws.com, and a trust
        policy on its ``aud`` and ``sub``."""
        import boto3

        iam = boto3.client(
            "iam",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.admin[0],
            aws_secret_access_key=self.admin[1],
        )
        host = issuer.split("://", 1)[1]
        existing = [
            p["Arn"]
            for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
            if p["Arn"].endswith(f"/{host}")
        ]
        provider = existing[0] if existing else iam.create_open_id_connect_provider(
            Url=issuer, ClientIDList=[STS_AUDIENCE], ThumbprintList=["0" * 40]
        )["OpenIDConnectProviderArn"]  # fmt: skip
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{host}:aud": STS_AUDIENCE},
                        "StringLike": {f"{host}:sub": f"repo:{repository}:{subject}"},
                    },
                }
            ],
        }
        name = f"github-{uuid.uuid4().hex[:8]}"
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=_ALLOW_S3)
        return role["Role"]["Arn"]

    def bucket(self, prefix: str = "test") -> str:
        """A new, empty bucket; its name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        self.buckets.append(name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_listening(port: int, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"moto_server did not listen on {port} in {timeout} s:\n{log.read_text()}")


def start(state: Path, timeout: float = 60, port: int | None = None, auth: bool = True) -> S3Server:
    """Start a server on a free loopback port (or ``port``) and create its IAM user and key.

    ``auth=False`` serves any key (moto's default): only for a test that restarts the
    server on the same port, which an in-memory server comes back from with new keys."""
    import boto3

    state.mkdir(parents=True, exist_ok=True)
    log = state / "moto.log"
    wanted = port  # a restart on the same port: a bind failure is the answer, not a retry
    for _attempt in range(5):  # another process may take the free port before moto binds it
        port = port or free_port()
        server_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        if auth:
            server_env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(_SETUP)
        server_env["PYTHONPATH"] = str(
            ROOT / "engine"
        )  # tests.moto_sts: moto_server with AWS's STS
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.moto_sts", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            env=server_env,
            start_new_session=True,
        )
        try:
            _wait_listening(port, process, log, timeout)
            break
        except RuntimeError:
            if process.poll() is None or wanted:
                raise
            port = None
    else:
        raise RuntimeError(f"moto_server could not bind a port:\n{log.read_text()}")
    endpoint = f"http://127.0.0.1:{port}"
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    keys = {}
    for user, policy in (("tests", _ALLOW_S3), ("reader", _READ_S3), ("admin", _IAM_ONLY)):
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=policy)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
    return S3Server(
        endpoint, *keys["tests"], process, log, read_only=keys["reader"], admin=keys["admin"]
    )


@contextmanager
def running(state: Path) -> Iterator[S3Server]:
    server = start(state)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def s3_environment(s3: S3Server) -> Iterator[None]:
    """This process's s3fs talks to the S3 server (it reads the environment, as a user's
    would) for the block; s3fs's cached instances (each holds its endpoint and keys) are
    dropped on both ends."""
    import fsspec

    s3fs = fsspec.get_filesystem_class("s3")
    saved = {k: os.environ.get(k) for k in s3.env()}
    os.environ.update(s3.env())
    s3fs.clear_instance_cache()
    try:
        yield
    finally:
        s3fs.clear_instance_cache()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Front:
    """The endpoint a client uses, in front of the S3 server: a TCP forwarder a test can stop
    and start again on the same port, for an outage in the middle of a transfer.

    ``stop()`` closes the listening socket and resets every open connection (SO_LINGER 0,
    an RST, as when the server's process dies or the network drops), so a request in flight
    fails and a new one is refused. The server behind keeps every object it acknowledged, as
    S3 does through an endpoint outage (a restarted in-memory moto would come back empty,
    which no real object store does). Bytes pass through unchanged: SigV4 signs the Host
    header the client sent, which reaches the server as it was signed.
    """

    def __init__(self, server: S3Server) -> None:
        self.server = server
        self.upstream = int(server.endpoint.rsplit(":", 1)[1])
        self.port = free_port()  # kept across restarts
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**self.server.env(), "AWS_ENDPOINT_URL": self.endpoint}

    def start(self) -> Front:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # close() alone wakes no thread blocked in accept(), and the socket stays in
            # LISTEN until it returns: shutdown first, so new connections are refused at once
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            # an RST now, not at the peer's next send; SHUT_RD wakes the pump blocked in recv
            with suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RD)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # shut down by stop()
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    client.close()
                    upstream.close()
                    return
                self._open |= {client, upstream}
            ends = [2]  # directions still open; the last to finish closes both sockets
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b, ends), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, ends: list[int]) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self._lock:
            ends[0] -= 1
            last = ends[0] == 0 and source in self._open
            if last:
                self._open -= {source, sink}
        if last:
            source.close()
            sink.close()
