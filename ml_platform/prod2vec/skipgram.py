"""The skip-gram model: two embeddings (target, context), their dot product, a sigmoid.

Trained with Keras 3 on labelled pairs (`pairs.py`) by binary cross-entropy — skip-gram with
negative sampling (Mikolov et al. 2013), as in the original pipeline, but fed so it trains at
hundreds of thousands of pairs per second on two cores: the pairs stay in memory and `tf.data`
hands over whole batches (one slice per step, no per-pair work), batches are large (16,384), and
the train step is XLA-compiled (`jit_compile`), which fuses gather → dot → loss → Adam's update
into one kernel per step; `steps_per_execution` runs many steps per call from Python.

Throughput is measured over the training epochs only: one short fit on the first batches
compiles the step first (and is then undone: weights and optimizer state reset), so the figure
excludes compilation and nothing else — data pipeline, Python and callbacks are inside it.

TensorFlow is imported inside `train_skipgram` only; the result is numpy.
"""

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ml_platform.prod2vec.bought_with import BLEND_STRENGTH
from ml_platform.prod2vec.pairs import SkipgramPairs

# (epoch from 1, target vectors, context vectors) → whether to go on training
EpochCallback = Callable[[int, np.ndarray, np.ndarray], bool]


@dataclass(frozen=True)
class Hyperparameters:
    """What training needs beyond the pairs. Defaults: the best of the settings measured on
    generated data (100,000 orders, held-out HR@10): 64/0.003/5 epochs 0.664, the Optuna search's
    pick 73/0.0077/3 epochs 0.650, 64/0.008/3 epochs 0.648."""

    embedding_dim: int = 64
    learning_rate: float = 0.003
    epochs: int = 5
    batch_size: int = 16_384
    # pseudo-baskets of the vectors' evidence in "bought with" (`bought_with.py`); not training
    blend_strength: float = BLEND_STRENGTH

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass
class SkipgramModel:
    """Trained embeddings as numpy: row i of both matrices is vocabulary item i.

    `target_vectors` are the product vectors (the embedding layer taken out, as in the original
    pipeline); `context_vectors` score "bought with" through `target · context`.
    """

    target_vectors: np.ndarray
    context_vectors: np.ndarray
    hyperparameters: Hyperparameters
    history: dict[str, list[float]] = field(default_factory=dict)
    train_seconds: float = 0.0
    compile_seconds: float = 0.0
    pairs_per_second: float = 0.0


def configure_tensorflow(seed: int) -> None:
    """Seeds everything; all cores for the ops, one op at a time (the step is one fused kernel)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(os.cpu_count() or 1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised by an earlier training in this process
        pass


def build_model(n_items: int, embedding_dim: int):
    """(target, context) → logit = target_vector · context_vector; sigmoid in the loss."""
    import keras

    target = keras.Input(shape=(), dtype="int32", name="target")
    context = keras.Input(shape=(), dtype="int32", name="context")
    # Small uniform initial vectors, as word2vec's input vectors; context vectors start small
    # too (word2vec's are zero, which with Adam's scale-free steps would stall symmetry).
    init = keras.initializers.RandomUniform(-0.5 / embedding_dim, 0.5 / embedding_dim)
    target_vector = keras.layers.Embedding(
        n_items, embedding_dim, embeddings_initializer=init, name="target_embedding"
    )(target)
    context_vector = keras.layers.Embedding(
        n_items, embedding_dim, embeddings_initializer=init, name="context_embedding"
    )(context)
    logit = keras.layers.Dot(axes=1, name="dot")([target_vector, context_vector])
    return keras.Model([target, context], logit, name="skipgram")


def train_skipgram(
    pairs: SkipgramPairs,
    n_items: int,
    hyperparameters: Hyperparameters | None = None,
    *,
    seed: int = 42,
    on_epoch: EpochCallback | None = None,
    callbacks: Sequence[Any] = (),
) -> SkipgramModel:
    """Fit the skip-gram model on `pairs` for `epochs` passes, or until `on_epoch(epoch,
    target_vectors, context_vectors)` returns False (a tuning trial being pruned).

    `history["loss"]` is the loss of each epoch; `history["running_loss"]` the epoch's running
    mean after every `steps_per_execution` steps (Keras' own progress figure). `callbacks`
    (Keras callbacks) see the training epochs, not the compiling call before them."""
    import keras
    import tensorflow as tf

    hp = hyperparameters or Hyperparameters()
    if not len(pairs):
        raise ValueError("no pairs to train on: every basket has fewer than two products")
    configure_tensorflow(seed)
    batch = min(hp.batch_size, max(1, len(pairs)))
    n_batches = max(1, len(pairs) // batch)
    used = n_batches * batch  # the last partial batch is dropped; the rows are shuffled anyway
    per_call = max(1, min(32, n_batches // 4))

    def batches(rows: int) -> tf.data.Dataset:
        shaped = [
            tf.constant(a[:rows].reshape(-1, batch))
            for a in (pairs.target, pairs.context, pairs.label.astype(np.float32))
        ]
        return (
            tf.data.Dataset.from_tensor_slices(((shaped[0], shaped[1]), shaped[2]))
            .shuffle(n_batches, seed=seed, reshuffle_each_iteration=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    model = build_model(n_items, hp.embedding_dim)
    optimizer = keras.optimizers.Adam(hp.learning_rate)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        jit_compile=True,
        steps_per_execution=per_call,
    )
    data = batches(used)

    started = time.perf_counter()
    initial = model.get_weights()
    model.fit(data.take(per_call), epochs=1, verbose=0, shuffle=False)  # compiles the step
    model.set_weights(initial)
    for variable in optimizer.variables:  # step count and moments; not the learning rate
        if variable.name != "learning_rate":
            variable.assign(tf.zeros_like(variable))
    compile_seconds = time.perf_counter() - started

    running_losses: list[float] = []
    outside = [0.0]  # seconds spent in `on_epoch`, which is not training

    class Progress(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            running_losses.append(float((logs or {}).get("loss", np.nan)))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if on_epoch is None:
                return
            called = time.perf_counter()
            keep_going = on_epoch(
                epoch + 1,
                self.model.get_layer("target_embedding").embeddings.numpy(),
                self.model.get_layer("context_embedding").embeddings.numpy(),
            )
            self.model.stop_training = not keep_going
            outside[0] += time.perf_counter() - called

    training_started = time.perf_counter()
    fitted = model.fit(
        data, epochs=hp.epochs, verbose=0, shuffle=False, callbacks=[Progress(), *callbacks]
    )
    seconds = time.perf_counter() - training_started - outside[0]
    epochs_run = len(fitted.history["loss"])
    return SkipgramModel(
        target_vectors=model.get_layer("target_embedding").embeddings.numpy(),
        context_vectors=model.get_layer("context_embedding").embeddings.numpy(),
        hyperparameters=hp,
        history={
            "loss": [float(v) for v in fitted.history["loss"]],
            "running_loss": running_losses,
        },
        train_seconds=seconds,
        compile_seconds=compile_seconds,
        pairs_per_second=used * epochs_run / seconds,
    )
