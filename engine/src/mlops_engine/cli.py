"""The ``mlops`` console script: one subcommand per pipeline stage and per workflow step.

The commands live in ``mlops_engine.commands``, one module per event that runs them
(stages, pull_request, merge, nightly, own_data, dependencies, template); this module
builds the parser, configures logging once and maps failures to exit codes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from mlops_engine.commands import (  # noqa: F401 (each module registers its commands)
    COMMANDS,
    dependencies,
    merge,
    nightly,
    own_data,
    pull_request,
    stages,
    template,
)
from mlops_engine.config import ConfigError, load_params
from mlops_engine.credentials import export_google_key
from mlops_engine.onboarding.infer_contract import InitError

log = logging.getLogger("mlops")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops", description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml", help="path to params.yaml")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups = [
        "stages",
        "pull_request",
        "merge",
        "nightly",
        "own_data",
        "dependencies",
        "template",
    ]  # `mlops --help` in workflow order
    ordered = sorted(
        COMMANDS.items(), key=lambda kv: groups.index(kv[1][0].__module__.rsplit(".", 1)[1])
    )
    for name, (_, help_text, add_args) in ordered:
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    start = time.perf_counter()
    try:
        export_google_key()  # GCS: the secret's JSON text -> the file path Google reads
        params = load_params(args.params)
        code = COMMANDS[args.command][0](args, params)
    except ConfigError as err:
        log.error("%s", err)
        return 2
    except InitError as err:
        log.error("init: %s", err)
        return 2
    except (ValueError, KeyError, FileNotFoundError, OSError, RuntimeError) as err:
        log.error("%s failed: %s", args.command, err)
        return 1
    log.info("%s: done in %.1fs", args.command, time.perf_counter() - start)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
