"""Progress in a run's log while it happens: tuning trials and long loads.

Dagster shows `context.log` lines in the run's page as they are written, so a one-minute load or
an hour of tuning says how far it got instead of staying silent until it returns. Everything here
takes any object with `.info(str)` — `context.log` in an asset, a `logging.Logger` elsewhere — and
imports no Dagster or Optuna (the Keras epoch callback is in `core/keras_progress.py`, apart,
because importing Keras costs seconds).
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol


class InfoLog(Protocol):
    """What progress needs of a logger: Dagster's `context.log` and `logging.Logger` both are."""

    def info(self, msg: str) -> Any: ...


@dataclass
class Load:
    """What a `load` block read; the block sets `rows` before it ends."""

    rows: int = 0
    seconds: float = 0.0


@contextmanager
def load(log: InfoLog, what: str) -> Iterator[Load]:
    """Log `what: N rows read in S s` when the block ends (and nothing when it raises: the
    error says what went wrong)."""
    loaded = Load()
    started = time.perf_counter()
    yield loaded
    loaded.seconds = time.perf_counter() - started
    log.info(f"{what}: {loaded.rows:,} rows read in {loaded.seconds:.1f} s")


def optuna_trial_logger(log: InfoLog, name: str) -> Callable[[Any, Any], None]:
    """An Optuna `study.optimize(callbacks=[...])` callback: one line per finished trial (its
    state, value, parameters and the best value so far)."""

    def after_trial(study: Any, trial: Any) -> None:
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        value = "" if trial.value is None else f" value {trial.value:.4f}"
        try:
            best = f"; best so far {study.best_value:.4f} (trial {study.best_trial.number})"
        except ValueError:  # no trial completed yet
            best = ""
        log.info(f"{name}: trial {trial.number} {trial.state.name}{value} ({params}){best}")

    return after_trial


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
