"""Progress lines a run's log shows while it works: one per Keras epoch, per Optuna trial, per
long load (a list-backed logger stands in for `context.log`; both only need `.info`)."""

import re

import numpy as np
import pytest

from ml_platform.core import progress


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append(msg)


def test_a_load_logs_its_rows_and_seconds_and_nothing_when_it_fails():
    log = Lines()
    with progress.load(log, "ratings") as loaded:
        loaded.rows = 100_836
    with pytest.raises(ValueError), progress.load(log, "broken"):
        raise ValueError("bad file")
    assert len(log.lines) == 1
    assert re.fullmatch(r"ratings: 100,836 rows read in \d+\.\d s", log.lines[0])


def test_every_keras_epoch_is_logged_with_its_figures():
    import keras

    from ml_platform.core.keras_progress import EpochLog

    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    log = Lines()
    model.fit(x, x.sum(axis=1), validation_split=0.25, epochs=3, verbose=0,
              callbacks=[EpochLog(log, "toy")])  # fmt: skip
    assert [line.split(" loss")[0] for line in log.lines] == [
        "toy: epoch 1/3",
        "toy: epoch 2/3",
        "toy: epoch 3/3",
    ]
    assert all(re.search(r"loss \d+\.\d{4}, val_loss \d+\.\d{4} \(\d+\.\d s\)$", line)
               for line in log.lines)  # fmt: skip


def test_every_optuna_trial_is_logged_with_state_value_params_and_best():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    log = Lines()

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        if trial.number == 1:
            raise optuna.TrialPruned()
        return -(x**2)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(objective, n_trials=3, callbacks=[progress.optuna_trial_logger(log, "search")])
    assert [line.split(" (")[0].rsplit(" value", 1)[0] for line in log.lines] == [
        "search: trial 0 COMPLETE",
        "search: trial 1 PRUNED",
        "search: trial 2 COMPLETE",
    ]
    assert re.search(r"x=-?\d", log.lines[0]) and "best so far" in log.lines[2]
