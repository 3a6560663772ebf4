"""Serving throughput and latency, side by side, on loopback, bounded in time.

Three ways to serve the same model on the same real rows (the pipeline's test set):
  limit    the model's in-process predict (no HTTP): the ceiling;
  fastapi  a minimal FastAPI/uvicorn app that predicts each request on its own
           (what a user would write instead);
  bentoml  this project's service (adaptive batching, validation, logging on);
  floor    the same service with the model taken out (benchmarks/floor_service.py): what
           BentoML's request path itself sustains on the core, the ceiling for any model.
Load: wrk (Debian package `wrk`) at concurrency 1, 8, 32 and 64, with one record per request
and with 100 records per request. The server runs on core 0, wrk on core 1.

Needs the pipeline's outputs (`make run`). Usage:
    uv run python -m benchmarks.serving [--duration 30]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd

from mlops_template import storage
from mlops_template.config import load_params
from mlops_template.serving import model_store
from mlops_template.serving.model_tag import model_md5

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FASTAPI_APP = """
import joblib, pandas as pd
from fastapi import FastAPI
app = FastAPI()
model = joblib.load({model!r})
FEATURES = {features!r}

@app.post("/predict")
def predict(body: dict):
    frame = pd.DataFrame(body["records"], columns=FEATURES)
    return [{{"prediction": float(p)}} for p in model.predict(frame)]
"""
LUA = """
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited (see its log in the work directory)")
        try:
            body = b'{"records": []}'
            urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (4xx for the empty batch): ready
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} not ready")


def _wrk(url: str, bodies: Path, lua: Path, connections: int, duration: int) -> dict:
    threads = 1 if connections == 1 else 2
    cmd = [
        "taskset",
        "-c",
        "1",
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        url,
    ]
    out = subprocess.run(
        cmd, env={**os.environ, "BODIES": str(bodies)}, capture_output=True, text=True, check=True
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        scale = {"us": 1e-3, "ms": 1, "s": 1e3}
        return float(m.group(1)) * scale[m.group(2)] if m else float("nan")

    if "Requests/sec" not in out or re.search(r"Requests/sec:\s+0\.00", out):
        sys.stderr.write(f"wrk got no answers:\n{out}\n")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50"),
        "p99": ms("99"),
        "errors": (int(non2xx.group(1)) if non2xx else 0)
        + (sum(int(x) for x in sock.groups()) if sock else 0),
    }


