"""A Keras callback that writes each finished epoch to a run's log (`context.log`).

Apart from `core/progress.py` because it imports Keras: only code that trains imports it, inside
the function that trains, so loading the Dagster definitions never pays for TensorFlow.
"""

import time

import keras

from ml_platform.core.progress import InfoLog


class EpochLog(keras.callbacks.Callback):
    """`name: epoch 3/20 loss 0.4123, val_loss 0.4410 (2.1 s)` after every epoch, so a
    minute of training shows its progress (and early stopping its reason) in the Dagster UI."""

    def __init__(self, log: InfoLog, name: str) -> None:
        super().__init__()
        self._log = log
        self._name = name
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        figures = ", ".join(f"{key} {float(value):.4f}" for key, value in (logs or {}).items())
        total = self.params.get("epochs") if self.params else None
        of = f"/{total}" if total else ""
        seconds = time.perf_counter() - self._started
        self._log.info(f"{self._name}: epoch {epoch + 1}{of} {figures} ({seconds:.1f} s)")
