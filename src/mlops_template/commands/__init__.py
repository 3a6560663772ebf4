"""The ``mlops`` sub-commands, one module per event that runs them (``stages`` for DVC,
``pull_request``, ``merge``, ``nightly`` for the three workflows, ``own_data`` for a person).

Each module registers its commands with ``@command``; ``mlops_template.cli`` imports them
all and builds the parser. A command parses its arguments, loads inputs, calls the concern
packages with typed values (never an ``argparse.Namespace``) and writes outputs: paths come
from the command line (decided by ``dvc.yaml``), knobs from ``params.yaml``.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from mlops_template.config import Params

log = logging.getLogger("mlops")

Command = Callable[[argparse.Namespace, Params], int]
COMMANDS: dict[str, tuple[Command, str, Callable[[argparse.ArgumentParser], None]]] = {}


def command(name: str, help: str, args: Callable[[argparse.ArgumentParser], None]):
    def register(fn: Command) -> Command:
        COMMANDS[name] = (fn, help, args)
        return fn

    return register
