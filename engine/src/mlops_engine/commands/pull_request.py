"""On pull requests (pr.yml): the headline summary, reproduction, the quality gate, the report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mlops_engine import storage
from mlops_engine.commands import command, log
from mlops_engine.config import Params
from mlops_engine.step_files import add_outputs, add_summary


@command(
    "summary",
    "print the headline metrics and where the reports are",
    lambda p: p.add_argument("--dvc-file", default="dvc.yaml"),
)
def _summary(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.ci.summary import summarize

    sys.stdout.write(summarize(Path(a.dvc_file), params) + "\n")
    return 0


@command(
    "repro",
    "dvc repro, restoring from the DVC remote and run-cache when one exists",
    lambda p: (
        p.add_argument(
            "--push", action="store_true", help="push outputs and run-cache (trusted events only)"
        ),
        p.add_argument(
            "--remote-optional",
            action="store_true",
            help="if the DVC remote cannot be reached, reproduce without it (fork PRs only)",
        ),
        p.add_argument(
            "--lock-base",
            default=None,
            help="re-run every stage when uv.lock moved a package since this ref (pr.yml)",
        ),
    ),
)
def _repro(a: argparse.Namespace, params: Params) -> int:
    from mlops_engine.pipeline.reproduce import reproduce

    reproduce(push=a.push, remote_optional=a.remote_optional, lock_base=a.lock_base)
    return 0


def _gate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base-ref", required=True, help="git revision to compare with, e.g. origin/main"
    )
    p.add_argument("--dvc-file", default="dvc.yaml")
    p.add_argument("--lock", default="dvc.lock")
    p.add_argument(
        "--remote-optional",
        action="store_true",
        help="if the base's DVC remote cannot be read, re-score it without (fork PRs only)",
    )
    p.add_argument(
        "--summary",
        default=os.environ.get("GITHUB_STEP_SUMMARY"),
        help="also append to this file (default: $GITHUB_STEP_SUMMARY)",
    )
    p.add_argument(
        "--labels",
        default=os.environ.get("PR_LABELS", ""),
        help="the pull request's labels, comma-separated (default: $PR_LABELS); "
        "gate.accept_label among them accepts inconclusive checks under needs-review",
    )
    p.add_argument(
        "--inconclusive",
        choices=["needs-review", "warn", "fail"],
        default=os.environ.get("GATE_INCONCLUSIVE") or None,
        help="what every inconclusive check does, over gate.inconclusive (default: "
        "$GATE_INCONCLUSIVE; cd.yml: warn, the merge having been the review)",
    )


def gate_params(a: argparse.Namespace, params: Params) -> Params:
    """``params`` with ``--inconclusive`` applied to every kind of check."""
    if not a.inconclusive:
        return params
    gate = params.gate.model_copy(
        update={
            "inconclusive": params.gate.inconclusive.model_copy(
                update=dict.fromkeys(("metrics", "slices", "too_small"), a.inconclusive)
            ),
            "anchor": params.gate.anchor.model_copy(update={"inconclusive": a.inconclusive}),
        }
    )
    return params.model_copy(update={"gate": gate})


def accepted(labels: str, params: Params) -> bool:
    """Whether the pull request carries ``gate.accept_label``."""
    return params.gate.accept_label in {x.strip() for x in labels.split(",")}


@command("gate", "fail when a metric regresses beyond its tolerance vs --base-ref", _gate_args)
def _gate(a: argparse.Namespace, params: Params) -> int:
    params = gate_params(a, params)
    from mlops_engine.ci.champion import base_metrics, gate_rows
    from mlops_engine.ci.gate import paired_checks
    from mlops_engine.outputs import locate

    where = locate(Path(a.dvc_file))
    path = where.metrics
    base = base_metrics(a.base_ref, params, path, Path(a.lock), a.remote_optional)
    if base.metrics is None:
        log.info("gate: no base to compare with: %s", base.explanation)
    else:
        log.info("gate: comparing with %s", base.explanation)
    csv = f"{where.plots_dir}/predictions.csv" if where.plots_dir else None
    rows = gate_rows(a.base_ref, base, params, Path(a.lock), csv, a.remote_optional)
    from mlops_engine.ci.seeds import for_rows

    rows, seed_runs = for_rows(rows, params, Path(a.lock))  # training randomness (gate.seeds)
    if seed_runs.note():
        (log.info if seed_runs.counted else log.warning)("gate: %s", seed_runs.note())
    checks = paired_checks(rows, params.gate, accepted=accepted(a.labels, params))
    for check in checks:
        level = log.error if check.failed else log.warning if check.action else log.info
        level("gate: %s", check.describe())
    from mlops_engine.ci import anchor as anchors
    from mlops_engine.ci.markdown import gate_summary

    # the anchor's outcome only: its figures are the holdout's, which nothing prints
    found = anchors.judge(
        params, Path(a.lock), accepted=accepted(a.labels, params), remote_optional=a.remote_optional
    )
    anchor_line = anchors.line(found, params)
    level = (
        log.error
        if found.failed
        else log.warning
        if found.check and found.check.action
        else log.info
    )
    level("gate: %s", anchor_line.replace("**", "").replace("`", ""))
    if found.check is not None:
        checks = [*checks, found.check]
    from mlops_engine.templating import PROJECT_TEMPLATES

    summary = gate_summary(
        checks, params.gate.accept_label, Path(a.dvc_file).parent / PROJECT_TEMPLATES
    )
    add_summary(a.summary, summary + f"\n{anchor_line}\n")
    failed = [f"{c.name} on {c.slice}" if c.slice else c.name for c in checks if c.failed]
    review = [c for c in checks if c.failed and c.action == "needs review"]
    if failed:
        log.error("gate: FAILED on %s", ", ".join(failed))
        if review:
            log.error(
                "gate: %d inconclusive check(s) need review: a maintainer who accepts them "
                "adds the label '%s' to the pull request",
                len(review),
                params.gate.accept_label,
            )
        return 1
    log.info("gate: passed (%d checks against %s)", len(checks), a.base_ref)
    # cd.yml labels the image with it (org.opencontainers-style label, Makefile `image`)
    verdict = "passed" if base.metrics is not None else "passed (no base)"
    add_outputs(os.environ.get("GITHUB_OUTPUT"), {"verdict": verdict})
    return 0


def _report_args(p: argparse.ArgumentParser) -> None:
    _gate_args(p)
    p.add_argument("--out", required=True, help="markdown file to write")
    p.add_argument("--title", default="Model report")
    p.add_argument(
        "--images",
        choices=["link", "local"],
        default="link",
        help="link: figures stay in the workflow artifact; local: paths next to the report",
    )
    p.add_argument("--artifact-url", default=os.environ.get("REPORT_ARTIFACT_URL") or None)
    p.add_argument("--plots-diff", default=None, help="write `dvc plots diff` HTML here")


@command(
    "report", "markdown report: metrics vs --base-ref, params diff, validation, plots", _report_args
)
def _report(a: argparse.Namespace, params: Params) -> int:
    params = gate_params(a, params)
    from mlops_engine.ci.report import ReportRequest, build_report

    request = ReportRequest(
        base_ref=a.base_ref,
        title=a.title,
        images=a.images,
        artifact_url=a.artifact_url,
        plots_diff=Path(a.plots_diff) if a.plots_diff else None,
        out=Path(a.out),
        dvc_file=Path(a.dvc_file),
        params=Path(a.params),
        lock=Path(a.lock),
        remote_optional=a.remote_optional,
        accepted=accepted(a.labels, params),
    )
    from mlops_engine.caps import cap

    text = build_report(request, params)
    full = Path(a.out).with_name(f"{Path(a.out).stem}-full.md")
    artifact = (
        f"[the workflow run's artifacts]({a.artifact_url})"
        if a.artifact_url
        else "the workflow run's artifacts"
    )
    shown = cap(text, f"`{full.name}` in {artifact} (artifact `pr-report`)")
    if shown != text:
        storage.write_bytes(text.encode(), full)
        log.warning(
            "report: %d characters, over GitHub's cap: shortened (full: %s)", len(text), full
        )
    else:
        full.unlink(missing_ok=True)  # not left over from an earlier, longer report
    storage.write_bytes(shown.encode(), a.out)
    # The job summary takes the whole report up to its own cap (1 MiB, in bytes)
    add_summary(a.summary, text, f"`{full.name}` in {artifact} (artifact `pr-report`)")
    log.info("report: %s%s", a.out, f" (and {a.summary})" if a.summary else "")
    return 0
