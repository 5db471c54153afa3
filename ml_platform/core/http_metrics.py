"""Prometheus metrics of an HTTP app: requests counted and timed by route template and status.

Labels are the route's template (`/recommendations/{user_id}`), never the path, so a scan of
random URLs adds one `unmatched` series rather than one per URL. Each app gets a registry of its
own, so two apps in one process (tests, an embedding server) never mix their counts. The figures
are per process: deploy one worker per pod and let Prometheus sum the pods.
"""

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

# The classic text format: what every Prometheus version scrapes (the names are all legacy-safe).
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
# From a cached answer (well under a millisecond) to a large batch predict (seconds).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def route_template(scope: Scope) -> str:
    """The template of the route that answered the request, `UNMATCHED` when none did."""
    route = scope.get("route")
    if route is not None:
        return route.path
    # a Starlette `Mount` (static files) sets no route; it appends its path to the root path
    mounted = scope.get("root_path", "")[len(scope.get("app_root_path", "")) :]
    return f"{mounted}/{{path}}" if mounted else UNMATCHED


class HttpMetrics:
    """The request counter and latency histogram of one app, and its `/metrics` answer."""

    def __init__(self, namespace: str, collectors: Iterable[Collector] = ()) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            namespace=namespace,
            registry=self.registry,
        )
        self._latency = Histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by method and route template",
            ["method", "route"],
            namespace=namespace,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        for collector in collectors:
            self.registry.register(collector)

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"]
        self._requests.labels(method, route, str(status)).inc()
        self._latency.labels(method, route).observe(seconds)

    def response(self, request: Request) -> Response:
        """The `/metrics` endpoint: the metrics in Prometheus' text format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)


class RequestMetrics:
    """ASGI middleware: every HTTP request counted and timed in `metrics` once answered (a
    request whose app raised before answering counts as the 500 the server sends)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_remember_status)
        finally:
            self._metrics.observe(scope, status, time.perf_counter() - started)
