"""The tweet classifier: Keras `TextVectorization` + embeddings + a small network, exported as a
TensorFlow SavedModel that takes raw strings.

Trained on the label model's probabilistic labels (soft targets, Snorkel's end model recipe:
tweets no labelling function voted on are left out) plus people's golden labels, it learns the
words that co-occur with the rules' words, so it also recognises the AI tweets no rule fires on;
that is why it can beat the label model it learned from.

The text pipeline is inside the model, so the SavedModel maps `["text", …]` to `[[p], …]`:
exactly TensorFlow Serving's REST contract, served by `tensorflow_model_server` or by the
platform's app from the same files. TensorFlow is imported inside functions: the code location
and the other products' serving never pay for it.
"""

import functools
import io
import json
import tarfile
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ml_platform.core.pickling import DerivedStateRebuiltOnLoad

# Links, mentions and punctuation are noise to the words: links are judged by their domains
# (the labelling functions, `urls.py`), handles say who, not what. `\pL`/`\pN` keep accented
# letters (RE2, TensorFlow's regex engine, reads `\w` as ASCII only).
_LINK = r"https?://\S+"
_MENTION = r"@\w+"
_NOT_WORD = r"[^\pL\pN#]+"


@dataclass(frozen=True)
class ClassifierConfig:
    """Defaults tuned on the generated stream's dev split; small enough to train in seconds."""

    max_tokens: int = 30_000
    # A word or bigram seen fewer times than this in training is out of vocabulary: too rare
    # to have learnt what it means. Out-of-vocabulary words add nothing (`KnownTokenSum`):
    # their one shared embedding used to score any unseen word, and it was never trained
    # (every generated word was in the vocabulary), so "Thank you." scored 0.83.
    min_count: int = 3
    # Share of known tokens made out-of-vocabulary while training (word dropout): every tweet
    # is also seen with words missing, so no single word carries a tweet.
    token_dropout: float = 0.15
    sequence_length: int = 48
    ngrams: int = 2  # unigrams and bigrams ("deep learning" ≠ "deep" + "learning")
    embedding_dim: int = 32
    hidden_units: int = 32
    dropout: float = 0.3
    learning_rate: float = 3e-3
    batch_size: int = 128
    epochs: int = 12
    patience: int = 2
    golden_weight: float = 3.0  # a person's label counts as this many weak labels


@dataclass
class TrainingResult:
    """The Keras model and what training saw, for metadata."""

    model: Any
    history: dict[str, list[float]]
    train_seconds: float
    examples: int


def standardize(texts: Any) -> Any:
    """TensorFlow ops, so the same cleaning runs inside the SavedModel at serving time."""
    import tensorflow as tf

    lowered = tf.strings.lower(texts)
    cleaned = tf.strings.regex_replace(lowered, _LINK, " ")
    cleaned = tf.strings.regex_replace(cleaned, _MENTION, " ")
    return tf.strings.regex_replace(cleaned, _NOT_WORD, " ")


def vocabulary(texts: np.ndarray, config: ClassifierConfig) -> list[str]:
    """Words and bigrams (as `TextVectorization` forms them, from `standardize`d text) seen at
    least `min_count` times, most frequent first, at most `max_tokens` − 2 (padding and OOV
    take two ids)."""
    from collections import Counter

    import tensorflow as tf

    counts: Counter[str] = Counter()
    for start in range(0, len(texts), 4096):
        cleaned = standardize(tf.constant(list(texts[start : start + 4096]), dtype=tf.string))
        for line in cleaned.numpy():
            words = line.decode("utf-8").split()
            counts.update(words)
            for n in range(2, config.ngrams + 1):
                counts.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    kept = sorted(
        (token for token, count in counts.items() if count >= config.min_count),
        key=lambda token: (-counts[token], token),
    )
    return kept[: config.max_tokens - 2]


@functools.cache
def _layers() -> tuple[type, type]:
    """The two custom layers, defined on first use so importing this module loads no Keras."""
    import keras

    class TokenDropout(keras.layers.Layer):
        """While training, each known token (id ≥ 2) becomes OOV (id 1) with probability
        `rate`; padding (0) stays padding. At inference it passes tokens through."""

        def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.rate = rate
            self.generator = keras.random.SeedGenerator(seed)

        def call(self, tokens: Any, training: bool | None = None) -> Any:
            if not training or self.rate <= 0:
                return tokens
            ops = keras.ops
            drop = keras.random.uniform(ops.shape(tokens), seed=self.generator) < self.rate
            return ops.where(drop & (tokens > 1), ops.ones_like(tokens), tokens)

    class KnownTokenSum(keras.layers.Layer):
        """Sum of the embeddings of known tokens (id ≥ 2): evidence adds up, and padding or
        an out-of-vocabulary word adds nothing. A mean would let one known word carry a text
        ("tv has baseball on" judged by "on" alone) or, counting unknown words, drown a paper
        title's three AI words in the rest of the sentence; a text with no known word (emoji
        only, a link only, unseen words) is the zero vector — the text with no evidence, where
        Keras's masked average pooling divided by zero and served NaN."""

        def call(self, embedded: Any, tokens: Any) -> Any:
            ops = keras.ops
            known = ops.expand_dims(ops.cast(tokens > 1, embedded.dtype), -1)
            return ops.sum(embedded * known, axis=1)

    return TokenDropout, KnownTokenSum


