"""Run a doc's commands for real, in order, the way a reader would type them.

A `Walk` is one reader in a throwaway directory: it keeps the current directory across
commands (`cd`), runs each command with bash, and fails with the command's output when it
exits with a code the docs do not allow. What cannot exist on this machine is named, never
hidden:

- `substitutions`: the docs' placeholders (a GitHub URL, an S3 bucket, "your data") and the
  local thing each test puts in their place; every one must occur in the docs.
- stand-ins on PATH for `gh` and `kubectl` (tests/workflows/standins/bin).
- `covered`: commands run elsewhere, with where (e.g. `make test` is what `.ci/run` runs);
  `skip(block, reason)` does the same for a whole block.
- `servers`: commands that serve until stopped; they run in the background until the end
  of their block, and the next commands talk to them. The docs' port is fixed (3000), so a
  server holds a lock on it while it runs: walks in parallel test workers take turns.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.docs.snippets import Command
from tests.project import BIN, ROOT, env, stop_group
from tests.workflows.act import uv_bin_dir

STANDINS = ROOT / "engine" / "tests" / "workflows" / "standins" / "bin"


@dataclass
class Ran:
    command: str
    returncode: int
    output: str
    errors: str = ""


@dataclass
class Walk:
    cwd: Path
    state: Path
    substitutions: dict[str, str] = field(default_factory=dict)
    exits: dict[str, set[int]] = field(default_factory=dict)
    covered: dict[str, str] = field(default_factory=dict)
    servers: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    ran: dict[str, Ran] = field(default_factory=dict)
    skipped: list[tuple[list[Command], str]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        base = env()
        base.pop("VIRTUAL_ENV", None)
        path = [p for p in base["PATH"].split(os.pathsep) if p != str(BIN)]
        return {
            **base,
            "PATH": os.pathsep.join([str(STANDINS), uv_bin_dir(), *path]),
            "STANDIN_GH_STATE": str(self.state / "gh"),
            # the reader's origin is github.com/you/your-project; here it is a local path,
            # so tell gh (like the real one, the stand-in finds the repository on github.com)
            "GH_REPO": "you/your-project",
            "STANDIN_KUBERNETES_VALIDATE": str(BIN / "kubernetes-validate"),
            "BENTOML_HOME": str(self.state / "bentoml"),  # never the user's ~/bentoml
            **self.extra_env,
        }

    def expand(self, text: str) -> str:
        for placeholder, local in self.substitutions.items():
            text = text.replace(placeholder, local)
        return text

    def block(self, commands: list[Command]) -> None:
        """Run one ```sh block; servers it starts are stopped at its end."""
        started: list[subprocess.Popen] = []
        try:
            for command in commands:
                if command.text in self.covered:
                    continue
                if command.text in self.servers:
                    started.append(self._serve(command))
                else:
                    self._run(command)
        finally:
            for server in started:
                self._stop(server)

    def skip(self, commands: list[Command], reason: str) -> None:
        """A whole block run elsewhere (say where); it still counts for `missed`."""
        self.skipped.append((commands, reason))

    def _run(self, command: Command) -> None:
        text = self.expand(command.text)
        if text.startswith("cd "):
            self.cwd = (self.cwd / text[3:].strip()).resolve()
            assert self.cwd.is_dir(), f"{command.doc}: `{command.text}`: no such directory"
            self.ran[command.text] = Ran(text, 0, "")
            return
        started = time.monotonic()
        proc = subprocess.run(
            ["bash", "-c", text],
            cwd=self.cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        output = proc.stdout + proc.stderr
        allowed = self.exits.get(command.text, {0})
        assert proc.returncode in allowed, (
            f"{command.doc}: `{command.text}` exited {proc.returncode}\n{output[-6000:]}"
        )
        self.ran[command.text] = Ran(text, proc.returncode, proc.stdout, proc.stderr)
        if os.environ.get("WALK_LOG"):  # where a walkthrough's time goes
            with open(os.environ["WALK_LOG"], "a") as log:
                log.write(f"{time.monotonic() - started:7.1f} s  {command.doc}: {text}\n")

    def _serve(self, command: Command) -> subprocess.Popen:
        lock_path = Path(tempfile.gettempdir()) / "mlops-template-docs-port.lock"
        port_lock = lock_path.open("w")
        fcntl.flock(port_lock, fcntl.LOCK_EX)  # released when the server is stopped
        log = (self.state / "server.log").open("w")
        server = subprocess.Popen(
            ["bash", "-c", "exec " + self.expand(command.text)],
            cwd=self.cwd,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server.port_lock = port_lock  # type: ignore[attr-defined]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if server.poll() is not None:
                port_lock.close()
                raise AssertionError((self.state / "server.log").read_text()[-6000:])
            try:
                with urllib.request.urlopen(self.servers[command.text], timeout=2) as answer:
                    if answer.status == 200:
                        self.ran[command.text] = Ran(command.text, 0, "")
                        return server
            except OSError:
                time.sleep(1)
        self._stop(server)
        raise AssertionError(f"{command.text} was not ready in 300 s")

    def _stop(self, server: subprocess.Popen) -> None:
        try:
            stop_group(server)
        finally:
            server.port_lock.close()  # type: ignore[attr-defined]

    def missed(self, blocks: list[list[Command]]) -> list[str]:
        """Commands of these blocks neither run nor declared covered or skipped."""
        skipped = {c.text for block, _ in self.skipped for c in block}
        return [
            c.text
            for block in blocks
            for c in block
            if c.text not in self.ran and c.text not in self.covered and c.text not in skipped
        ]
