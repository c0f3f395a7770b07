"""What the benchmark scripts share: the project on ``sys.path``, a database of their own, gunicorn started and
stopped, a one-connection HTTP client and latency percentiles.

A script imports it first (``import harness``: the scripts run as files, so their own directory is on
``sys.path``); importing it names the settings module, and ``setup_django()`` then sets Django up, after the
script has put anything it needs into the environment (``DATABASE_URL``). Standard library only at import time.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Databases a benchmark never drops: the ones the project and its checks use.
PROTECTED = {"yoyaku", "yoyaku_bench", "yoyaku_t1", "postgres", "template0", "template1"}


def setup_django() -> None:
    import django

    django.setup()


def recreate_database(url: str, example: str) -> None:
    """Drop and create the PostgreSQL database of ``url`` (never one of PROTECTED; ``example`` names a good one
    in the refusal)."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if name in PROTECTED or not name:
        sys.exit(f"refusing to recreate database {name!r}: give a database of its own, e.g. {example}")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# gunicorn ---------------------------------------------------------------------------------------------------------


def start_gunicorn(
    env: dict, *, port: int | None = None, workers: int | None = None, options=(), log: Path | None = None
) -> subprocess.Popen:
    """gunicorn serving the project from ROOT: bound to 127.0.0.1:``port`` with ``workers`` sync workers and the
    further command-line ``options``, or, without a port, configured by config/gunicorn.py from ``env`` (HOST,
    PORT, WEB_CONCURRENCY: as in production). Its output goes to ``log`` when given."""
    command = [sys.executable, "-m", "gunicorn"]
    if port is None:
        command += ["-c", "python:config.gunicorn"]
    else:
        command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += [*options, "config.wsgi:application"]
    if log is None:
        return subprocess.Popen(command, cwd=ROOT, env=env)
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until_ready(port: int, path: str = "/health/", *, seconds: float = 30, watch=(), headers=None) -> bool:
    """Whether GET ``path`` answered 200 within ``seconds``; False at once when a process of ``watch`` ended."""
    deadline = time.monotonic() + seconds
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in watch):
            return False
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def stop(*processes: subprocess.Popen, seconds: float = 60) -> None:
    """SIGTERM to every process at once (gunicorn's and qcluster's graceful stop), then wait for each; one still
    running after ``seconds`` is killed."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# HTTP ------------------------------------------------------------------------------------------------------------


async def request(
    port: int, method: str, path: str, headers: dict | None = None, body: bytes = b"", timeout: float = 120.0
) -> tuple[int, bytes, float]:
    """One HTTP/1.1 request on a connection of its own (gunicorn's sync workers close them), on asyncio streams:
    (status, the raw answer with its headers, seconds). Status 0: refused, reset or timed out."""
    started = time.perf_counter()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
        status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
    except (TimeoutError, OSError, IndexError, ValueError):
        raw, status = b"", 0
    return status, raw, time.perf_counter() - started


# Figures ---------------------------------------------------------------------------------------------------------


def percentile(ordered: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of sorted values."""
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def percentiles(latencies: list[float]) -> str:
    """p50, p95 and p99 of latencies in seconds, in milliseconds."""
    if not latencies:
        return "-"
    ordered = sorted(latencies)
    p50, p95, p99 = (percentile(ordered, p) * 1000 for p in (50, 95, 99))
    return f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms"
