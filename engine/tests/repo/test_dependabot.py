""".github/dependabot.yml against Dependabot's documented options, as strictly as the service
reads it: GitHub rejects the whole file (and opens no PR at all) on an unknown key, a wrong
value or a missing required key, and says so only on the repository's Dependabot tab.

Source: "Dependabot options reference",
https://docs.github.com/en/code-security/reference/supply-chain-security/dependabot-options-reference
(read 2026-12-06): required keys `version` (always 2), `updates`, and per entry
`package-ecosystem`, `directory` or `directories`, `schedule.interval`; the option tables for
`schedule` (interval daily|weekly|monthly|quarterly|semiannually|yearly|cron, `cronjob` only
and always with cron, `day` only with weekly), `groups` (a group needs `patterns` or
`dependency-type`; update-types major|minor|patch; applies-to version-updates|security-updates;
group names start and end with a letter and hold letters, digits, `|`, `_` and `-`) and
`cooldown` (1..90 days), `ignore` (conditions of `dependency-name`, optional `versions`
and `update-types` version-update:semver-major|minor|patch)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.project import ROOT

DEPENDABOT = ROOT / ".github" / "dependabot.yml"

TOP_LEVEL = {"version", "updates", "registries", "multi-ecosystem-groups", "enable-beta-ecosystems"}
ECOSYSTEMS = {
    "bazel", "bun", "bundler", "cargo", "composer", "conda", "devcontainers", "docker",
    "docker-compose", "dotnet-sdk", "elm", "github-actions", "gitsubmodule", "gomod", "gradle",
    "helm", "julia", "maven", "mix", "npm", "nuget", "opentofu", "pip", "pre-commit", "pub",
    "rust-toolchain", "swift", "terraform", "uv", "vcpkg",
}  # fmt: skip
UPDATE_KEYS = {
    "package-ecosystem", "directory", "directories", "schedule", "allow", "assignees",
    "commit-message", "cooldown", "exclude-paths", "groups", "ignore",
    "insecure-external-code-execution", "labels", "milestone", "multi-ecosystem-group",
    "open-pull-requests-limit", "patterns", "pull-request-branch-name", "rebase-strategy",
    "registries", "reviewers", "target-branch", "vendor", "versioning-strategy",
}  # fmt: skip
INTERVALS = {"daily", "weekly", "monthly", "quarterly", "semiannually", "yearly", "cron"}
DAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
SCHEDULE_KEYS = {"interval", "day", "time", "timezone", "cronjob"}
GROUP_KEYS = {
    "applies-to", "dependency-type", "patterns", "exclude-patterns", "update-types", "group-by",
}  # fmt: skip
IGNORE_KEYS = {"dependency-name", "versions", "update-types"}
IGNORE_TYPES = {f"version-update:semver-{t}" for t in ("major", "minor", "patch")}
COOLDOWN_DAYS = {"default-days", "semver-major-days", "semver-minor-days", "semver-patch-days"}
GROUP_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9|_-]*[A-Za-z])?$")


def problems(doc: object) -> list[str]:
    """Every way ``doc`` (a parsed dependabot.yml) breaks the options reference."""
    if not isinstance(doc, dict):
        return ["the file is not a mapping"]
    found = [f"unknown top-level key {k!r}" for k in doc if k not in TOP_LEVEL]
    if doc.get("version") != 2:
        found.append(f"version must be 2, not {doc.get('version')!r}")
    updates = doc.get("updates")
    if not isinstance(updates, list) or not updates:
        return [*found, "updates must be a non-empty list"]
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(updates):
        where = f"updates[{i}]"
        if not isinstance(entry, dict):
            found.append(f"{where} is not a mapping")
            continue
        eco = entry.get("package-ecosystem")
        where = f"updates[{i}] ({eco})"
        found += [f"{where}: unknown key {k!r}" for k in entry if k not in UPDATE_KEYS]
        if eco not in ECOSYSTEMS:
            found.append(f"{where}: package-ecosystem {eco!r} is not one Dependabot knows")
        has_dir, has_dirs = "directory" in entry, "directories" in entry
        if has_dir == has_dirs:
            found.append(f"{where}: needs exactly one of directory or directories")
        for d in [entry.get("directory")] if has_dir else entry.get("directories") or []:
            if not isinstance(d, str) or not d.startswith("/"):
                found.append(f"{where}: directory {d!r} must be a path from the root ('/')")
            elif (eco, d) in seen:
                found.append(f"{where}: a second entry for {eco} in {d}")
            else:
                seen.add((eco, d))
        found += _schedule(where, entry.get("schedule"))
        found += _groups(where, entry.get("groups", {}))
        found += _cooldown(where, entry.get("cooldown", {}))
        found += _ignore(where, entry.get("ignore", []))
    return found


def _ignore(where: str, ignore: object) -> list[str]:
    """`ignore`: a list of conditions, each with `dependency-name` and optionally `versions`
    (a list of ranges in the package manager's syntax) and `update-types`
    (version-update:semver-major|minor|patch)."""
    if not isinstance(ignore, list):
        return [f"{where}: ignore must be a list of conditions"]
    found = []
    for j, cond in enumerate(ignore):
        at = f"{where} ignore[{j}]"
        if not isinstance(cond, dict) or not isinstance(cond.get("dependency-name"), str):
            found.append(f"{at}: needs dependency-name")
            continue
        found += [f"{at}: unknown key {k!r}" for k in cond if k not in IGNORE_KEYS]
        for key in ("versions", "update-types"):
            value = cond.get(key, [])
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                found.append(f"{at}: {key} must be a list of strings")
        bad = set(cond.get("update-types") or []) - IGNORE_TYPES
        if bad:
            found.append(f"{at}: update-types {sorted(bad)} ({', '.join(sorted(IGNORE_TYPES))})")
    return found


def _schedule(where: str, schedule: object) -> list[str]:
    if not isinstance(schedule, dict) or "interval" not in schedule:
        return [f"{where}: schedule.interval is required"]
    found = [f"{where}: unknown schedule key {k!r}" for k in schedule if k not in SCHEDULE_KEYS]
    interval = schedule["interval"]
    if interval not in INTERVALS:
        found.append(f"{where}: schedule.interval {interval!r} is not one of {sorted(INTERVALS)}")
    if (interval == "cron") != ("cronjob" in schedule):
        found.append(f"{where}: schedule.cronjob goes with interval cron, and only with it")
    if "day" in schedule and (interval != "weekly" or schedule["day"] not in DAYS):
        found.append(f"{where}: schedule.day {schedule['day']!r} needs interval weekly")
    time = schedule.get("time")
    if time is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(time)):
        found.append(f"{where}: schedule.time {time!r} is not hh:mm")
    return found


def _groups(where: str, groups: object) -> list[str]:
    if not isinstance(groups, dict):
        return [f"{where}: groups must be a mapping of group names"]
    found = []
    for name, group in groups.items():
        at = f"{where} group {name!r}"
        if not GROUP_NAME.match(str(name)):
            found.append(f"{at}: a group name starts and ends with a letter")
        if not isinstance(group, dict):
            found.append(f"{at}: not a mapping")
            continue
        found += [f"{at}: unknown key {k!r}" for k in group if k not in GROUP_KEYS]
        if "patterns" not in group and "dependency-type" not in group:
            found.append(f"{at}: needs patterns or dependency-type")
        for key in ("patterns", "exclude-patterns", "update-types"):
            if key in group and not (
                isinstance(group[key], list) and all(isinstance(p, str) for p in group[key])
            ):
                found.append(f"{at}: {key} must be a list of strings")
        bad_types = set(group.get("update-types") or []) - {"major", "minor", "patch"}
        if bad_types:
            found.append(f"{at}: update-types {sorted(bad_types)} (major, minor, patch)")
        if group.get("applies-to", "version-updates") not in {
            "version-updates",
            "security-updates",
        }:
            found.append(f"{at}: applies-to {group['applies-to']!r}")
        if group.get("dependency-type", "production") not in {"production", "development"}:
            found.append(f"{at}: dependency-type {group['dependency-type']!r}")
        if group.get("group-by", "dependency-name") != "dependency-name":
            found.append(f"{at}: group-by {group['group-by']!r}")
    return found


def _cooldown(where: str, cooldown: object) -> list[str]:
    if not isinstance(cooldown, dict):
        return [f"{where}: cooldown must be a mapping"]
    found = []
    for key, value in cooldown.items():
        if key in ("include", "exclude"):
            continue
        if key not in COOLDOWN_DAYS:
            found.append(f"{where}: unknown cooldown key {key!r}")
        elif not (isinstance(value, int) and 1 <= value <= 90):
            found.append(f"{where}: cooldown {key} {value!r} is not 1..90 days")
    return found


def _load(path: Path) -> object:
    return yaml.safe_load(path.read_text())


def test_the_committed_file_follows_the_options_reference():
    assert problems(_load(DEPENDABOT)) == []


def test_actions_and_uv_update_weekly_in_groups():
    """Few PRs a week: both ecosystems weekly, each with a group over every dependency."""
    doc = _load(DEPENDABOT)
    by_eco = {u["package-ecosystem"]: u for u in doc["updates"]}
    assert set(by_eco) == {"github-actions", "uv"}
    for eco, entry in by_eco.items():
        assert entry["directory"] == "/", eco
        assert entry["schedule"]["interval"] == "weekly", eco
        assert any(g.get("patterns") == ["*"] for g in entry["groups"].values()), eco


def _caps() -> dict[str, str]:
    """The project's and the engine's dependencies with an upper cap `<X`: name -> X."""
    reqs = []
    for pyproject in (ROOT / "pyproject.toml", ROOT / "engine" / "pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        reqs += [*project["dependencies"]]
        reqs += [r for extra in project["optional-dependencies"].values() for r in extra]
    caps = {}
    for req in reqs:
        m = re.match(r"^([A-Za-z0-9._-]+)[^;]*?,?\s*<\s*([0-9][^,;\s]*)", req)
        if m and "<=" not in req:
            caps[m.group(1).lower()] = m.group(2)
    return caps


def test_the_uv_updates_ignore_what_pyproject_caps():
    """A capped requirement (pandas<3.1: evidently 0.7.23 cannot import pandas 3.1) is a
    release the lock cannot take: Dependabot's uv updater would widen the cap and carry the
    release in the weekly minor-and-patch group, red for the whole group. Each cap has an
    ignore condition `>=X` for that package."""
    caps = _caps()
    assert caps.get("pandas") == "3.1", "pyproject caps pandas below 3.1"
    (uv,) = [u for u in _load(DEPENDABOT)["updates"] if u["package-ecosystem"] == "uv"]
    ignored = {c["dependency-name"].lower(): c.get("versions", []) for c in uv.get("ignore", [])}
    for name, cap in caps.items():
        assert f">={cap}" in ignored.get(name, []), f"{name}: ignore versions >={cap}"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(version="2"), "version must be 2"),
        (lambda d: d.pop("updates"), "updates must be a non-empty list"),
        (lambda d: d.update(update=[]), "unknown top-level key 'update'"),
        (lambda d: d["updates"][1].update({"package-ecosystem": "poetry"}), "'poetry' is not"),
        (lambda d: d["updates"][0].pop("directory"), "exactly one of directory"),
        (lambda d: d["updates"][0].update(directories=["/"]), "exactly one of directory"),
        (lambda d: d["updates"][0].update(directory="."), "must be a path from the root"),
        (lambda d: d["updates"][1].update({"package-ecosystem": "github-actions"}), "second"),
        (lambda d: d["updates"][0]["schedule"].pop("interval"), "schedule.interval is required"),
        (lambda d: d["updates"][0]["schedule"].update(interval="fortnightly"), "fortnightly"),
        (lambda d: d["updates"][0]["schedule"].update(interval="cron"), "cronjob goes with"),
        (lambda d: d["updates"][0]["schedule"].update(interval="daily"), "needs interval weekly"),
        (lambda d: d["updates"][0]["schedule"].update(time="9am"), "is not hh:mm"),
        (lambda d: d["updates"][0].update(schedules={}), "unknown key 'schedules'"),
        (lambda d: d["updates"][0]["groups"]["actions"].pop("patterns"), "needs patterns or"),
        (lambda d: d["updates"][0]["groups"].update({"1st": {"patterns": ["*"]}}), "a letter"),
        (lambda d: d["updates"][0]["groups"]["actions"].update(pattern=["*"]), "'pattern'"),
        (
            lambda d: d["updates"][1]["groups"]["python-minor-and-patch"].update(
                {"update-types": ["version-update:semver-minor"]}
            ),
            "update-types ['version-update:semver-minor']",
        ),
        (
            lambda d: d["updates"][1]["groups"]["python-minor-and-patch"].update(
                {"applies-to": "all"}
            ),
            "applies-to 'all'",
        ),
        (lambda d: d["updates"][0]["cooldown"].update({"default-days": 120}), "not 1..90"),
        (lambda d: d["updates"][1]["ignore"][0].pop("dependency-name"), "needs dependency-name"),
        (lambda d: d["updates"][1]["ignore"][0].update(versions=">=3.1"), "versions must be"),
        (
            lambda d: d["updates"][1]["ignore"][0].update({"update-types": ["minor"]}),
            "update-types ['minor'] (version-update:",
        ),
        (lambda d: d["updates"][1]["ignore"][0].update(version=[">=3.1"]), "key 'version'"),
    ],
)
def test_the_check_rejects_what_dependabot_rejects(edit, message):
    doc = _load(DEPENDABOT)
    edit(doc)
    assert any(message in p for p in problems(doc)), problems(doc)