def _limit(model, frame: pd.DataFrame, rows: int, seconds: float = 5) -> float:
    """In-process rows/s predicting ``rows`` rows per call."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        chunk = frame.sample(rows, replace=True, random_state=done)
        model.predict(chunk)
        done += rows
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--servers", nargs="+", default=["fastapi", "bentoml", "floor"])
    parser.add_argument("--prediction-log", choices=["on", "off"], default="on")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100], choices=[1, 100])
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    os.environ["OMP_NUM_THREADS"] = "1"
    params = load_params(ROOT / "params.yaml")
    features = params.contract.features
    test = storage.read_parquet(ROOT / "data/processed/test.parquet")[features]
    model_file = ROOT / "models/model.joblib"
    model = storage.read_model(model_file)
    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    os.environ["BENTOML_HOME"] = str(work / "bentoml")
    lineage = model_store.Lineage("bench", model_md5(ROOT / "dvc.lock"), {}, {}, {})
    tag = model_store.save(model_file, params.serve.model_name, lineage)
    records = json.loads(test.to_json(orient="records"))
    bodies = {1: work / "one.jsonl", 100: work / "hundred.jsonl"}
    bodies[1].write_text("".join(json.dumps({"records": [r]}) + "\n" for r in records))
    bodies[100].write_text(
        "".join(
            json.dumps({"records": [records[(i + j) % len(records)] for j in range(100)]}) + "\n"
            for i in range(0, len(records), 7)
        )
    )
    lua = work / "post.lua"
    lua.write_text(LUA)
    (work / "fastapi_app.py").write_text(
        FASTAPI_APP.format(model=str(model_file), features=features)
    )

    limit = {n: _limit(model, test, n) for n in (1, 100)}
    print(
        f"machine: {os.cpu_count()} cores; server on core 0, wrk on core 1; "
        f"{args.duration}s per run"
    )
    print(
        f"in-process limit: {limit[1]:,.0f} rows/s one row per call, "
        f"{limit[100]:,.0f} rows/s 100 rows per call"
    )
    servers = {
        name: cmd
        for name, cmd in {
            "fastapi": [
                "uvicorn",
                "fastapi_app:app",
                "--host",
                "127.0.0.1",
                "--log-level",
                "warning",
            ],
            "bentoml": [
                "bentoml",
                "serve",
                "mlops_template.serving.service:Predictor",
                "--host",
                "127.0.0.1",
            ],
            "floor": ["bentoml", "serve", "benchmarks.floor_service:Floor", "--host", "127.0.0.1"],
        }.items()
        if name in args.servers
    }
    # All servers start on core 0 and stay up; each load point then runs against one
    # server after the other, so a baseline and BentoML are measured seconds apart (this
    # host's speed drifts by tens of percent over minutes). An idle server costs ~nothing.
    procs, urls = {}, {}
    try:
        for name, cmd in servers.items():
            port = _port()
            env = {
                **os.environ,
                "MLOPS_MODEL_TAG": tag,
                "MLOPS_PREDICTION_LOG": str(work / "logs")
                if args.prediction_log == "on"
                else "off",
                "PYTHONPATH": str(work) if name == "fastapi" else os.environ.get("PYTHONPATH", ""),
            }
            server_log = (work / f"{name}.log").open("w")  # never a pipe: a full pipe blocks
            procs[name] = subprocess.Popen(
                ["taskset", "-c", "0", str(BIN / cmd[0]), *cmd[1:], "--port", str(port)],
                cwd=work if name == "fastapi" else ROOT,
                env=env,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            urls[name] = f"http://127.0.0.1:{port}/predict"
            _wait(urls[name], procs[name])
        results: dict[tuple[str, int, int], dict] = {}
        after: dict[tuple[str, int], dict] = {}

        def measure(name: str, size: int, c: int, label: str = "") -> dict:
            r = _wrk(urls[name], bodies[size], lua, c, args.duration)
            print(
                f"{name:8} {size:>3} rec/req  c={c:<3}{label:5} {r['rps']:9,.0f} req/s "
                f"{r['rps'] * size:10,.0f} rows/s  p50 {r['p50']:7.1f} ms  "
                f"p99 {r['p99']:7.1f} ms  errors {r['errors']}",
                flush=True,
            )
            return r

        # Each size warms up at the first (lowest) concurrency, so every point follows a
        # lighter load. BentoML's batcher kept lone requests waiting as long as the average
        # wait it learned from recent batches, for minutes after a burst: the last point
        # (c=1 again, marked "after") measures what is left of that transient.
        for size in args.sizes:
            for name in servers:
                _wrk(urls[name], bodies[size], lua, args.concurrency[0], 3)  # warm-up
            for c in args.concurrency:
                for name in servers:
                    results[(name, size, c)] = measure(name, size, c)
            if 1 in args.concurrency and len(args.concurrency) > 1:
                for name in servers:
                    after[(name, size)] = measure(name, size, 1, "after")
    finally:
        for proc in procs.values():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
    if (
        {"fastapi", "bentoml"} - set(args.servers)
        or {1, 32} - set(args.concurrency)
        or {1, 100} - set(args.sizes)
    ):
        return  # a partial run (for profiling): no comparison
    b, f = results[("bentoml", 1, 32)], results[("fastapi", 1, 32)]
    print(
        f"c=32, 1 record: bentoml {b['rps'] / f['rps']:.1f}x fastapi (target >= 3x), "
        f"p99 {b['p99']:.1f} ms (target <= 50), non-2xx {b['errors']} (target 0)"
    )
    rows = max(results[("bentoml", 100, c)]["rps"] * 100 for c in args.concurrency)
    print(
        f"100-record batches: best {rows:,.0f} rows/s = {rows / limit[100]:.2f}x in-process "
        "limit (target >= 0.5x)"
    )
    b1, f1 = results[("bentoml", 1, 1)], results[("fastapi", 1, 1)]
    print(
        f"c=1: bentoml p50 {b1['p50']:.1f} ms vs fastapi {f1['p50']:.1f} ms "
        f"(+{b1['p50'] - f1['p50']:.1f} ms, target <= +2 ms)"
    )
    if ("bentoml", 1) in after:
        ba, fa = after[("bentoml", 1)], after[("fastapi", 1)]
        print(
            f"c=1 after the heavier loads: bentoml p50 {ba['p50']:.1f} ms vs fastapi "
            f"{fa['p50']:.1f} ms (+{ba['p50'] - fa['p50']:.1f} ms)"
        )
    if ("floor", 1, 32) in results:
        fl = results[("floor", 1, 32)]
        print(
            f"c=32, 1 record, BentoML without the model (floor): {fl['rps']:,.0f} req/s, "
            f"p99 {fl['p99']:.1f} ms; bentoml reaches {b['rps'] / fl['rps']:.2f}x of it"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