def build_model(train_texts: np.ndarray, config: ClassifierConfig, seed: int) -> Any:
    """String in, P(about AI) out, through a logit layer (`logit`) that calibration rescales;
    the vocabulary comes from `train_texts`."""
    import keras

    keras.utils.set_random_seed(seed)
    words = vocabulary(train_texts, config) or ["[none]"]  # an empty vocabulary is refused
    vectorize = keras.layers.TextVectorization(
        standardize=standardize,
        ngrams=config.ngrams,
        output_mode="int",
        output_sequence_length=config.sequence_length,
        vocabulary=words,
        name="vectorize",
    )
    token_dropout, known_token_sum = _layers()
    text = keras.Input(shape=(), dtype="string", name="text")
    tokens = vectorize(text)
    tokens = token_dropout(config.token_dropout, seed=seed, name="token_dropout")(tokens)
    embedded = keras.layers.Embedding(len(words) + 2, config.embedding_dim, name="embedding")(
        tokens
    )
    pooled = known_token_sum(name="evidence")(embedded, tokens)
    hidden = keras.layers.Dense(config.hidden_units, activation="relu", name="hidden")(pooled)
    hidden = keras.layers.Dropout(config.dropout, seed=seed)(hidden)
    logit = keras.layers.Dense(1, name="logit")(hidden)
    probability = keras.layers.Activation("sigmoid", name="probability")(logit)
    model = keras.Model(text, probability, name="tweet_classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="binary_crossentropy",
    )
    return model


def train(
    texts: Sequence[str],
    targets: np.ndarray,
    weights: np.ndarray,
    validation: tuple[Sequence[str], np.ndarray] | None,
    config: ClassifierConfig,
    seed: int = 42,
    callbacks: Sequence[Any] = (),
) -> TrainingResult:
    """Fit on soft `targets` in [0, 1] with per-example `weights`; early stopping on the
    validation loss (golden dev labels when there are enough) restores the best epoch.
    `callbacks` (Keras callbacks) see every epoch, e.g. `core.keras_progress.EpochLog`."""
    import keras

    started = time.perf_counter()
    x = np.asarray(texts, dtype=object)
    model = build_model(x, config, seed)
    callbacks = list(callbacks)
    validation_data = None
    if validation is not None and len(validation[0]):
        validation_data = (
            np.asarray(validation[0], dtype=object),
            np.asarray(validation[1], "float32"),
        )
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=True
            )
        )
    fitted = model.fit(
        x,
        np.asarray(targets, dtype="float32"),
        sample_weight=np.asarray(weights, dtype="float32"),
        validation_data=validation_data,
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )
    history = {name: [float(v) for v in values] for name, values in fitted.history.items()}
    return TrainingResult(model, history, time.perf_counter() - started, len(x))


def predict(model: Any, texts: Sequence[str], batch_size: int = 2048) -> np.ndarray:
    """P(about AI) per text from a Keras model (training-time evaluation)."""
    if not len(texts):
        return np.empty(0)
    x = np.asarray(texts, dtype=object)
    return model.predict(x, batch_size=batch_size, verbose=0).reshape(-1).astype(float)


def logits(model: Any, texts: Sequence[str], batch_size: int = 2048) -> np.ndarray:
    """The `logit` layer's output per text: what Platt scaling is fitted on."""
    import keras

    if not len(texts):
        return np.empty(0)
    head = keras.Model(model.input, model.get_layer("logit").output)
    x = np.asarray(texts, dtype=object)
    return head.predict(x, batch_size=batch_size, verbose=0).reshape(-1).astype(float)


