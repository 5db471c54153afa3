"""Latency and throughput of `ml-platform serve` under 50 concurrent clients.

    apt-get install -y wrk   # the load generator; without it a Python one is used (see below)
    .venv/bin/python benchmarks/serving.py [--clients 50] [--requests 100000] [--seconds 10]
        [--epochs 3] [--workers N] [--python-client]

Trains the two-stage recommender on generated MovieLens-100K-sized data (a few epochs: serving
cost depends on the model's shapes, not on how well it fits) and stores it where the
`recommender_model` asset would (the object store of a temporary ML_PLATFORM_HOME). Then it
starts `ml-platform serve --workers N` (default: one worker per core; with one worker the
server is pinned to core 0 and wrk to core 1) and loads it with wrk (C, 1 thread):
`wrk -t1 -c50 -d10s --latency` with a Lua script cycling through every known user (GET
/recommendations/{user}?k=10) or through 500 different new people with 20 ratings each (POST
/recommendations), after a 1 s warm-up, each route bounded by --seconds and --requests. It
prints wrk's end-to-end p50/p90/p95/p99 and throughput beside the server's CPU per request, the
app's own time per request (the duration_ms of its request log) and the model's time alone,
which together say where the time goes, and how much CPU other processes took meanwhile (a
warning when they did: latencies, their tail above all, are then inflated). Without wrk it falls
back to a bare asyncio HTTP/1.1 client sharing the cores, which inflates latency.

wrk keeps 50 requests in flight (closed loop), so latency is about 50 / throughput: p99 under
20 ms needs some 4,000 req/s with the spread of a shared machine, i.e. at most ~0.3 ms of server
CPU per request with two workers beside wrk.

Measured 2026-12-03 on the idle 2-core machine, two workers, three runs (ms):

    route                        req/s          p50        p95         p99         server CPU/req
    GET  /recommendations/{u}   10,000 (cap)   1.7-2.3    3.6-6.0     5.6-7.6     0.05-0.08 ms
    POST /recommendations (20)  5,336-6,245    7.6-8.9    12.0-15.7   14.9-19.6   0.28-0.32 ms

Where the POST's ~0.3 ms goes (server-side thread times): ~0.04 ms uvicorn and the kernel's
socket work, ~0.03 ms the app's dispatch and request log, ~0.03 ms validation and the unknown-
movie check, ~0.14 ms the model (0.07 ms when called in a loop: a request runs it with cold
caches), ~0.01 ms JSON. Earlier (2026-11-23: 0.48 ms, p99 21-23 ms with uvicorn's own two
workers, 180 ms with one) FastAPI's middleware stack, pydantic model instances, the standard
library's json and ~70 numpy calls per request cost more; uvicorn's shared socket gave one of
its two workers up to 44 of the 50 connections. GET answers come from the per-model-version
cache (`FastAnswers`).
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, so benchmarks/ is on sys.path.
from loadtest import (
    app_durations,
    cpu_seconds,
    free_port,
    joblib_bytes,
    load,
    load_generator_cpu_seconds,
    machine_busy_seconds,
    model_seconds,
    percentiles_ms,
    run_wrk,
    start_server,
    stop_server,
    wait_ready,
    wrk_script,
)

from ml_platform.core.storage import ObjectStore
from ml_platform.demo_data.movielens import generate_movielens
from ml_platform.recommender.movielens import MovieLensDataset

ROOT = Path(__file__).resolve().parent.parent


def build_model(data: MovieLensDataset, epochs: int) -> tuple[Any, str]:
    """The model to serve and a line saying which it is."""
    from ml_platform.recommender.ranking import RankingConfig, train_ranking
    from ml_platform.recommender.retrieval import RetrievalConfig, train_retrieval
    from ml_platform.recommender.two_stage import TwoStageRecommender

    started = time.perf_counter()
    retrieval = train_retrieval(data.ratings, data.movies, RetrievalConfig(epochs=epochs))
    ranking = train_ranking(
        data.ratings, data.movies, RankingConfig(epochs=epochs), retrieval=retrieval
    )
    model = TwoStageRecommender(retrieval, ranking, data.ratings, data.movies)
    seconds = time.perf_counter() - started
    return model, f"TwoStageRecommender ({epochs} epochs per stage, trained in {seconds:.0f} s)"


def get_specs(users: list[int], rng: random.Random) -> list[tuple[str, str, str | None]]:
    """Every known user once, shuffled: the run cycles through all of them."""
    shuffled = users[:]
    rng.shuffle(shuffled)
    return [("GET", f"/recommendations/{user}?k=10", None) for user in shuffled]


def post_specs(
    movies: list[int], rng: random.Random, count: int = 500
) -> list[tuple[str, str, str | None]]:
    """`count` different new people, 20 ratings each."""
    specs = []
    for _ in range(count):
        ratings = [
            {"movie_id": m, "rating": rng.choice([1, 2, 3, 4, 5])} for m in rng.sample(movies, 20)
        ]
        specs.append(("POST", "/recommendations", json.dumps({"ratings": ratings, "k": 10})))
    return specs


def get_request(users: list[int]) -> Callable[[random.Random], bytes]:
    def make(rng: random.Random) -> bytes:
        path = f"/recommendations/{rng.choice(users)}?k=10"
        return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()

    return make


def post_request(movies: list[int]) -> Callable[[random.Random], bytes]:
    def make(rng: random.Random) -> bytes:
        ratings = [
            {"movie_id": m, "rating": rng.choice([1, 2, 3, 4, 5])} for m in rng.sample(movies, 20)
        ]
        body = json.dumps({"ratings": ratings, "k": 10}).encode()
        head = (
            "POST /recommendations HTTP/1.1\r\nHost: bench\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return make


def measure_serving(
    model: Any,
    users: list[int],
    movies: list[int],
    *,
    clients: int = 50,
    requests: int = 100_000,
    seconds: float = 10.0,
    workers: int = os.cpu_count() or 1,
    python_client: bool = False,
) -> None:
    """Stores `model` as the `recommender_model` asset, serves it with `ml-platform serve
    --workers`, drives GET (every one of `users`) and POST (new people rating `movies`) and
    prints the figures (see the module docstring)."""
    use_wrk = shutil.which("wrk") is not None and not python_client
    if not use_wrk and not python_client:
        print(
            "wrk not found (Debian: apt-get install -y wrk): falling back to the Python load "
            "generator, which competes with the server for CPU and inflates its latency"
        )
    # Server on core 0, load generator on core 1, so neither steals the other's core; several
    # workers get every core, shared with the load generator.
    pin = workers == 1 and shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    server_cpus, client_cpus = ("0", "1") if pin else (None, None)

    rng = random.Random(0)
    direct_get = model_seconds(lambda: model.recommend(rng.choice(users), 10))
    direct_post = model_seconds(
        lambda: model.recommend_for_ratings({m: 4.0 for m in rng.sample(movies, 20)}, 10)
    )

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        ObjectStore(base_uri=str(home / ".ml_platform" / "storage")).write_bytes(
            "recommender_model.joblib", joblib_bytes(model)
        )
        port = free_port()
        log = home / "server.log"
        server = start_server(home, port, log, server_cpus, workers)
        try:
            wait_ready(port)
            generator = "wrk -t1" if use_wrk else "Python asyncio client"
            if pin and not use_wrk:
                os.sched_setaffinity(0, {int(client_cpus)})  # this process is the generator
            placement = (
                f"server pinned to core {server_cpus}, {generator} to core {client_cpus}"
                if pin
                else f"{os.cpu_count()} cores shared by server and load generator"
            )
            print(
                f"ml-platform serve --workers {workers}, {clients} concurrent keep-alive connections "
                f"({generator}), up to {requests} requests or {seconds:.0f} s per "
                f"route, {placement}"
            )
            routes = (
                ("GET  /recommendations/{user}", "GET", get_specs(users, rng), get_request(users)),
                (
                    "POST /recommendations (20)",
                    "POST",
                    post_specs(movies, rng),
                    post_request(movies),
                ),
            )
            for name, method, specs, make in routes:
                if use_wrk:
                    script = home / f"{method.lower()}.lua"
                    script.write_text(wrk_script(specs, requests))
                    # Warm-up (connections, first model calls, the GET cache), not measured.
                    run_wrk(port, script, clients, 1, client_cpus)
                time.sleep(0.2)
                log.write_bytes(b"")  # only this route's requests in the app's figures
                cpu_before = cpu_seconds(server.pid)
                busy_before, client_before = (
                    machine_busy_seconds(),
                    load_generator_cpu_seconds(use_wrk),
                )
                if use_wrk:
                    result = run_wrk(port, script, clients, seconds, client_cpus)
                    count, elapsed = result["requests"], result["seconds"]
                    errors = result["non_2xx"] + result["socket_errors"]
                    p50, p90, p95, p99 = (result[p] / 1000 for p in ("p50", "p90", "p95", "p99"))
                    end_to_end = (
                        f"p50 {p50:6.2f}  p90 {p90:6.2f}  p95 {p95:6.2f}  p99 {p99:6.2f} ms"
                    )
                else:
                    latencies, status_errors, elapsed = asyncio.run(
                        load(port, make, clients, requests, seconds)
                    )
                    count, errors = len(latencies), len(status_errors)
                    end_to_end = percentiles_ms(latencies)
                server_cpu = cpu_seconds(server.pid) - cpu_before
                client_cpu = load_generator_cpu_seconds(use_wrk) - client_before
                others = machine_busy_seconds() - busy_before - server_cpu - client_cpu
                time.sleep(0.2)  # the last log lines
                print(
                    f"{name:<30} {count:>6} req  {count / elapsed:7.0f} req/s  "
                    f"end-to-end {end_to_end}  errors {errors}"
                )
                print(
                    f"{'':<30} server CPU {server_cpu / max(count, 1) * 1000:.2f} ms/req, "
                    f"busy {server_cpu / elapsed:.0%} of one core; load generator "
                    f"{client_cpu / elapsed:.0%}; other processes {max(others, 0) / elapsed:.0%}"
                )
                if others / elapsed > 0.1:
                    print(
                        f"{'':<30} WARNING: other processes used the cores during the run: "
                        "latencies (their tail above all) are inflated; rerun on an idle machine"
                    )
                print(
                    f"{'':<30} app (request log)            {percentiles_ms(app_durations(log, method, '/recommendations'))}"
                )
            print(f"{'model.recommend alone':<30} {'':<28} {percentiles_ms(direct_get)}")
            print(f"{'model.recommend_for_ratings':<30} {'':<28} {percentiles_ms(direct_post)}")
        finally:
            stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100_000, help="at most, per route")
    parser.add_argument("--seconds", type=float, default=10.0, help="at most, per route")
    parser.add_argument(
        "--epochs", type=int, default=3, help="per stage; latency depends on shapes, not on fit"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="`ml-platform serve --workers`: one per core by default (1: pinned to core 0)",
    )
    parser.add_argument(
        "--python-client", action="store_true", help="the asyncio load generator even if wrk exists"
    )
    args = parser.parse_args()

    data = generate_movielens()
    model, description = build_model(data, args.epochs)
    print(f"model: {description}")
    users = sorted(int(u) for u in data.ratings["user_id"].unique())
    movies = sorted(int(m) for m in data.movies["movie_id"])
    measure_serving(
        model,
        users,
        movies,
        clients=args.clients,
        requests=args.requests,
        seconds=args.seconds,
        workers=args.workers,
        python_client=args.python_client,
    )


if __name__ == "__main__":
    main()
