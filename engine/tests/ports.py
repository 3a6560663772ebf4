"""Loopback ports for the servers the tests start (moto, the BentoML server, the image).

A port from ``bind(0)`` lies in Linux's ephemeral range, where every outgoing connection
also takes its local port: under xdist, with act jobs, moto and bentoml all connecting,
one was taken by another process between this check and the server's own bind, and the
readiness probe talked to a stranger. Ports below that range are only ever taken by
a bind, so the gap is between the suite's own servers, each starting its search at a
different place (process id and a random offset).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    """A loopback port that nothing listens on now, below the ephemeral range."""
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    first = max(1024, low - 12000)  # the 12,000 ports just below it (20768-32767 by default)
    span = low - first
    if span < 1000:  # a host whose whole range is ephemeral: no port is safe from the race
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    start = (os.getpid() * 7919 + int.from_bytes(os.urandom(2))) % span
    for i in range(span):
        port = first + (start + i) % span
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")
