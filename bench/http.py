"""HTTP figures: LoanFlow under gunicorn (sync workers) loaded by wrk at concurrency 8."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LUA = r"""
local ids = {%(ids)s}
local tokens = {%(tokens)s}
local counter = 0
local thread_no = 0
local threads = {}
local method, fmt, body = "%(method)s", "%(path)s", '%(body)s'
wrk.headers["Authorization"] = "Token %(token)s"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Host"] = "127.0.0.1"

function setup(thread)
  thread:set("offset", thread_no)
  thread_no = thread_no + 1
  table.insert(threads, thread)
end

function init(args)
  counter = offset or 0
end

function request()
  local path = fmt
  local headers = nil
  if #ids > 0 then
    local k = (counter %% #ids) + 1
    path = string.format(fmt, ids[k])
    if #tokens > 0 then
      -- (wrk.format takes these instead of wrk.headers, not on top of them)
      headers = {["Authorization"] = "Token " .. tokens[k],
                 ["Content-Type"] = "application/json", ["Host"] = "127.0.0.1"}
    end
    counter = counter + 2
  end
  return wrk.format(method, path, headers, method == "GET" and nil or body)
end

function done(summary, latency, requests)
  io.write(string.format(
    "WRKJSON {\"requests\": %%d, \"seconds\": %%f, \"p50_ms\": %%f, \"p95_ms\": %%f, " ..
    "\"p99_ms\": %%f, \"non2xx\": %%d, \"errors\": %%d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, workers: int = 4, reference: bool = False):
    """LoanFlow under gunicorn; with `reference`, the issue's reference endpoints beside it
    (bench/reference.py)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "LOANFLOW_LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": "600",
        "AXES_ENABLED": "false",
        # gunicorn.conf.py applies (the heap freeze); no worker restarts mid-measure.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    if reference:
        env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    binary = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [
            str(binary),
            "loanflow.wsgi",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--access-logfile",
            "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/v1/health/", timeout=1)  # noqa: S310
                break
            except OSError:
                if proc.poll() is not None:
                    detail = proc.stderr.read().decode()[-2000:]
                    raise RuntimeError(f"gunicorn exited: {detail}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(
    base: str,
    *,
    path: str,
    token: str = "",
    method: str = "GET",
    body: str = "",
    ids: list[int] | None = None,
    tokens: list[str] | None = None,
    seconds: int = 5,
    connections: int = 8,
) -> dict:
    """Run wrk; `path` may contain %d, filled from `ids` (each request a distinct id while they
    last). `tokens`, if given, pairs each id with the token its request is sent with."""
    if tokens is not None and len(tokens) != len(ids or []):
        raise ValueError("one token per id")
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    script = LUA % {
        "ids": ",".join(str(i) for i in (ids or [])),
        "tokens": ",".join(f'"{key}"' for key in (tokens or [])),
        "method": method,
        "path": path,
        "body": body.replace("'", "\\'"),
        "token": token,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                base + "/",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    line = next(row for row in out.splitlines() if row.startswith("WRKJSON "))
    result = json.loads(line[len("WRKJSON ") :])
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    return result
