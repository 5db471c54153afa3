"""The models the app serves, loaded from the object store and swapped in when a newer one lands.

Reloading polls: a background thread stats the stored file of each asset every
`reload_interval_seconds` and reloads when its modification time or size changed. Polling needs
nothing but the store the assets already write to (no Dagster instance, no event bus), works the
same on a local folder and on S3, and a stat per interval is negligible. A load that fails (a torn file
an older writer left, a value of the wrong type, the store unreachable) keeps the previous model,
is retried next poll, and holds back only its own product (see `ModelRegistry.ready`).
"""

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.routing import BaseRoute

from ml_platform.core.storage import ObjectStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Product:
    """One served product: the asset holding its model, its routes, and what a valid model is."""

    asset: str
    router: APIRouter
    accepts: Callable[[Any], bool]
    # GET paths under this prefix whose 200 answers the routes store in the model's `responses`
    # under `response_key(scope)`; the app then answers a repeat without running the route
    # (`cached_gets.CachedGets`).
    cached_get_prefix: str | None = None


def response_key(scope: Any) -> tuple[str, bytes]:
    """Cache key of a GET request: its path and raw query string. Identical bytes are parsed and
    validated identically, so a key that once got a 200 from a model version gets the same 200."""
    return scope["path"], scope["query_string"]


def encode_json(content: Any) -> bytes:
    """UTF-8 JSON of plain Python and numpy values, NaN and ±Infinity as null (as pydantic
    writes them): ~3 µs for a ten-movie answer, where the standard library's `json` took ~25 µs,
    as much as validating the request."""
    return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def json_response(content: bytes) -> Response:
    """Pre-serialized JSON: routes build their answers' bytes themselves, faster than pydantic."""
    return Response(content, media_type="application/json")


# Longer query strings are answered but not cached: the routes' parameters (a k, a name of at
# most 200 characters) fit, while junk such as k=000…01 would make each key a new entry.
MAX_CACHED_QUERY_BYTES = 512


def _only_declared_parameters(request: Request) -> bool:
    """Whether the query names only the route's parameters: FastAPI ignores any other, so
    `?k=5&x=<random>` answers like `?k=5`, and caching each spelling would let anyone fill
    the cache with copies of one answer."""
    route = request.scope.get("route")
    declared = {param.alias for param in route.dependant.query_params} if route else set()
    return all(name in declared for name in request.query_params)


def cached_json(request: Request, loaded: "LoadedModel", content: bytes) -> Response:
    """A GET route's 200 answer, remembered with the model version that gave it (and the route,
    which the metrics name): the app's `CachedGets` answers the same request from it before
    routing, so routes never look the cache up themselves."""
    if len(request.scope["query_string"]) <= MAX_CACHED_QUERY_BYTES and _only_declared_parameters(
        request
    ):
        loaded.responses.put(response_key(request.scope), content, request.scope["route"])
    return json_response(content)


@dataclass(frozen=True)
class LoadedModel:
    """A model with the version it is served under: the stored file's modification time.

    `responses` caches serialized answers of this model (a product's routes decide what to put
    in it): it lives and dies with this version, so a reload starts from an empty cache and no
    answer of a replaced model is ever served."""

    value: Any
    version: str
    loaded_at: str
    responses: "ResponseCache" = field(default_factory=lambda: ResponseCache(), compare=False)


# What an entry costs beyond the bytes of its path, query and answer: the dict slot, the key
# tuple and three object headers (measured with sys.getsizeof on CPython 3.11: ~250 bytes).
ENTRY_OVERHEAD_BYTES = 256


class ResponseCache:
    """Serialized responses (with the route that answered them) by `response_key`,
    bounded by total size — keys and per-entry overhead included, since a junk query string can
    be far longer than its answer: when full it is emptied (simpler than LRU, and with the
    routes' deterministic answers a refill costs a model call per key). The routes are the
    app's own objects, shared by every entry, so they add no size."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self._entries: dict[tuple[str, bytes], tuple[bytes, BaseRoute]] = {}
        self._bytes = 0
        self._max_bytes = max_bytes

    def get(self, key: tuple[str, bytes]) -> tuple[bytes, BaseRoute] | None:
        """The cached answer's bytes and the route that answered it."""
        return self._entries.get(key)

    def put(self, key: tuple[str, bytes], value: bytes, route: BaseRoute) -> None:
        if key in self._entries:
            return
        size = len(key[0]) + len(key[1]) + len(value) + ENTRY_OVERHEAD_BYTES
        if self._bytes + size > self._max_bytes:
            self._entries = {}
            self._bytes = 0
        self._entries[key] = (value, route)
        self._bytes += size

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


class ModelNotReadyError(Exception):
    """Raised to callers while an asset has never been loaded; the app answers 503, saying why
    when its stored file failed to load."""

    def __init__(self, asset: str, problem: str | None = None) -> None:
        if problem is None:
            message = f"model '{asset}' is not loaded yet: materialize it, then retry"
        else:
            message = f"model '{asset}' is not available: {problem}"
        super().__init__(message)
        self.asset = asset


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


