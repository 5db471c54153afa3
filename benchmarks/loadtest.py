"""Load-testing helpers shared by the serving benchmarks: start `ml-platform serve` pinned to a
core, drive it with wrk (or a bare asyncio client), and account for where the CPU went.

Imported by `serving.py` and `similar_users.py` (run as scripts, so this folder is on sys.path).
"""

import asyncio
import io
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np

ROOT = Path(__file__).resolve().parent.parent

WRK_SCRIPT = """
local requests = {}
local next_index = 0
local answered = 0

init = function(args)
  for _, spec in ipairs(SPECS) do
    requests[#requests + 1] = wrk.format(spec[1], spec[2], spec[3], spec[4])
  end
end

request = function()
  next_index = next_index %% #requests + 1
  return requests[next_index]
end

response = function(status, headers, body)
  answered = answered + 1
  if answered >= %(max_requests)d then wrk.thread:stop() end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"non_2xx\\": %%d, " ..
    "\\"socket_errors\\": %%d, \\"p50\\": %%d, \\"p90\\": %%d, \\"p95\\": %%d, " ..
    "\\"p99\\": %%d, \\"max\\": %%d}\\n",
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    home: Path, port: int, log: Path, cpus: str | None = None, workers: int = 1
) -> subprocess.Popen:
    """`ml-platform serve --workers N`, optionally pinned to `cpus` with taskset."""
    env = {
        **os.environ,
        "ML_PLATFORM_ENV": "local",
        "ML_PLATFORM_HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("ML_PLATFORM_STORAGE_URI", None)
    command = [sys.executable, "-m", "ml_platform.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    return subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),  # append: truncating between routes works
        start_new_session=True,  # its own process group: `stop_server` reaches every worker
    )


def stop_server(server: subprocess.Popen) -> None:
    """SIGINT as Ctrl-C would send it, then SIGKILL for whatever of the server is left, so no
    worker outlives the benchmark and takes CPU from the next one."""
    try:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait()


def wait_ready(port: int, seconds: float = 120.0) -> None:
    """Polls /readyz with a plain socket until 200, the server exiting or the time running out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server on port {port} not ready within {seconds} s")


async def _one_client(
    port: int,
    make_request: Callable[[random.Random], bytes],
    rng: random.Random,
    budget: list[int],
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            request = make_request(rng)
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(int(head[9:12]))
    finally:
        writer.close()


async def load(
    port: int,
    make_request: Callable[[random.Random], bytes],
    clients: int,
    requests: int,
    seconds: float,
) -> tuple[list[float], list[int], float]:
    """`requests` requests (or `seconds`, whichever ends first) over `clients` connections."""
    latencies: list[float] = []
    errors: list[int] = []
    budget = [requests]
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(
            _one_client(port, make_request, random.Random(i), budget, deadline, latencies, errors)
            for i in range(clients)
        )
    )
    return latencies, errors, time.perf_counter() - started


def _lua_string(text: str) -> str:
    assert "]==]" not in text
    return f"[==[{text}]==]"


def wrk_script(specs: list[tuple[str, str, str | None]], max_requests: int) -> str:
    """A wrk Lua script cycling through pre-formatted requests (method, path, JSON body or None),
    stopping after `max_requests` answers and printing its figures as one JSON line."""
    rows = []
    for method, path, body in specs:
        if body is None:
            rows.append(f"{{{_lua_string(method)}, {_lua_string(path)}}}")
        else:
            rows.append(
                f"{{{_lua_string(method)}, {_lua_string(path)}, "
                f'{{["Content-Type"] = "application/json"}}, {_lua_string(body)}}}'
            )
    return "SPECS = {\n" + ",\n".join(rows) + "\n}\n" + WRK_SCRIPT % {"max_requests": max_requests}


def run_wrk(
    port: int, script: Path, clients: int, seconds: float, cpus: str | None
) -> dict[str, Any]:
    """One wrk run (1 thread, `clients` connections, at most `seconds`); wrk's own figures."""
    command = [
        "wrk",
        "-t1",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT "))
    result = json.loads(line.removeprefix("WRK_RESULT "))
    result["seconds"] = result["duration_us"] / 1e6
    return result


def percentiles_ms(seconds: list[float] | np.ndarray) -> str:
    p50, p95, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return f"p50 {p50:6.2f}  p95 {p95:6.2f}  p99 {p99:6.2f} ms"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children, e.g. uvicorn's workers (Linux
    /proc): shows whether the server or the load generator is the bottleneck."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (Linux /proc/stat): minus the server's
    and the load generator's, what other processes took during a run."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def load_generator_cpu_seconds(use_wrk: bool) -> float:
    """CPU time of the load generator: this process's finished children (the wrk runs), or this
    process itself when it generates the load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if use_wrk else resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def model_seconds(call: Callable[[], Any], repeat: int = 300) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


def joblib_bytes(model: Any) -> bytes:
    """The bytes the object-store IO manager writes for a model (joblib, its format for models)."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def app_durations(log: Path, method: str, path_prefix: str = "/") -> list[float]:
    """Seconds the app spent per request of `method` under `path_prefix`, from its JSON request
    log (uvicorn and network excluded)."""
    durations = []
    for line in log.read_text().splitlines():
        if not line.startswith("{"):
            continue  # uvicorn's own start/stop lines
        entry = json.loads(line)
        if entry.get("method") == method and entry.get("path", "").startswith(path_prefix):
            durations.append(entry["duration_ms"] / 1000)
    return durations
