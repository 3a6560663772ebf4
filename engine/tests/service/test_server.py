"""The built Bento served by the real `bentoml serve` on 127.0.0.1 (slow)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from mlops_engine.serving.prediction_log import read_logs
from tests.ports import free_port
from tests.project import BIN, clone, env, stop_group
from tests.s3 import s3_environment
from tests.service.records import case_or_skip, same_predictions

pytestmark = pytest.mark.slow


def _post(url: str, body: object, timeout: float = 60) -> tuple[int | str, dict, str]:
    """(status, headers, body); a connection the server never read gives ('reset', ...)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()
    except (ConnectionError, urllib.error.URLError) as e:
        return "reset", {}, repr(e)


@pytest.fixture(scope="module")
def bento(saved_model, tmp_path_factory) -> str:
    project = clone(tmp_path_factory.mktemp("build"))
    run_env = {
        **env(),
        "BENTOML_HOME": os.environ["BENTOML_HOME"],
        "MLOPS_MODEL_TAG": saved_model[0],
    }
    out = subprocess.run(
        [str(BIN / "mlops"), "build"],
        cwd=project,
        env=run_env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    tag = out.stdout.strip().splitlines()[-1]
    assert tag.startswith("predictor:")
    # BentoML's v2 image (serving/service.py IMAGE): no option that falls back to the v1 one
    assert "not supported by bento v2" not in out.stderr, out.stderr[-2000:]
    return tag


@pytest.fixture(scope="module")
def server(bento, saved_model, tmp_path_factory, s3_server):
    """`bentoml serve` of the Bento, logging predictions to a bucket on the S3 server as in
    production (endpoint and keys from the environment, as on AWS)."""
    port, logs = free_port(), f"s3://{s3_server.bucket('logs')}/predictions"
    log_file = tmp_path_factory.mktemp("server") / "server.log"
    server_log = log_file.open("w")  # never a pipe: unread, a full pipe blocks the server
    run_env = {
        **env(),
        **s3_server.env(),
        "BENTOML_HOME": os.environ["BENTOML_HOME"],
        "MLOPS_MODEL_TAG": saved_model[0],
        "MLOPS_PREDICTION_LOG": logs,
    }
    proc = subprocess.Popen(
        [str(BIN / "bentoml"), "serve", bento, "--host", "127.0.0.1", "--port", str(port)],
        env=run_env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}:\n{log_file.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:  # refused, reset or timed out: not ready yet
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"server not ready:\n{log_file.read_text()[-3000:]}")
    yield base, proc, logs, s3_server
    stop_group(proc)  # a SIGKILL of the group alone left each module's worker running


def test_served_predictions_equal_the_pipeline_model(server, model, train_test, params):
    base = server[0]
    rows = train_test[1][params.contract.features].head(params.serve.max_records)
    records = json.loads(rows.to_json(orient="records", date_format="iso"))
    status, headers, body = _post(f"{base}/predict", {"records": records})
    assert status == 200, body
    assert same_predictions([p["prediction"] for p in json.loads(body)], model.predict(rows))
    assert headers["x-model-version"]


def test_metadata_health_and_metrics(server, saved_model):
    base = server[0]
    status, _, body = _post(f"{base}/metadata", {})
    assert status == 200 and json.loads(body)["model_tag"] == saved_model[0]
    for path in ("/healthz", "/livez", "/readyz"):
        with urllib.request.urlopen(f"{base}{path}", timeout=5) as r:
            assert r.status == 200
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:
        assert "mlops_request_total" in r.read().decode()


@pytest.mark.parametrize(
    "case", ["nan", "out of range", "extra field", "empty batch", "malformed json"]
)
def test_bad_input_is_4xx_on_the_real_server(server, bad, case):
    body, named = case_or_skip(bad, case)
    payload = body.encode() if isinstance(body, str) else body
    status, _, text = _post(f"{server[0]}/predict", payload)
    assert 400 <= status < 500 and named in text


def test_oversized_body_is_413_on_the_real_server(server, params):
    status, _, _ = _post(f"{server[0]}/predict", b" " * (params.serve.max_request_bytes + 10))
    assert status == 413


def _in_progress(base: str) -> int:
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:
        text = r.read().decode()
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("mlops_request_in_progress") and 'endpoint="/predict"' in line
    ]
    return int(sum(values))


def test_sigterm_lets_in_flight_requests_finish_and_flushes_the_log(server, good):
    """Last test of the module: it stops the server the way Kubernetes does (SIGTERM to the
    main process). Requests the server had started must complete; none may get a 5xx."""
    base, proc, logs, store = server
    batch = {"records": [good] * 1000}
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(_post, f"{base}/predict", batch) for _ in range(8)]
        deadline, started = time.monotonic() + 60, 0  # a bound for a broken server
        while started < 2 and time.monotonic() < deadline:
            started = _in_progress(base)
        assert started >= 2, "requests never got in flight"
        proc.send_signal(signal.SIGTERM)
        results = [f.result() for f in futures]
    statuses = [r[0] for r in results if isinstance(r[0], int)]
    assert statuses.count(200) >= started, results
    assert not [s for s in statuses if s >= 500], results
    assert proc.wait(timeout=60) is not None
    with s3_environment(store):  # what `mlops monitor` reads, the same way
        logged = read_logs(logs)
    assert len(logged) >= statuses.count(200) * 1000, "answered predictions were all logged"
