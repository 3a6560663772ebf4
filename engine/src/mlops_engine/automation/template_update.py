"""Bring a later release of the template into a project made from it: ``copier update``.

The project records where it came from in its answers file (``.copier-answers.yml``:
``_src_path``, the template's git URL, and ``_commit``, the release it was made from). The
template repository commits that file, so a repository made by GitHub's "Use this template"
(a verbatim copy in one commit, no history shared with the template) has it as well as one
made by ``copier copy``. ``copier update`` renders the old release and the new one and
applies their difference to the project as a 3-way merge: a file only the team changed
stays as the team left it, a file only the template changed takes the template's change, a
file both changed gets both where they do not overlap and inline conflict markers where
they do (``--conflict inline``; copier's labels ``before updating`` / ``after updating``),
and the answers file moves to the new release. Nothing is committed: the update is left in
the working tree for review.

``uv.lock`` is not text-merged: when the update touched it or ``pyproject.toml``, it is
re-locked (``uv lock``) against the merged ``pyproject.toml``, starting from the template's
new lock file if the text merge conflicted. A ``pyproject.toml`` with conflict markers
cannot be locked: the lock file is then left as the merge left it and the result says so.

Refused, with a message naming the cause: a working tree with uncommitted changes (copier
needs a clean tree to tell the team's changes from its own), no answers file or one without
``_src_path``/``_commit``, a source that is no git repository git can read, a ref that
names neither a tag, a branch nor a commit of the source.

``--source`` reads the template from another address (a mirror, a local clone, a fork with
the same tags) without changing the project's recorded ``_src_path``: git's own URL
rewriting (``url.<source>.insteadOf=<_src_path>``, passed in git's environment) makes
copier's clones of the recorded address read ``source``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from mlops_engine import git
from mlops_engine.outputs import load_yaml

ANSWERS = ".copier-answers.yml"
# copier's inline conflict labels (copier/_main.py, _apply_update: `git merge-file -L
# "before updating" -L "last update" -L "after updating"`); a conflicted file holds
# `<<<<<<< before updating` ... `>>>>>>> after updating` blocks.
CONFLICT_START = "<<<<<<< before updating"
_VERSION_TAG = re.compile(r"^v(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_HEX = re.compile(r"^[0-9a-f]{4,40}$")
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)")


class UpdateError(RuntimeError):
    """The update could not start or copier failed; the message says why."""


@dataclass(frozen=True)
class Answers:
    src_path: str
    commit: str


@dataclass(frozen=True)
class Update:
    """What one ``update`` did: ``changed`` and ``conflicted`` are paths relative to the
    project; ``nothing_new`` when the project already is at ``to_ref``."""

    source: str
    from_ref: str
    to_ref: str
    changed: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    relocked: str = "unchanged"  # unchanged | relocked | conflicted pyproject.toml | failed: ...
    # of ``conflicted``: binary files both sides changed, kept as the project's (no markers
    # can show a binary conflict, so no check fails on them: a person compares and decides)
    kept_binary: list[str] = field(default_factory=list)

    @property
    def marked(self) -> list[str]:
        """The conflicted files committed with copier's markers (the text ones)."""
        return [p for p in self.conflicted if p not in self.kept_binary]

    @property
    def nothing_new(self) -> bool:
        return not self.changed

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Update:
        return cls(**json.loads(text))


def answers_text(commit: str, src_path: str) -> str:
    """The answers file exactly as copier renders it from this template's
    ``{{_copier_conf.answers_file}}.jinja`` (a header, then ``to_nice_yaml``). The template
    commits this text, so a verbatim copy and copier's render agree byte for byte."""
    body = yaml.safe_dump({"_commit": commit, "_src_path": src_path}, sort_keys=True)
    return (
        "# Written by copier (docs/template-updates.md): where this project came from. "
        f"Do not edit.\n{body}"
    )


def read_answers(project: Path) -> Answers:
    path = project / ANSWERS
    if not path.is_file():
        raise UpdateError(
            f"{ANSWERS} not found in {project}: it records which template release this project "
            "came from, and copier update needs it (a project made from a template release "
            "has it; docs/template-updates.md says how to write it by hand)"
        )
    data = load_yaml(path.read_text()) or {}
    missing = [k for k in ("_src_path", "_commit") if not data.get(k)]
    if missing:
        raise UpdateError(f"{ANSWERS} has no {' and no '.join(missing)}")
    return Answers(str(data["_src_path"]), str(data["_commit"]))


