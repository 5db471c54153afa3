"""`ml-platform serve`: the serving app under uvicorn, in one process or in several.

Several workers each bind a socket of their own to the port with SO_REUSEPORT, and the kernel
spreads new connections over those sockets by a hash of each connection. uvicorn's `--workers`
share one listening socket instead, and whichever worker is waiting in `accept` first takes a
whole burst of connections: with 50 keep-alive clients we measured splits such as 44/6 between
two workers, which puts the p99 of the busy worker's clients at several times the others'
(benchmarks/serving.py). The models are numpy under the GIL, so processes, not threads, are what
use more cores.

The parent only supervises: it forwards SIGINT/SIGTERM to the workers (each finishes its
requests and stops its model poller; one still running `STOP_GRACE_SECONDS` later is killed),
and when a worker dies on its own it stops the rest and exits with that worker's code, for the
orchestrator to restart the whole server; a half-dead server quietly answering with fewer
workers would be harder to notice.
"""

import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

STOP_GRACE_SECONDS = 10.0


def serve(host: str, port: int, workers: int = 1) -> int:
    """Serve until interrupted; the exit code of the server (of the first worker to fail)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1:
        return _run_worker(host, port, reuse_port=False)
    return _supervise(host, port, workers)


def server_config(app: Any, host: str, port: int) -> "uvicorn.Config":
    """How uvicorn serves `app`: what `ml-platform serve` runs, and the tests over a socket."""
    import uvicorn

    from ml_platform.serving.protocol import GuardedHttpToolsProtocol

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # httptools with a deadline and a size limit on each request's head (slowloris).
        http=GuardedHttpToolsProtocol,
        # uvicorn's default, stated: an idle keep-alive connection is closed after 5 s.
        timeout_keep_alive=5,
        # The app logs each request as JSON itself; uvicorn's access log would print each twice.
        access_log=False,
        # Nothing here reads the client address that X-Forwarded-For would correct, and the
        # Server header only tells a scanner what runs here: neither is worth a request's time.
        proxy_headers=False,
        server_header=False,
    )


def _run_worker(host: str, port: int, reuse_port: bool) -> int:
    import uvicorn

    from ml_platform.serving.app import configure_logging, create_app

    configure_logging()
    server = uvicorn.Server(server_config(create_app(), host, port))
    if not reuse_port:
        server.run()
    else:
        with _reuse_port_socket(host, port) as sock:
            server.run(sockets=[sock])
    return 0 if server.started else 1


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker_main(host: str, port: int) -> None:
    sys.exit(_run_worker(host, port, reuse_port=True))


def _supervise(host: str, port: int, workers: int) -> int:
    if not hasattr(socket, "SO_REUSEPORT"):
        raise OSError("several workers need SO_REUSEPORT (Linux, BSD, macOS)")
    # spawn, not fork: each worker imports and loads its models itself, with no thread or lock
    # state inherited from this process
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker_main, args=(host, port), name=f"serve-worker-{i}")
        for i in range(workers)
    ]
    stopped_at: float | None = None

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopped_at
        stopped_at = stopped_at or time.monotonic()
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        exit_code = 0
        while running := [p for p in processes if p.is_alive()]:
            # a timeout, so that a stop asked for by a signal is followed up while waiting
            multiprocessing.connection.wait([p.sentinel for p in running], timeout=0.5)
            ended = [p for p in processes if p.exitcode is not None]
            if ended and stopped_at is None:  # a worker stopped on its own: a failure
                exit_code = ended[0].exitcode or 1
                stop(signal.SIGTERM, None)
            if stopped_at is not None and time.monotonic() - stopped_at > STOP_GRACE_SECONDS:
                for process in running:
                    print(
                        f"serve: worker {process.pid} still running {STOP_GRACE_SECONDS:.0f} s "
                        "after SIGTERM; killed",
                        file=sys.stderr,
                    )
                    process.kill()
        return exit_code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in processes:
            if process.pid is None:  # never started
                continue
            if process.is_alive():  # this process failed, not its workers: take them along
                process.kill()
            process.join()
