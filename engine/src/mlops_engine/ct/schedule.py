"""How long ago the scheduled drift check last ran: silence must be visible.

GitHub disables a scheduled workflow after 60 days without repository activity, and a
disabled or failing nightly check says nothing by itself. The PR workflow calls this on
every pull request: the age and result of the last ``ct`` run go to the job summary, with a
warning annotation when it is older than ``monitor.max_silence_days`` or never ran.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from mlops_engine import gh

Level = Literal["ok", "stale"]


def last_runs(workflow: str) -> list[dict[str, Any]]:
    """The newest scheduled run of ``workflow`` (none or one). Only ``event=schedule``
    counts: a run by hand (workflow_dispatch) says nothing about the schedule, and one
    dispatched after GitHub disabled the schedule would otherwise hide it."""
    fields = "createdAt,conclusion,status,url,event"
    scheduled = ["--workflow", workflow, "--event", "schedule", "--limit", "1"]
    return json.loads(gh.run("run", "list", *scheduled, "--json", fields) or "[]")


def describe(
    runs: list[dict[str, Any]], now: dt.datetime, max_age_days: int, workflow: str
) -> tuple[Level, str]:
    if not runs:
        return "stale", (
            f"The drift check ({workflow}) has never run on its schedule: enable it in the "
            "Actions tab (runs by hand do not count: they say nothing about the schedule)."
        )
    run = runs[0]
    created = dt.datetime.fromisoformat(run["createdAt"].replace("Z", "+00:00"))
    age = (now - created).total_seconds() / 86400
    result = run.get("conclusion") or run.get("status") or "unknown"
    url = run.get("url", "")
    text = f"Last scheduled drift check ({workflow}): {age:.1f} days ago, {result} ({url})"
    if age > max_age_days:
        return "stale", (
            f"{text}. Older than {max_age_days} days: GitHub disables scheduled workflows "
            "after 60 days without repository activity; re-enable it in the Actions tab."
        )
    if result not in ("success", "in_progress", "queued"):
        return "stale", f"{text}. The last run did not succeed: open it and fix the cause."
    return "ok", text