class ModelRegistry:
    """Latest loaded value per asset. Readers take one reference to an immutable mapping, which a
    reload replaces whole under a lock, so a request never sees a half-swapped model."""

    def __init__(
        self,
        store: ObjectStore,
        products: Iterable[Product],
        reload_interval_seconds: float,
    ) -> None:
        self._store = store
        self._accepts = {product.asset: product.accepts for product in products}
        self._interval = reload_interval_seconds
        self._loaded: dict[str, LoadedModel] = {}
        self._fingerprints: dict[str, tuple[tuple[str, float, int], ...]] = {}
        self._stored: set[str] = set()  # assets with a stored file, loadable or not
        # Why an asset's stored file did not load last time it was tried, until one loads.
        self._problems: dict[str, str] = {}
        self._failures = dict.fromkeys(self._accepts, 0)  # failed loads per asset, ever
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def assets(self) -> list[str]:
        return list(self._accepts)

    def loaded(self, asset: str) -> LoadedModel | None:
        """The asset's model, None while it has never been loaded."""
        return self._loaded.get(asset)

    def get(self, asset: str) -> LoadedModel:
        loaded = self._loaded.get(asset)
        if loaded is None:
            raise ModelNotReadyError(asset, self._problems.get(asset))
        return loaded

    def problems(self) -> dict[str, str]:
        """Why each asset whose stored file last failed to load did (it may still serve the
        model loaded before)."""
        return dict(self._problems)

    def failures(self) -> dict[str, int]:
        """How many times each asset's stored file failed to load since the app started."""
        return dict(self._failures)

    def versions(self) -> dict[str, str | None]:
        """Version per served asset, None for those not loaded yet."""
        loaded = self._loaded
        return {
            asset: loaded[asset].version if asset in loaded else None for asset in self._accepts
        }

    def ready(self) -> bool:
        """Whether every product with a stored model has been tried (and at least one loaded).

        A product never materialized in this deployment does not hold the app back: a platform
        runs the products its team uses, and the app serves those. Nor does one whose stored
        file does not load (torn, wrong type, unreachable): its own routes answer 503 with the
        reason (`problems`, also on /readyz) while the other products serve, and it is retried
        every poll.
        """
        loaded = self._loaded
        return bool(loaded) and self._stored <= set(loaded) | set(self._problems)

    def _fingerprint(self, asset: str) -> tuple[tuple[str, float, int], ...]:
        """Name, mtime and size of the asset's stored file(s) (`<asset>.<format extension>`)."""
        base = self._store.path(asset)
        # s3fs caches listings; without this a new upload would stay invisible.
        base.fs.invalidate_cache()
        stats = []
        for path in base.parent.glob(base.name + ".*"):
            stat = path.stat()
            stats.append((path.name, float(stat.st_mtime), int(stat.st_size)))
        return tuple(sorted(stats))

    def refresh(self) -> list[str]:
        """Load every asset whose stored file changed since it was last loaded; the assets reloaded."""
        reloaded = []
        for asset, accepts in self._accepts.items():
            try:
                fingerprint = self._fingerprint(asset)
                if not fingerprint:
                    continue
                self._stored.add(asset)
                if fingerprint == self._fingerprints.get(asset):
                    continue
                # Fingerprint taken before reading: a write that finishes during the read changes
                # the mtime again, so the next poll reloads instead of keeping a stale value.
                value = self._store.read_value(asset)
            except Exception as error:
                # Fingerprint not remembered: a network error is retried next poll.
                self._problems[asset] = f"its stored file does not load: {error!r}"
                self._failures[asset] += 1
                logger.exception("loading model '%s' failed; keeping the previous one", asset)
                continue
            if value is None or not accepts(value):
                # Remembered, so the same wrong file is reported once, not every poll.
                self._fingerprints[asset] = fingerprint
                self._problems[asset] = (
                    f"its stored file holds a {type(value).__name__}, not a servable model"
                )
                self._failures[asset] += 1
                logger.error(
                    "stored '%s' is a %s, not a servable model; keeping the previous one",
                    asset,
                    type(value).__name__,
                )
                continue
            loaded = LoadedModel(
                value=value,
                version=_utc(max(mtime for _, mtime, _ in fingerprint)),
                loaded_at=_utc(time.time()),
            )
            with self._lock:
                self._loaded = {**self._loaded, asset: loaded}
                self._fingerprints[asset] = fingerprint
                self._problems.pop(asset, None)
            logger.info("loaded model '%s' version %s", asset, loaded.version)
            reloaded.append(asset)
        if reloaded:
            # A model lives until the next reload: out of the cyclic GC's full collections,
            # which would otherwise walk its objects while requests wait (see app.lifespan).
            gc.freeze()
        return reloaded

    def start(self) -> None:
        """Poll in a daemon thread, first check at once, so the server accepts traffic (health,
        503 readiness) while a large model loads."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="model-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _poll(self) -> None:
        while True:
            self.refresh()
            if self._stop.wait(self._interval):
                return


class ModelMetrics:
    """A Prometheus collector of the registry's state, read at scrape time: which version each
    product serves (and when it was loaded), and how many loads failed."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        served = GaugeMetricFamily(
            "ml_platform_serving_model_loaded",
            "1 for the model version each product serves (the stored file's modification time)",
            labels=["asset", "version"],
        )
        loaded_at = GaugeMetricFamily(
            "ml_platform_serving_model_loaded_at_seconds",
            "When the served version of each product was loaded, Unix time",
            labels=["asset"],
        )
        for asset in self._registry.assets:
            loaded = self._registry.loaded(asset)
            if loaded is not None:
                served.add_metric([asset, loaded.version], 1)
                loaded_at.add_metric([asset], datetime.fromisoformat(loaded.loaded_at).timestamp())
        failures = CounterMetricFamily(
            "ml_platform_serving_model_reload_failures",
            "Loads of a stored model that failed (unreadable or not a servable model)",
            labels=["asset"],
        )
        for asset, count in self._registry.failures().items():
            failures.add_metric([asset], count)
        return [served, loaded_at, failures]
