import base64
import re

import dagster as dg
import numpy as np

from ml_platform.core import artifacts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def embedded_png(value: dg.MetadataValue) -> bytes:
    match = re.fullmatch(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", value.value)
    assert match, value.value[:80]
    return base64.b64decode(match.group(1))


def legend_texts(fig) -> list[str]:
    return [text.get_text() for text in fig.axes[0].get_legend().get_texts()]


def test_model_metadata_records_metrics_params_and_viewable_plots() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.clip(labels * 0.6 + rng.random(200) * 0.4, 0, 1)

    metadata = artifacts.model_metadata(
        metrics={"precision": np.float64(0.93), "recall": 0.88},
        params={"max_depth": np.int64(6), "features": ("jaro", "dob"), "seed": 7},
        plots={
            "scores": artifacts.score_histogram(scores, labels),
            "precision_recall": artifacts.precision_recall_curve_figure(labels, scores),
        },
    )

    assert metadata["metric/precision"] == dg.MetadataValue.float(0.93)
    assert metadata["metric/recall"] == dg.MetadataValue.float(0.88)
    assert metadata["params"].value == {"max_depth": 6, "features": ["jaro", "dob"], "seed": 7}
    for key in ("plot/scores", "plot/precision_recall"):
        assert isinstance(metadata[key], dg.MarkdownMetadataValue)
        assert embedded_png(metadata[key]).startswith(PNG_MAGIC)


def test_pyplot_figures_are_closed_once_rendered() -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.add_subplot().plot([0, 1], [0, 1])

    value = artifacts.figure_markdown(fig, title="line")

    assert not plt.fignum_exists(fig.number)
    assert value.value.startswith("![line](data:image/png;base64,")
    assert embedded_png(value).startswith(PNG_MAGIC)


def test_score_histogram_splits_known_labels_and_keeps_unlabelled_pairs_apart() -> None:
    scores = [0.05, 0.1, 0.2, 0.9, 0.95, 0.5, 0.6]
    labels = [0, 0, 0, 1, 1, None, np.nan]

    fig = artifacts.score_histogram(scores, labels)

    assert legend_texts(fig) == ["match (2)", "non-match (3)", "unlabelled (2)"]


def test_score_histogram_without_labels_has_one_series() -> None:
    fig = artifacts.score_histogram([0.1, 0.4, 0.8])

    assert fig.axes[0].get_legend() is None
    assert sum(patch.get_height() for patch in fig.axes[0].patches) == 3


def test_precision_recall_curve_of_a_perfect_ranking_has_average_precision_one() -> None:
    fig = artifacts.precision_recall_curve_figure([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])

    assert legend_texts(fig) == ["AP = 1.000"]
