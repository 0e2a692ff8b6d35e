"""The `medpay` command as an operator runs it: a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from libs.common.runtime import Runtime

from ..support import ROOT


def medpay(*args: str, env: dict[str, str], cwd: Path = ROOT, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "services.cli", *args], input=stdin, capture_output=True,
                          cwd=cwd, env={**os.environ, **env}, timeout=120, check=False)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


async def test_validate_prints_one_line_per_code(runtime: Runtime, database_url: str, coding_server: object) -> None:
    env = {"MEDPAY_DATABASE_URL": database_url, "MEDPAY_REFERENCE_DIR": str(runtime.reference_dir)}
    out = medpay("coding", "validate", "H33070300089", "XA01ABD075A002010100483", "I21.000x005", "36.0600",
                 "Q99.999", "X1", env=env)
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [
        ("H33070300089", "VALID"), ("XA01ABD075A002010100483", "VALID"), ("I21.000x005", "VALID"),
        ("36.0600", "VALID"), ("Q99.999", "UNKNOWN"), ("X1", "MALFORMED")]
    assert all(r[2] for r in rows)


def test_missing_reference_dir_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    out = medpay("grouping", "batch", "--scheme", "medpay-sample", "--cases", "-",
                 env={"MEDPAY_REFERENCE_DIR": str(tmp_path / "nowhere")})
    assert out.returncode == 2
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_batch_survives_malformed_lines_in_input_order(tmp_path: Path) -> None:
    lines = b'{"id": "a", "sex": 1, "age_years": 60, "dx": ["I21.001"], "px": ["36.0600"]}\n' \
            b'{broken\n' \
            b'{"id": "c", "sex": "x", "dx": ["I21.001"]}\n' \
            b'{"id": "d", "sex": 2, "age_years": 30, "dx": ["K35.800"], "px": []}\n'
    out = medpay("grouping", "batch", "--scheme", "medpay-sample", "--cases", "-",
                 env={"MEDPAY_REFERENCE_DIR": str(ROOT / "libs/reference_sample")}, stdin=lines)
    assert out.returncode == 0, out.stderr
    import json
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "line 2", "c", "d"]
    assert [r["status"] for r in rows] == ["GROUPED", "INVALID_INPUT", "INVALID_INPUT", "GROUPED"]
    assert rows[0]["drg"].startswith("FM1") and rows[3]["drg"].startswith("GZ1")


def test_serve_with_workers_shares_one_port_and_stops_on_sigterm(database_url: str) -> None:
    import signal
    import socket
    import time

    import grpc
    from medpay.grouping.v1 import grouping_service_pb2 as pb
    from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MEDPAY_REFERENCE_DIR": str(ROOT / "libs/reference_sample"), "MEDPAY_LOG_LEVEL": "WARNING",
           "MEDPAY_DATABASE_URL": database_url}  # DIP catalogue versions live there
    parent = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "grouping", "--workers", "2",
                               "--address", f"127.0.0.1:{port}"], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert parent.stderr is not None
        said = ""
        while "2 workers serving" not in said:  # both workers report ready (each starts with its database)
            line = parent.stderr.readline()
            assert line, f"the parent ended before its workers served: {said}"
            said += line
        deadline = time.monotonic() + 60
        replies = 0
        while time.monotonic() < deadline and replies < 4:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                try:
                    reply = pb_grpc.GroupingServiceStub(channel).ListSchemes(pb.ListSchemesRequest(), timeout=2)
                    replies += "schemes/medpay-sample" in {s.name for s in reply.schemes}
                except grpc.RpcError:
                    time.sleep(0.3)
        children = subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True, text=True,
                                  check=False).stdout.split()
        assert replies == 4 and len(children) == 2
    finally:
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0


def test_console_tracing_exports_a_span_per_rpc(database_url: str) -> None:
    """With MEDPAY_OTEL_EXPORTER=console a server prints its RPC spans (flushed on graceful shutdown)."""
    import signal
    import socket
    import time

    import grpc
    from medpay.grouping.v1 import grouping_service_pb2 as pb
    from medpay.grouping.v1 import grouping_service_pb2_grpc as pb_grpc

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MEDPAY_REFERENCE_DIR": str(ROOT / "libs/reference_sample"), "MEDPAY_LOG_LEVEL": "WARNING",
           "MEDPAY_OTEL_EXPORTER": "console", "MEDPAY_DATABASE_URL": database_url}
    server = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "grouping", "--address",
                               f"127.0.0.1:{port}"], env=env, cwd=ROOT, stdout=subprocess.PIPE)
    answered = False
    try:
        deadline = time.monotonic() + 60
        while not answered and time.monotonic() < deadline:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                try:
                    pb_grpc.GroupingServiceStub(channel).ListSchemes(pb.ListSchemesRequest(), timeout=2)
                    answered = True
                except grpc.RpcError:
                    time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert answered, "the server never answered ListSchemes"
    assert server.returncode == 0, f"the server did not drain on SIGTERM (exit {server.returncode})"
    assert b"/medpay.grouping.v1.GroupingService/ListSchemes" in out
    assert b'"service.name": "medpay-grouping"' in out
