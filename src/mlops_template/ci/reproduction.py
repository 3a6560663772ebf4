"""Does this revision's `dvc.lock` reproduce, and when a pull request moves `uv.lock`, did
the new releases change what the pipeline builds?

DVC's stage hashes cover code, params and data, not the installed packages: on a PR that
only moves `uv.lock` (Dependabot's), the run-cache would restore every output made with the
old releases and nothing would run on the new ones. ``releases_moved`` tells `mlops repro
--lock-base` to re-run every stage then; ``note`` says in the report which `dvc.lock` outputs
the run did not reproduce and which packages moved, so the PR carries the reason the model
changed (or shows that it did not).
"""

from __future__ import annotations

from pathlib import Path

from mlops_template import revisions
from mlops_template.ci.canary import Move, changed_outputs, moved_packages

LOCK = "uv.lock"


def moved_since(base_ref: str, lock: Path = Path(LOCK)) -> list[Move]:
    """Packages whose locked version differs between ``base_ref`` and the working tree
    (none when the base or either lock is missing: nothing to compare with)."""
    if not lock.is_file() or not revisions.exists(base_ref):
        return []
    base = revisions.read_at(base_ref, LOCK)
    return [] if base is None else moved_packages(base, lock.read_text())


def releases_moved(base_ref: str) -> bool:
    return bool(moved_since(base_ref))


def note(base_ref: str | None, dvc_lock: Path = Path("dvc.lock")) -> str | None:
    """The report's line on reproduction: None when the reproduced `dvc.lock` has the
    committed outputs and no package moved."""
    committed = revisions.read_at("HEAD", str(dvc_lock)) if revisions.exists("HEAD") else None
    if committed is None or not dvc_lock.is_file():
        return None
    changed = changed_outputs(committed, dvc_lock.read_text())
    moved = moved_since(base_ref) if base_ref else []
    packages = ", ".join(m.describe() for m in moved[:8]) + (
        f" and {len(moved) - 8} more" if len(moved) > 8 else ""
    )
    if not changed:
        if not moved:
            return None
        return (
            f"`uv.lock` moves {len(moved)} package(s) ({packages}); re-run on them (`make "
            "repro` in pr.yml re-runs every stage then), the pipeline reproduced the committed "
            "`dvc.lock`: the releases change nothing it builds."
        )
    listed = ", ".join(f"`{p}`" for p in changed[:10]) + (
        f" and {len(changed) - 10} more" if len(changed) > 10 else ""
    )
    why = (
        f"this PR's `uv.lock` moves {len(moved)} package(s) ({packages}), on which every "
        "stage re-ran (`make repro` in pr.yml), so the new releases changed them (the "
        "metrics above say how much)"
        if moved
        else "the committed `dvc.lock` is not what this revision builds"
    )
    return (
        f"**`dvc.lock` did not reproduce**: {len(changed)} output(s) differ from the committed "
        f"ones ({listed}): {why}. Run `dvc repro` and commit `dvc.lock`, so that main's lock "
        "says what was built."
    )