def with_platt_scaling(model: Any, slope: float, intercept: float) -> Any:
    """The same network serving sigmoid(slope · logit + intercept): the calibration is part of
    the SavedModel, so TensorFlow Serving and the platform's app serve calibrated
    probabilities from the same files, with no step outside the model."""
    import keras

    platt = keras.layers.Dense(1, trainable=False, name="platt")
    scaled = platt(model.get_layer("logit").output)
    probability = keras.layers.Activation("sigmoid", name="calibrated")(scaled)
    platt.set_weights([np.array([[slope]], "float32"), np.array([intercept], "float32")])
    return keras.Model(model.input, probability, name="tweet_classifier")


# Beside the SavedModel, where TensorFlow Serving allows extra files (`assets.extra/`): the
# threshold chosen on dev and how it was calibrated, so a copy of the directory alone still
# classifies as the stored model does (`tweets classify --model DIR`).
MODEL_CARD = "assets.extra/tweet_classifier.json"


def export_saved_model(model: Any, directory: Path, card: dict[str, Any] | None = None) -> None:
    """The TensorFlow Serving layout's version directory: `saved_model.pb` + `variables/`, with
    the `serving_default` signature taking a string tensor `text` of shape [batch]; `card`
    (threshold, calibration figures) is written to `MODEL_CARD`."""
    model.export(str(directory), format="tf_saved_model", verbose=False)
    if card is not None:
        path = Path(directory) / MODEL_CARD
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(card, indent=2, sort_keys=True))


def pack_directory(directory: Path) -> bytes:
    """A SavedModel directory as one tar archive, so it is stored and swapped as one value."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(directory, arcname=".")
    return buffer.getvalue()


def unpack_directory(archive: bytes, directory: Path) -> None:
    """Extract a `pack_directory` archive, refusing links and paths that leave `directory`.

    Checked here rather than only with `extractall(filter="data")`: the filter exists from
    Python 3.11.4, and Debian's 3.11 is 3.11.2.
    """
    root = directory.resolve()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            if not (member.isfile() or member.isdir()):
                raise ValueError(f"model archive member '{member.name}' is not a file or folder")
            if not (root / member.name).resolve().is_relative_to(root):
                raise ValueError(f"model archive member '{member.name}' leaves its folder")
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(directory, members=members, **safe)


@dataclass
class TweetClassifier(DerivedStateRebuiltOnLoad):
    """What the `tweet_classifier` asset stores and serving loads: the SavedModel (packed), its
    integer version (also its directory name in the TensorFlow Serving layout), the decision
    threshold and the metrics it was chosen with. No TensorFlow object is pickled: the
    SavedModel is loaded from the archive on first use, once per process."""

    saved_model: bytes
    version: int
    threshold: float
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    trained_at: str = ""

    def __post_init__(self) -> None:
        self._loaded: Any = None
        self._lock = threading.Lock()
        self._directory: tempfile.TemporaryDirectory | None = None

    def load(self) -> "TweetClassifier":
        """Unpack and load the SavedModel now (serving does this before swapping it in, so no
        request waits for it, and a broken archive keeps the previous model served)."""
        with self._lock:
            if self._loaded is None:
                import tensorflow as tf

                self._directory = tempfile.TemporaryDirectory(prefix="tweet_classifier_")
                unpack_directory(self.saved_model, Path(self._directory.name))
                self._loaded = tf.saved_model.load(self._directory.name)
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """P(about AI) per text, through the SavedModel's serving signature."""
        if not len(texts):
            return np.empty(0)
        import tensorflow as tf

        serve = self.load()._loaded.signatures["serving_default"]
        outputs = serve(text=tf.constant(list(texts), dtype=tf.string))
        return next(iter(outputs.values())).numpy().reshape(-1).astype(float)


def load_saved_model_directory(directory: Path, threshold: float | None = None) -> TweetClassifier:
    """A SavedModel directory given by a person (`tweets classify --model DIR`): either one
    version directory or a TensorFlow Serving base directory, whose highest version is used.
    The threshold is `threshold`, else the one recorded in its `MODEL_CARD`, else 0.5."""
    from ml_platform.core.errors import InvalidInputError

    directory = Path(directory)
    if not (directory / "saved_model.pb").is_file():
        versions = sorted(
            (int(p.name), p) for p in directory.glob("*") if p.name.isdigit() and p.is_dir()
        )
        if not versions:
            raise InvalidInputError(
                f"{directory}: no saved_model.pb and no numbered version directories in it"
            )
        version, directory = versions[-1]
    else:
        version = int(directory.name) if directory.name.isdigit() else 0
    card_path = directory / MODEL_CARD
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    if threshold is None:
        threshold = float(card.get("threshold", 0.5))
    return TweetClassifier(
        pack_directory(directory),
        version=version,
        threshold=threshold,
        metrics={k: float(v) for k, v in card.get("metrics", {}).items()},
    )
