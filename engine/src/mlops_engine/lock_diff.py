"""Does this revision's `dvc.lock` reproduce, and when a pull request moves `uv.lock`, did
the new releases change what the pipeline builds?

DVC's stage hashes cover code, params and data, not the installed packages: on a PR that
only moves `uv.lock` (Dependabot's), the run-cache would restore every output made with the
old releases and nothing would run on the new ones. `mlops repro --lock-base` re-runs every
stage then and records what it did (``record``, in ``build/reproduced.json``); ``note`` says
in the report which `dvc.lock` outputs the run did not reproduce and which packages moved,
so the PR carries the reason the model changed (or shows that it did not).

Every locked package counts, dev tools included (a ruff or pytest bump re-runs the pipeline
too): what a stage imports is not known ahead of time, and uv.lock is the one record of it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from mlops_engine import git, storage
from mlops_engine.outputs import load_yaml


@dataclass
class Move:
    name: str
    old: str | None  # None: added by the upgrade
    new: str | None  # None: removed by the upgrade

    def describe(self) -> str:
        return f"{self.name} {self.old or '(new)'} -> {self.new or '(removed)'}"


def locked_versions(lock_text: str) -> dict[str, str]:
    """Package name -> version in a uv.lock (the project itself is left out: it is ours).
    A package locked at two versions (one per Python range of a forked resolution) reads
    "1.15.3, 1.18.1"."""
    lock = tomllib.loads(lock_text)
    ours = ({"editable": "."}, {"virtual": "."})
    versions: dict[str, list[str]] = {}
    for p in lock.get("package", []):
        if p.get("source") not in ours:
            versions.setdefault(p["name"], []).append(p.get("version", ""))
    return {name: ", ".join(sorted(set(v))) for name, v in versions.items()}


def moved_packages(committed: str, upgraded: str) -> list[Move]:
    """Every package whose locked version differs, was added or was removed, by name."""
    old, new = locked_versions(committed), locked_versions(upgraded)
    return [
        Move(name, old.get(name), new.get(name))
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def changed_outputs(committed: str, reproduced: str) -> list[str]:
    """dvc.lock outputs whose hash the upgraded run did not reproduce."""

    def outs(text: str) -> dict[str, str]:
        stages = (load_yaml(text) or {}).get("stages", {})
        return {o["path"]: o.get("md5", "") for s in stages.values() for o in s.get("outs", [])}

    old, new = outs(committed), outs(reproduced)
    return sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))


LOCK = "uv.lock"
RECORD = Path("build/reproduced.json")


def moved_since(base_ref: str, lock: Path = Path(LOCK)) -> list[Move] | None:
    """Packages whose locked version differs between ``base_ref`` and the working tree;
    None when there is nothing to compare with (no such base, or no lock on either side);
    a base SHA that cannot be fetched is an error (git.have)."""
    if not lock.is_file() or not git.have(base_ref):
        return None
    base = git.read_at(base_ref, str(lock))
    return None if base is None else moved_packages(base, lock.read_text())


def record(base_ref: str, moved: list[Move] | None, forced: bool) -> None:
    """What `mlops repro --lock-base` compared and whether it re-ran every stage."""
    storage.write_json(
        {"base": base_ref, "moved": [m.describe() for m in moved or []], "forced": forced}, RECORD
    )


def _first(items: list[str], n: int) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def note(base_ref: str | None, dvc_lock: Path = Path("dvc.lock")) -> str | None:
    """The report's line on reproduction: None when the reproduced `dvc.lock` has the
    committed outputs and no package moved."""
    committed = git.read_at("HEAD", str(dvc_lock)) if git.exists("HEAD") else None
    if committed is None or not dvc_lock.is_file():
        return None
    changed = changed_outputs(committed, dvc_lock.read_text())
    found = moved_since(base_ref) if base_ref else None
    moved = [m.describe() for m in found or []]
    ran = storage.read_json(RECORD) if RECORD.is_file() else {}
    forced = bool(ran.get("forced")) and ran.get("moved") == moved
    moves = f"`uv.lock` moves {len(moved)} package(s) ({_first(moved, 8)})"
    if moved and not forced:
        return (
            f"{moves}, but this run did not rebuild the outputs on them (`make repro "
            "LOCK_BASE=<base>` does, as pr.yml's reproduce step), so whether `dvc.lock` "
            "reproduces on them is not shown here."
        )
    if not changed:
        if not moved:
            return None
        return (
            f"{moves}; every stage re-ran on them and reproduced the committed `dvc.lock`: "
            "the releases change nothing the pipeline builds."
        )
    if moved:
        why = (
            f"this PR's {moves}, on which every stage re-ran, so the new releases changed "
            "them (the metrics above say how much). Run `dvc repro --force` on the branch and "
            "commit `dvc.lock`"
        )
    else:
        why = (
            "the committed `dvc.lock` is not what this revision builds. Run `dvc repro` and "
            "commit `dvc.lock`"
        )
    listed = _first([f"`{p}`" for p in changed], 10)
    return (
        f"**`dvc.lock` did not reproduce**: {len(changed)} output(s) differ from the committed "
        f"ones ({listed}): {why}, so that main's lock says what was built."
    )
