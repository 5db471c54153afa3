"""The classifier trained on weak labels: better than its teachers on held-out truth, and the
SavedModel it exports answers exactly as the Keras model did, from raw strings."""

import pickle

import numpy as np
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.tweets import evaluation
from ml_platform.tweets.classifier import load_saved_model_directory, unpack_directory


def test_classifier_beats_label_model_and_majority_vote_on_held_out_truth(trained_classifier):
    result = trained_classifier.result
    assert result.evaluated_on == "golden labels of test"
    by_model = result.comparison.set_index("model")["f1"]
    assert by_model["classifier"] > max(by_model["label_model"], by_model["majority_vote"])
    assert by_model["classifier"] > 0.9
    # judged on the generator's truth directly, not only through the golden copy of it
    tweets = trained_classifier.tweets
    test = tweets[tweets["split"] == "test"]
    scores = result.classifier.predict(test["text"].tolist())
    figures = evaluation.binary_figures(test["is_ai"], scores >= result.classifier.threshold)
    assert figures["f1"] == pytest.approx(by_model["classifier"], abs=1e-6)


def test_ai_tweets_no_labelling_function_voted_on_are_still_found(trained_classifier):
    tweets = trained_classifier.tweets.merge(
        trained_classifier.weak.table, on=["tweet_id", "split"]
    )
    votes = tweets[[c for c in tweets.columns if c.startswith("lf_")]].to_numpy()
    silent_ai = tweets[(votes == -1).all(axis=1) & (tweets["is_ai"] == 1)]
    assert len(silent_ai) > 20
    classifier = trained_classifier.result.classifier
    found = classifier.predict(silent_ai["text"].tolist()) >= classifier.threshold
    label_model_found = silent_ai["label_model_probability"] >= 0.5
    assert found.mean() > label_model_found.mean() + 0.3


def test_stored_classifier_pickles_without_tensorflow_objects_and_predicts_the_same(
    trained_classifier, tmp_path
):
    classifier = trained_classifier.result.classifier
    texts = ["Fine-tuning LLMs on a budget #AI", "Marathon training week 9, legs are done"]
    before = classifier.predict(texts)
    copy = pickle.loads(pickle.dumps(classifier))
    assert copy._loaded is None  # the SavedModel is loaded from the archive on first use
    assert np.allclose(copy.predict(texts), before)
    assert before[0] > 0.5 > before[1]

    # a TensorFlow Serving base directory: the highest version is the one served
    unpack_directory(classifier.saved_model, tmp_path / "base" / "3")
    (tmp_path / "base" / "1").mkdir()
    from_directory = load_saved_model_directory(tmp_path / "base")
    assert from_directory.version == 3
    assert np.allclose(from_directory.predict(texts), before, atol=1e-6)
    # the threshold chosen on dev travels with the directory (TF Serving's assets.extra/)
    assert from_directory.threshold == pytest.approx(classifier.threshold)
    assert load_saved_model_directory(tmp_path / "base", threshold=0.9).threshold == 0.9
    with pytest.raises(InvalidInputError, match="no saved_model.pb"):
        load_saved_model_directory(tmp_path / "base" / "1")


def test_the_saved_model_takes_a_batch_of_strings_and_returns_one_probability_each(
    trained_classifier, tmp_path
):
    import tensorflow as tf

    unpack_directory(trained_classifier.result.classifier.saved_model, tmp_path / "1")
    served = tf.saved_model.load(str(tmp_path / "1"))
    signature = served.signatures["serving_default"]
    ((name, spec),) = signature.structured_input_signature[1].items()
    assert (name, spec.dtype, spec.shape.as_list()) == ("text", tf.string, [None])
    (output,) = signature(text=tf.constant(["a", "b", "c"])).values()
    assert output.shape == (3, 1)


def test_probabilities_are_calibrated_on_held_out_truth(trained_classifier):
    """Platt scaling on dev: on test, the served P(AI) matches how often it is right."""
    result = trained_classifier.result
    assert result.metrics["brier_score"] < 0.05
    assert result.metrics["expected_calibration_error"] < 0.05
    table = result.reliability
    assert table["tweets"].sum() == len(result.test_truth)
    assert "dev" in result.threshold_chosen_on
