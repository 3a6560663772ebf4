"""Text within GitHub's caps: a comment or PR body at 65,536 characters, a job summary at
1 MiB per step (UTF-8 bytes). ``cap`` shortens what would not fit and says where the whole
text is; used by the PR report, the retraining PR, the canary's issue and the step files."""

from __future__ import annotations

from typing import Literal

# GitHub: "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k"
SUMMARY_LIMIT = 1024 * 1024  # bytes, per step (all the step's commands together)

# GitHub refuses a PR comment or a PR body over 65,536 characters (HTTP 422 "body is too
# long (maximum is 65536 characters)"; GraphQL: "Body is too long ..."): `make comment` then
# fails and so does `gh pr create/edit`. Ours stop short of it, leaving room for what is
# added on the way (the note `mlops propose` puts in the PR body).
GITHUB_BODY_LIMIT = 65_536
BODY_BUDGET = 60_000
_MIN_ROWS = 20  # a table keeps at least this many rows (a metrics table is never cut)


def _tables(lines: list[str]) -> list[tuple[int, int]]:
    """(first body row, end) of each markdown table: header and separator excluded."""
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|-"):
            end = i + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            found.append((i + 2, end))
            i = end
        else:
            i += 1
    return found


def size(text: str, unit: Literal["characters", "bytes"] = "characters") -> int:
    """``text``'s length as GitHub counts it: a comment or PR body in characters, a job
    summary in bytes (UTF-8: "é" is 2, "✅" 3)."""
    return len(text) if unit == "characters" else len(text.encode("utf-8"))


def cap(
    text: str,
    where: str,
    limit: int = BODY_BUDGET,
    unit: Literal["characters", "bytes"] = "characters",
) -> str:
    """``text`` within ``limit`` characters (or UTF-8 bytes, ``unit``) for a GitHub comment
    or PR body (characters) or a job summary (bytes).

    What a reviewer must see stays whole: headings, the gate verdict, notes and every
    table up to ``_MIN_ROWS`` rows (metrics, champion vs challenger). Only the longest
    tables lose rows from their end (a params diff of every contract entry, a per-column
    drift table), longest first, each followed by a line saying how many rows are left out
    and ``where`` the full report is. Text that is still too long (no long table to cut) is
    cut at a line, with the same pointer.
    """
    if size(text, unit) <= limit:
        return text
    lines = text.split("\n")
    cut: dict[int, tuple[int, int]] = {}  # table start -> (kept end, original end)
    excess = size(text, unit) - limit
    for start, end in sorted(_tables(lines), key=lambda t: t[0] - t[1]):  # most rows first
        if excess <= 0:
            break
        excess += 300  # the pointer line this cut adds
        keep_end = end
        while keep_end - start > _MIN_ROWS and excess > 0:
            keep_end -= 1
            excess -= size(lines[keep_end], unit) + 1
        if keep_end < end:
            cut[start] = (keep_end, end)
        else:
            excess -= 300
    capped = (
        f"a comment or pull request body at {GITHUB_BODY_LIMIT:,} characters"
        if unit == "characters"
        else f"a job summary at {SUMMARY_LIMIT:,} bytes"
    )
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i in cut:
            keep_end, end = cut[i]
            out += lines[i:keep_end]
            out.append("")
            out.append(
                f"*… {end - keep_end:,} more rows not shown: GitHub caps {capped}. "
                f"The full report is in {where}.*"
            )
            if end < len(lines) and lines[end].strip():
                out.append("")
            i = end
        else:
            out.append(lines[i])
            i += 1
    fitted = "\n".join(out)
    if size(fitted, unit) > limit:
        pointer = f"\n\n*… cut here: the full report is in {where}.*\n"
        room = limit - size(pointer, unit)
        # a byte budget cuts the UTF-8 text and drops a character split at the cut
        head = (
            fitted[:room]
            if unit == "characters"
            else fitted.encode("utf-8")[:room].decode("utf-8", errors="ignore")
        )
        fitted = head[: head.rfind("\n")] + pointer
    return fitted
