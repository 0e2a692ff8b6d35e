"""`medpay serve SERVICE --workers N`: N server processes sharing the service's ports with SO_REUSEPORT.

All or nothing: the ports are probed first (a port another process holds, even with SO_REUSEPORT, is refused),
then every worker must report that both its doors listen (the gRPC port and, for collection, the HTTP port)
within ``READY_SECONDS``; otherwise the started ones are stopped and the command fails with the reason. Once
serving, a worker that dies takes the others down with it (the exit status says so), so an orchestrator restarts
the whole set instead of serving on with fewer workers than asked.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

READY_FD = "MEDPAY_WORKER_READY_FD"
READY_SECONDS = 120.0


def run_workers(service: str, address: str, workers: int, other_addresses: Sequence[str] = ()) -> int:
    for where in (address, *other_addresses):
        problem = _probe(where)
        if problem:
            print(f"medpay: --workers {workers}: {problem}", file=sys.stderr)
            return 2
    children: list[subprocess.Popen[bytes]] = []
    readers: dict[int, int] = {}
    stopping = False

    def forward(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for _ in range(workers):
        read_end, write_end = os.pipe()
        cmd = [sys.executable, "-m", "services.cli", "serve", service, "--address", address, "--reuse-port"]
        child = subprocess.Popen(cmd, env={**os.environ, READY_FD: str(write_end)}, pass_fds=(write_end,))
        os.close(write_end)
        children.append(child)
        readers[read_end] = len(children) - 1
    failure = _await_ready(children, readers, workers)
    if failure:
        print(f"medpay: --workers {workers}: {failure}; stopping the others", file=sys.stderr)
        _stop(children)
        return 2
    print(f"medpay {service}: {workers} workers serving on {', '.join((address, *other_addresses))}",
          file=sys.stderr, flush=True)
    while True:
        for i, child in enumerate(children):
            code = child.poll()
            if code is not None:
                if not stopping:
                    print(f"medpay: worker {i + 1} exited ({code}); stopping the others", file=sys.stderr)
                    _stop(children)
                    return code or 1
                return max(c.wait() for c in children)
        time.sleep(0.2)


def report_ready() -> None:
    """Called by a worker once all its doors listen."""
    fd = os.environ.pop(READY_FD, None)
    if fd is not None:
        os.write(int(fd), b"ready\n")
        os.close(int(fd))


def _await_ready(children: list[subprocess.Popen[bytes]], readers: dict[int, int], workers: int) -> str:
    deadline = time.monotonic() + READY_SECONDS
    pending = dict(readers)
    while pending:
        for child_index, child in enumerate(children):
            if child.poll() is not None and child_index in pending.values():
                _close_all(pending)
                return f"worker {child_index + 1} exited ({child.returncode}) before serving"
        left = deadline - time.monotonic()
        if left <= 0:
            _close_all(pending)
            return f"{len(pending)} of {workers} workers not serving after {READY_SECONDS:g} s"
        ready, _, _ = select.select(list(pending), [], [], min(left, 0.5))
        for fd in ready:
            message = os.read(fd, 64)
            index = pending.pop(fd)
            os.close(fd)
            if message != b"ready\n":
                _close_all(pending)
                return f"worker {index + 1} stopped before serving"
    return ""


def _close_all(pending: dict[int, int]) -> None:
    for fd in pending:
        os.close(fd)
    pending.clear()


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _probe(address: str) -> str:
    """Why ``address`` cannot be shared by the workers, or "" when it can."""
    if not hasattr(socket, "SO_REUSEPORT"):
        return "SO_REUSEPORT is not available on this platform"
    host, _, port = address.rpartition(":")
    if not port.isdigit() or int(port) == 0:
        return f"a fixed port is needed, not {address}"
    host = host.strip("[]") or "0.0.0.0"
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free
        try:
            probe.bind((host, int(port)))
        except OSError as busy:
            return f"cannot listen on {address}: {busy.strerror}"
    return ""
