"""Pipeline speed and memory, printed as figures next to their reference points.

Measures, on this machine:
  1. full `dvc repro` on the default data in a fresh clone (wall time, peak RSS of any stage);
  2. a no-op `dvc repro` next to `dvc --version` (DVC's own start-up floor), and with its
     YAML parsed in C next to pure Python (ruamel.yaml.clib);
  3. ingest -> validate -> split -> train -> evaluate on up-sampled copies of the real rows
     (100k and 1M rows by default; resampled with replacement, new unique timestamps,
     generated on the fly, never committed), each stage timed in its own process.

Usage: uv run python -m benchmarks.pipeline [--rows 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from tests.project import clone

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``cmd`` and its children, via GNU time."""
    out = Path(tempfile.mkstemp()[1])
    start = time.perf_counter()
    subprocess.run(
        ["/usr/bin/time", "-o", str(out), "-f", "%M", *cmd],
        cwd=cwd,
        env=ENV,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    peak_kib = int(out.read_text().split()[-1])
    out.unlink()
    return wall, peak_kib / 1024


def fresh_clone(dest: Path) -> Path:
    """A clone of the working tree (see tests/project.py) without its committed reports, so
    that every stage really runs."""
    clone(dest)
    shutil.rmtree(dest / "reports")
    return dest


def bench_dvc(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = fresh_clone(Path(tmp))
        dvc = str(BIN / "dvc")
        wall, rss = timed([dvc, "repro"], project)
        print(f"full dvc repro (default data, 8,645 rows): {wall:6.1f} s   peak {rss:6.0f} MiB")
        noop = [timed([dvc, "repro"], project)[0] for _ in range(repeat)]
        floor = [timed([dvc, "--version"], project)[0] for _ in range(repeat)]
        ratio = statistics.median(noop) / statistics.median(floor)
        print(
            f"no-op dvc repro: {statistics.median(noop):5.2f} s   dvc --version: "
            f"{statistics.median(floor):5.2f} s   ratio {ratio:4.2f}x (target <= 2x)"
        )
        # DVC reads dvc.yaml, dvc.lock and params.yaml with ruamel.yaml's safe loader on every
        # command; its C parser (ruamel.yaml.clib, the engine's `ruamel.yaml[oldlibyaml]`) is
        # not installed by ruamel.yaml 0.19 itself. Side by side, alternating, the same no-op
        # with the parser forced to ruamel's pure-Python one, as without the extra.
        with_c, pure = [], []
        for _ in range(repeat):
            with_c.append(timed([str(BIN / "python"), "-c", _DVC.format(pure=False)], project)[0])
            pure.append(timed([str(BIN / "python"), "-c", _DVC.format(pure=True)], project)[0])
        print(
            f"no-op dvc repro, YAML in C: {statistics.median(with_c):5.2f} s   pure Python: "
            f"{statistics.median(pure):5.2f} s   ratio "
            f"{statistics.median(with_c) / statistics.median(pure):4.2f}x"
        )


_DVC = (
    "import sys, ruamel.yaml.main as m\n"
    "assert m.CParser is not None, 'ruamel.yaml.clib is not installed'\n"
    "if {pure}: m.CParser = None\n"
    "from dvc.cli import main\n"
    "sys.exit(main(['repro']))"
)


def bench_lock_parse(repeat: int) -> None:
    """dvc.lock as the gate, the report and the retraining read it (outputs.load_yaml:
    libyaml's parser) next to PyYAML's default pure-Python safe_load, alternating."""
    from mlops_engine.outputs import load_yaml

    text = (ROOT / "dvc.lock").read_text()
    fast, slow = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        load_yaml(text)
        fast.append(time.perf_counter() - start)
        start = time.perf_counter()
        yaml.safe_load(text)
        slow.append(time.perf_counter() - start)
    f, s = statistics.median(fast), statistics.median(slow)
    lines = len(text.splitlines())
    print(
        f"dvc.lock ({lines} lines) parsed: libyaml {f * 1000:5.1f} ms   pure Python "
        f"{s * 1000:5.1f} ms   ratio {f / s:4.2f}x"
    )


def upsampled(rows: int, seed: int = 0) -> pd.DataFrame:
    """Real rows resampled with replacement, re-stamped one minute apart (unique times)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw = pd.read_csv(ROOT / params["ingest"]["source"])
    sample = raw.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
    sample = sample.drop(columns=["day"])
    sample.insert(0, "timestamp", pd.date_range("2011-01-01", periods=rows, freq="min"))
    return sample


def bench_rows(sizes: list[int]) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["ingest"] = {
        "source": "raw.parquet",
        "time_column": "timestamp",
        "drop_columns": ["casual", "registered"],
    }
    params["contract"]["min_rows"] = 1000
    params["split"]["window"] = {"start": None, "end": None}
    results: list[tuple[int, float, float]] = []
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            upsampled(rows).to_parquet(work / "raw.parquet", index=False)
            (work / "params.yaml").write_text(yaml.safe_dump(params))
            mlops = str(BIN / "mlops")
            stages = {
                "ingest": [mlops, "ingest", "--source", "raw.parquet", "--out", "in.parquet"],
                "validate": [
                    mlops,
                    "validate",
                    "--data",
                    "in.parquet",
                    "--out",
                    "ok.parquet",
                    "--report",
                    "v.json",
                ],
                "split": [
                    mlops,
                    "split",
                    "--data",
                    "ok.parquet",
                    "--train",
                    "tr.parquet",
                    "--test",
                    "te.parquet",
                ],
                "train": [mlops, "train", "--train", "tr.parquet", "--model", "m.joblib"],
                "evaluate": [
                    mlops,
                    "evaluate",
                    "--model",
                    "m.joblib",
                    "--train",
                    "tr.parquet",
                    "--test",
                    "te.parquet",
                    "--metrics",
                    "m.json",
                    "--slices",
                    "s.json",
                    "--plots-dir",
                    "plots",
                    "--figures-dir",
                    "figs",
                ],
            }
            parts = []
            total, peak = 0.0, 0.0
            for name, cmd in stages.items():
                wall, rss = timed(cmd, work)
                parts.append(f"{name} {wall:5.1f}s/{rss:5.0f}MiB")
                total, peak = total + wall, max(peak, rss)
            results.append((rows, total, peak))
            print(
                f"{rows:>9,} rows: total {total:6.1f} s  peak {peak:6.0f} MiB  | "
                + "  ".join(parts)
            )
    if len(results) > 1:
        (r0, t0, _), (r1, t1, p1) = results[0], results[-1]
        print(
            f"scaling {r0:,} -> {r1:,} rows ({r1 / r0:.0f}x): time x{t1 / t0:.1f} "
            f"(linear would be x{r1 / r0:.0f}; includes ~3 s/stage start-up), "
            f"peak at {r1:,} rows {p1 / 1024:.2f} GiB (target < 4 GiB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-dvc", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    if not args.skip_dvc:
        bench_dvc(args.repeat)
    bench_lock_parse(20)
    bench_rows(args.rows)


if __name__ == "__main__":
    main()