def _rewrite_env(recorded: str, source: str) -> dict[str, str]:
    """git's environment in which a clone of ``recorded`` reads ``source`` (git-config(1):
    GIT_CONFIG_COUNT/KEY_n/VALUE_n, url.<base>.insteadOf)."""
    env = dict(os.environ)
    n = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    env[f"GIT_CONFIG_KEY_{n}"] = f"url.{source}.insteadOf"
    env[f"GIT_CONFIG_VALUE_{n}"] = recorded
    env["GIT_CONFIG_COUNT"] = str(n + 1)
    return env


def remote_refs(source: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """Tag and branch names of ``source`` -> commit (peeled tags)."""
    proc = git.run("ls-remote", "--tags", "--heads", source, env=env, check=False)
    if proc.returncode != 0:
        raise UpdateError(f"cannot read the template at {source}: {proc.stderr.strip()}")
    refs: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        sha, name = line.split("\t")
        short = name.removeprefix("refs/tags/").removeprefix("refs/heads/")
        if name.endswith("^{}"):
            refs[short[:-3]] = sha  # the commit an annotated tag points at
        else:
            refs.setdefault(short, sha)
    return refs


def newest_release(refs: dict[str, str]) -> str | None:
    """The highest ``vX[.Y[.Z]]`` tag (a release; pre-releases and other tags are not)."""

    def version(tag: str) -> tuple[int, ...]:
        m = _VERSION_TAG.match(tag)
        assert m
        return tuple(int(x or 0) for x in m.groups())

    tags = [t for t in refs if _VERSION_TAG.match(t)]
    return max(tags, key=version) if tags else None


def _status(project: Path) -> list[tuple[str, str]]:
    proc = git.run(
        "status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=project, check=False
    )
    if proc.returncode != 0:
        raise UpdateError(f"{project} is not a git working tree: {proc.stderr.strip()}")
    entries, items = [], proc.stdout.split("\0")
    i = 0
    while i < len(items):
        item = items[i]
        if not item:
            i += 1
            continue
        code, path = item[:2], item[3:]
        if code[0] in "RC":  # a rename's source follows
            i += 1
        entries.append((code, path))
        i += 1
    return entries


def has_conflict_markers(path: Path) -> bool:
    """A conflict block at the start of lines: ``<<<<<<< ``, then ``=======``, then
    ``>>>>>>> `` (copier's inline conflicts and git's merge conflicts alike). Binary and
    missing files have none."""
    try:
        lines = path.read_text().splitlines()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return False
    state = 0
    for line in lines:
        if state == 0 and line.startswith("<<<<<<< "):
            state = 1
        elif state == 1 and line == "=======":
            state = 2
        elif state == 2 and line.startswith(">>>>>>> "):
            return True
    return False


def marked_files(project: Path) -> list[str]:
    """The tracked files of ``project`` holding a conflict block (``has_conflict_markers``),
    relative to it. The project's code tier asserts there are none (tests/test_repository.py),
    so a template update's pull request fails its checks on every file committed with
    markers, whatever its language, until they are resolved."""
    proc = git.run("ls-files", "-z", cwd=project, check=False)
    if proc.returncode != 0:
        raise UpdateError(f"{project} is not a git working tree: {proc.stderr.strip()}")
    # an unmerged path is listed once per stage
    tracked = dict.fromkeys(f for f in proc.stdout.split("\0") if f)
    return [f for f in tracked if has_conflict_markers(project / f)]


def _relock(project: Path, touched: set[str], conflicted: set[str], uv: str) -> str:
    if not touched & {"uv.lock", "pyproject.toml"}:
        return "unchanged"
    if "pyproject.toml" in conflicted:
        return "conflicted pyproject.toml"
    if "uv.lock" in conflicted:  # start from the template's new lock (stage 3 of the merge)
        theirs = git.run("show", ":3:uv.lock", cwd=project, check=False)
        if theirs.returncode == 0:
            (project / "uv.lock").write_text(theirs.stdout)
    proc = subprocess.run([uv, "lock"], cwd=project, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return f"failed: {proc.stderr.strip()[-500:]}"
    git.run("add", "uv.lock", cwd=project, check=False)  # resolved: no longer an unmerged path
    return "relocked"


@dataclass(frozen=True)
class Plan:
    """What ``apply`` will do, known before copier runs: the project, where the template is
    read (``where``; git's environment ``env`` rewrites the recorded address to it), the
    release the project is at and the one it moves to."""

    project: Path
    where: str
    from_ref: str
    ref: str
    known_ref: bool  # a tag or branch of the template (else a commit SHA, checked by copier)
    env: dict[str, str] = field(repr=False)

    @property
    def nothing_new(self) -> bool:
        return self.ref == self.from_ref


def prepare(project: Path, source: str | None = None, ref: str | None = None) -> Plan:
    """Check that an update can run and resolve ``ref`` (default: the template's newest
    ``vX[.Y[.Z]]`` tag); raises ``UpdateError`` saying why it cannot."""
    project = project.resolve()
    answers = read_answers(project)
    dirty = [path for _, path in _status(project)]
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise UpdateError(
            "the working tree has uncommitted changes (" + shown + "): commit or discard them "
            "first, so the update's own changes can be told apart from yours"
        )
    recorded = answers.src_path
    if source and source != recorded and not _URL.match(recorded):
        raise UpdateError(
            f"--source cannot stand in for the recorded _src_path {recorded!r}: git rewrites "
            "URLs only (https://, ssh, git@, file://); run without --source, or record the "
            "template's URL in the answers file"
        )
    env = _rewrite_env(recorded, source) if source and source != recorded else dict(os.environ)
    where = source or recorded
    refs = remote_refs(recorded, env)
    if ref is None:
        ref = newest_release(refs)
        if ref is None:
            raise UpdateError(f"the template at {where} has no release tag (vX.Y.Z): pass a ref")
    elif ref not in refs and not _HEX.match(ref):
        raise UpdateError(
            f"unknown ref {ref!r}: the template at {where} has no such tag or branch "
            "(a commit is given by its hexadecimal SHA)"
        )
    if ref in refs and refs.get(answers.commit) == refs[ref]:
        ref = answers.commit  # another name of the release the project is at
    return Plan(project, where, answers.commit, ref, ref in refs, env)


def apply(plan: Plan, uv: str = "uv") -> Update:
    """Apply ``plan`` with ``copier update``; what changed and what conflicts."""
    if plan.nothing_new:
        return Update(plan.where, plan.from_ref, plan.ref)
    project, ref, where = plan.project, plan.ref, plan.where
    with tempfile.TemporaryDirectory(prefix="copier-") as home:
        # copier's own settings file and cache are not the project's business
        proc = subprocess.run(
            [
                *_copier(),
                "update",
                "--defaults",
                "--skip-answered",
                "--conflict",
                "inline",
                "--vcs-ref",
                ref,
                "--answers-file",
                ANSWERS,
                str(project),
            ],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
            env={**plan.env, "COPIER_SETTINGS_PATH": str(Path(home) / "settings.yml")},
        )
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        if not plan.known_ref and ("did not match" in output or "unknown revision" in output):
            raise UpdateError(f"unknown ref {ref!r}: no such commit in the template at {where}")
        raise UpdateError(f"copier update failed:\n{output[-3000:]}")
    entries = _status(project)
    binary_kept = _keep_binary_changes(plan, {path for _, path in entries})
    entries = _status(project)
    changed = sorted({path for _, path in entries})
    unmerged = {path for code, path in entries if "U" in code or code in ("AA", "DD")}
    conflicted = {p for p in changed if p in unmerged or has_conflict_markers(project / p)}
    conflicted |= binary_kept
    relocked = _relock(project, set(changed), conflicted, uv)
    if relocked == "relocked":
        conflicted.discard("uv.lock")
        changed = sorted({path for _, path in _status(project)})
    to_ref = read_answers(project).commit
    kept = sorted(binary_kept & set(conflicted))
    return Update(where, plan.from_ref, to_ref, changed, sorted(conflicted), relocked, kept)


def _keep_binary_changes(plan: Plan, touched: set[str]) -> set[str]:
    """Put back the project's version of every binary file the project had changed and
    copier replaced; of those, the paths the template changed too (kept as the project's,
    a conflict for a person to decide: no markers can show it).

    copier 9.19 re-applies the project's own changes as a text diff (``git diff-tree``
    without ``--binary``, copier/_main.py ``_apply_update``), which cannot carry a binary
    file: a PNG or a data file the team changed (a committed figure after ``make run``)
    silently took the release's version. Text files are unaffected, and a binary file only
    the template changed takes the template's version, as it should."""
    numstat = git.run(
        "diff", "--numstat", "-z", "HEAD", "--", *sorted(touched), cwd=plan.project, check=False
    )
    binary = [
        line.split("\t", 2)[2]
        for line in numstat.stdout.split("\0")
        if line.startswith("-\t-\t") and line.split("\t", 2)[2]
    ]
    if not binary:
        return set()
    with tempfile.TemporaryDirectory(prefix="template-") as tmp:
        clone = git.run("clone", "-q", "--bare", plan.where, tmp, env=plan.env, check=False)
        if clone.returncode != 0:
            raise UpdateError(f"cannot read the template at {plan.where}: {clone.stderr.strip()}")

        def blob(cwd: Path, rev: str, path: str) -> str | None:
            proc = git.run("rev-parse", "-q", "--verify", f"{rev}:{path}", cwd=cwd, check=False)
            return proc.stdout.strip() if proc.returncode == 0 else None

        ours = [
            p
            for p in binary
            if blob(plan.project, "HEAD", p) not in (None, blob(Path(tmp), plan.from_ref, p))
        ]
        theirs = {
            p for p in ours if blob(Path(tmp), plan.from_ref, p) != blob(Path(tmp), plan.ref, p)
        }
    if ours:
        restored = git.run("checkout", "HEAD", "--", *ours, cwd=plan.project, check=False)
        if restored.returncode != 0:
            raise UpdateError(f"cannot restore {ours}: {restored.stderr.strip()}")
    return theirs


def update(
    project: Path, source: str | None = None, ref: str | None = None, uv: str = "uv"
) -> Update:
    """``prepare`` then ``apply``: the release ``ref`` of the template (default: its newest
    release tag) in ``project``'s working tree."""
    return apply(prepare(project, source, ref), uv)


def _copier() -> list[str]:
    """copier from this environment (the dev group of uv.lock)."""
    import sys

    return [sys.executable, "-m", "copier"]


def describe(u: Update) -> list[str]:
    """What a person reads in the terminal after ``make update-template``."""
    if u.nothing_new:
        return [f"template: already at {u.to_ref} ({u.source}): nothing to update"]
    lines = [
        f"template: {u.from_ref} -> {u.to_ref} ({u.source}), applied to the working tree "
        "(nothing committed)",
        f"changed ({len(u.changed)}):",
        *(f"  {p}" for p in u.changed),
    ]
    if u.conflicted:
        lines += [f"conflicts ({len(u.conflicted)}): both the template and this project changed"]
    if u.marked:
        lines += [
            "these lines; resolve the marked blocks (<<<<<<< before updating ... >>>>>>> "
            "after updating), then commit:",
            *(f"  {p}" for p in u.marked),
        ]
    if u.kept_binary:
        lines += [
            "these binary files, kept as this project's (no markers can show them): compare "
            "with the template's version and keep one, then commit:",
            *(f"  {p}" for p in u.kept_binary),
        ]
    if u.relocked == "relocked":
        lines.append("uv.lock: re-locked against the merged pyproject.toml (uv lock)")
    elif u.relocked != "unchanged":
        lines.append(
            f"uv.lock: not re-locked ({u.relocked}); resolve pyproject.toml, then run uv lock"
        )
    return lines


def pr_body(u: Update, listed: int = 200) -> str:
    """The pull request's body: the version range, the changed and the conflicted files."""

    def paths(items: Sequence[str]) -> list[str]:
        shown = [f"- `{p}`" for p in items[:listed]]
        if len(items) > listed:
            shown.append(f"- … and {len(items) - listed} more (see the diff)")
        return shown

    lines = [
        f"# Template update: {u.from_ref} → {u.to_ref}",
        "",
        f"The template at `{u.source}` moved from **{u.from_ref}** to **{u.to_ref}**: "
        "`copier update` applied the difference between the two releases to this project as "
        "a 3-way merge (docs/template-updates.md). What this project changed and the template "
        "did not is kept; what only the template changed is taken. The checks of this pull "
        "request (tests, reproduction, the quality gate, the report) judge the result like "
        "any other change: an engine change that moves the model is gated like a model change.",
        "",
    ]
    if u.marked:
        lines += [
            "> [!WARNING]",
            f"> **{len(u.marked)} file(s) with conflicts.** Both the template and this "
            "project changed the same lines. They are committed with copier's conflict markers "
            "(`<<<<<<< before updating` … `>>>>>>> after updating`), so this pull request's "
            "checks fail on them (the unit tests look for markers in every tracked file) "
            "until someone resolves them on this branch:",
            "",
            *paths(u.marked),
            "",
        ]
    if u.kept_binary:
        lines += [
            f"Both also changed {len(u.kept_binary)} binary file(s), which no markers can "
            "show: each is kept as this project's version and fails no check. Compare it "
            "with the template's and keep one:",
            "",
            *paths(u.kept_binary),
            "",
        ]
    if u.relocked == "relocked":
        lines += ["`uv.lock` was re-locked against the merged `pyproject.toml` (`uv lock`).", ""]
    elif u.relocked != "unchanged":
        lines += [
            f"`uv.lock` was not re-locked ({u.relocked}): resolve `pyproject.toml`, then run "
            "`uv lock` and commit it.",
            "",
        ]
    lines += [f"## Changed files ({len(u.changed)})", "", *paths(u.changed), ""]
    return "\n".join(lines)


def proposal_key(plan: Plan, base_commit: str) -> str:
    """Same template, same releases, same base: the same key, so a re-run pushes nothing
    (and, its PR being open, does not even run copier again)."""
    basis = f"{plan.where}|{plan.from_ref}|{plan.ref}|{base_commit}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]
