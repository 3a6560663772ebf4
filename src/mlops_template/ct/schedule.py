"""How long ago the scheduled drift check last ran: silence must be visible.

GitHub disables a scheduled workflow after 60 days without repository activity, and a
disabled or failing nightly check says nothing by itself. The PR workflow calls this on
every pull request: the age and result of the last ``ct`` run go to the job summary, with a
warning annotation when it is older than ``monitor.max_silence_days`` or never ran.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from typing import Any, Literal

Level = Literal["ok", "stale"]


def last_runs(workflow: str) -> list[dict[str, Any]]:
    fields = "createdAt,conclusion,status,url,event"
    proc = subprocess.run(
        ["gh", "run", "list", "--workflow", workflow, "--limit", "1", "--json", fields],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"gh run list failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout or "[]")


def describe(
    runs: list[dict[str, Any]], now: dt.datetime, max_age_days: int, workflow: str
) -> tuple[Level, str]:
    if not runs:
        return "stale", (
            f"The drift check ({workflow}) has never run: enable it in the Actions tab "
            "or run it once by hand (workflow_dispatch)."
        )
    run = runs[0]
    created = dt.datetime.fromisoformat(run["createdAt"].replace("Z", "+00:00"))
    age = (now - created).total_seconds() / 86400
    result = run.get("conclusion") or run.get("status") or "unknown"
    text = f"Last drift check ({workflow}): {age:.1f} days ago, {result} ({run.get('url', '')})"
    if age > max_age_days:
        return "stale", (
            f"{text}. Older than {max_age_days} days: GitHub disables scheduled workflows "
            "after 60 days without repository activity; re-enable it in the Actions tab."
        )
    if result not in ("success", "in_progress", "queued"):
        return "stale", f"{text}. The last run did not succeed: open it and fix the cause."
    return "ok", text
