"""The Makefile's plain rules, as the tests read them: which targets a target needs and what
their recipes run."""

from __future__ import annotations

import re

Rules = dict[str, tuple[list[str], list[str]]]


def make_rules(text: str) -> Rules:
    """target -> (prerequisites, recipe lines), for the `name: prereqs` rules (variables and
    the order-only `|` left out of the prerequisites)."""
    rules: Rules = {}
    current = None
    for line in text.splitlines():
        rule = re.match(r"^([\w-]+):(?!=)\s*([^#]*)", line)
        if rule and not line.startswith("\t"):
            current = rule.group(1)
            prereqs = [p for p in rule.group(2).split() if not p.startswith(("$", "|"))]
            rules[current] = (prereqs, [])
        elif line.startswith("\t") and current:
            rules[current][1].append(line)
        elif line.strip() and not line.startswith("\t"):
            current = None
    return rules


def needed(rules: Rules, target: str) -> set[str]:
    """``target`` and every target it depends on, directly or not."""
    found, todo = set(), [target]
    while todo:
        name = todo.pop()
        if name not in found and name in rules:
            found.add(name)
            todo.extend(rules[name][0])
    return found
