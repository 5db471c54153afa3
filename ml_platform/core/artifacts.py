"""Model artifacts: the metrics, parameters and plots a model asset records on each materialization.

Plots are embedded in the metadata as base64 PNGs inside markdown, so they show in the Dagster
UI next to the run that produced them, with nothing else to host. Figures are built with
`matplotlib.figure.Figure` rather than pyplot: no global figure registry to leak from a
long-running worker, and PNG rendering goes through Agg whatever backend the process chose.
Matplotlib (~1 s) and scikit-learn are imported on first use, not when definitions load.
"""

import base64
import io
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import dagster as dg
import numpy as np
import numpy.typing as npt
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_DPI = 80  # keeps a plot ~20-40 kB: it is stored in the event log with every materialization


def figure_markdown(fig: "Figure", title: str = "plot") -> dg.MetadataValue:
    """The figure as an inline PNG; a pyplot figure is closed so repeated materializations
    don't pile figures up in pyplot's registry."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    if fig.canvas.manager is not None:  # made with pyplot, which keeps it alive until closed
        import matplotlib.pyplot as plt

        plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def model_metadata(
    *,
    metrics: Mapping[str, float],
    params: Mapping[str, object],
    plots: Mapping[str, "Figure"],
) -> dict[str, dg.MetadataValue]:
    """`metric/<name>` floats (the UI charts them across materializations), `params` as one
    JSON value, `plot/<name>` inline images. The prefixes keep the three from colliding."""
    return {
        **{
            f"metric/{name}": dg.MetadataValue.float(float(value))
            for name, value in metrics.items()
        },
        "params": dg.MetadataValue.json(json.loads(json.dumps(params, default=_json_default))),
        **{f"plot/{name}": figure_markdown(fig, title=name) for name, fig in plots.items()},
    }


def score_histogram(scores: npt.ArrayLike, labels: npt.ArrayLike | None = None) -> "Figure":
    """Where the model puts its probabilities; split by label (1 match, 0 non-match, NaN or
    None unknown) it shows how well the classes separate and where a threshold would cut."""
    from matplotlib.figure import Figure

    scores = np.asarray(scores, dtype=float)
    bins = np.linspace(min(0.0, scores.min(initial=0.0)), max(1.0, scores.max(initial=1.0)), 41)
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    if labels is None:
        ax.hist(scores, bins=bins, color="tab:blue")
    else:
        label_values = np.asarray(labels, dtype=float)
        groups = [
            ("match", label_values == 1, "tab:green"),
            ("non-match", label_values == 0, "tab:red"),
            ("unlabelled", np.isnan(label_values), "tab:gray"),
        ]
        for name, mask, color in groups:
            if mask.any():
                label = f"{name} ({mask.sum()})"
                ax.hist(scores[mask], bins=bins, histtype="step", lw=1.5, color=color, label=label)
        ax.legend()
    # Matches are usually a tiny fraction of candidate pairs; a linear axis would hide them.
    ax.set_yscale("log")
    ax.set_xlabel("match probability")
    ax.set_ylabel("pairs (log scale)")
    ax.set_title("Score distribution")
    return fig


def precision_recall_curve_figure(y_true: npt.ArrayLike, scores: npt.ArrayLike) -> "Figure":
    """Precision against recall over every threshold, with average precision in the legend:
    the curve to read when choosing the match threshold on imbalanced pairs."""
    from matplotlib.figure import Figure
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(y_true, scores)
    average_precision = average_precision_score(y_true, scores)
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(recall, precision, drawstyle="steps-post", label=f"AP = {average_precision:.3f}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall curve")
    ax.legend(loc="lower left")
    return fig


def _json_default(value: object) -> object:
    """numpy scalars and arrays become plain JSON; anything else (paths, enums) its str."""
    return value.tolist() if isinstance(value, np.generic | np.ndarray) else str(value)


def markdown_table(rows: pd.DataFrame, max_cell_chars: int = 60) -> str:
    """A small DataFrame as a markdown table for metadata (no `tabulate` dependency)."""

    def cell(value: object) -> str:
        text = str(value)
        text = text if len(text) <= max_cell_chars else text[: max_cell_chars - 1] + "…"
        return text.replace("|", "\\|").replace("\n", " ")

    header = [str(rows.index.name or ""), *map(str, rows.columns)]
    body = [list(map(cell, row)) for row in rows.itertuples(name=None)]
    return "\n".join(
        "| " + " | ".join(row) + " |"
        for row in [list(map(cell, header)), ["---"] * len(header), *body]
    )
