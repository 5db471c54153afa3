"""Word vectors exported from gensim embed every word exactly as gensim does, without gensim."""

import numpy as np
import pytest
from gensim.models import FastText
from gensim.models.fasttext import ft_ngram_hashes

from ml_platform.similar_users.subwords import SubwordVectors, ngram_hashes


@pytest.mark.parametrize("word", ["python", "pyhton", "c++", "naïve-café", "日本語-データ", "a"])
@pytest.mark.parametrize(("min_n", "max_n"), [(3, 4), (2, 6)])
def test_ngram_buckets_are_gensims(word, min_n, max_n):
    assert ngram_hashes(word, min_n, max_n, 200_000) == list(
        ft_ngram_hashes(word, min_n, max_n, 200_000)
    )


@pytest.fixture(scope="module")
def model() -> FastText:
    sentences = [["python", "pandas", "data-analysis"], ["javascript", "react", "css"]] * 50
    model = FastText(vector_size=8, min_count=1, min_n=3, max_n=4, bucket=5_000, seed=1, workers=1)
    model.build_vocab(corpus_iterable=sentences)
    model.train(corpus_iterable=sentences, total_examples=len(sentences), epochs=3)
    return model


def test_vocabulary_words_get_gensims_vectors(model):
    vectors = SubwordVectors.from_gensim(model.wv)

    for word in ("python", "react", "data-analysis"):
        np.testing.assert_allclose(vectors.vector(word), model.wv[word], rtol=1e-6)


def test_an_unknown_word_is_gensims_composition_with_untrained_buckets_as_zero(model):
    vectors = SubwordVectors.from_gensim(model.wv)
    trained = {int(b) for buckets in model.wv.buckets_word for b in buckets}
    hashes = ft_ngram_hashes("pandas-data", 3, 4, 5_000)
    expected = sum(model.wv.vectors_ngrams[h] for h in hashes if h in trained) / len(hashes)

    np.testing.assert_allclose(vectors.vector("pandas-data"), expected, rtol=1e-5)
    assert not vectors.vector("ⓩⓩⓩ").any()  # nothing in common with the vocabulary


def test_a_misspelling_is_found_by_optimal_string_alignment(model):
    vectors = SubwordVectors.from_gensim(model.wv)

    assert vectors.closest_spelling("pyhton", 0.8) == "python"
    assert vectors.closest_spelling("data-analisys", 0.8) == "data-analysis"
    assert vectors.closest_spelling("kubernetes", 0.8) is None
