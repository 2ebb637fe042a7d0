"""PNG plots for training reports, drawn with matplotlib's Agg canvas.

Figures are built as `matplotlib.figure.Figure` objects on their own `FigureCanvasAgg` instead of
through pyplot: no backend switch, no global figure registry to leak into, and safe to call from
several threads at once. matplotlib is imported inside the functions so that importing the engine
stays cheap for processes that never draw a report.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BLUE = "#2563eb"
GREY = "#94a3b8"
ACCENT = "#ea580c"
MAX_LABEL = 40


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # 150 dpi keeps text sharp when the page scales the image down to its column width.
    figure.savefig(buffer, format="png", dpi=150, facecolor="white")
    figure.clear()
    return buffer.getvalue()


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def roc_png(y: np.ndarray, p: np.ndarray, auc: float) -> bytes:
    """ROC curve with the chance diagonal; needs both classes in `y`."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    figure = _figure(5.5, 4.8)
    ax = figure.add_subplot()
    ax.plot(fpr, tpr, color=BLUE, linewidth=2, label=f"model (AUC = {auc:.4f})")
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="chance (AUC = 0.5)")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="False positive rate", ylabel="True positive rate")
    ax.set_title("ROC curve (holdout)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _png(figure)


def calibration_bins(
    y: np.ndarray, p: np.ndarray, max_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean predicted probability, observed frequency and size of equal-count (quantile) bins.

    Bins are cut by rank rather than by quantile value so that tied scores cannot produce empty
    bins; with fewer rows than `max_bins` every row is its own bin.
    """
    bins = max(1, min(max_bins, len(p)))
    groups = np.array_split(np.argsort(p, kind="stable"), bins)
    predicted = np.array([float(np.mean(p[g])) for g in groups])
    observed = np.array([float(np.mean(y[g])) for g in groups])
    counts = np.array([len(g) for g in groups])
    return predicted, observed, counts


def calibration_png(y: np.ndarray, p: np.ndarray) -> bytes:
    """Reliability diagram over quantile bins with a histogram of the scores beneath it."""
    predicted, observed, _ = calibration_bins(y, p)
    figure = _figure(5.5, 6.0)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfectly calibrated")
    top.plot(predicted, observed, color=BLUE, marker="o", linewidth=2, label="model")
    top.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="Mean predicted probability in bin")
    top.set_ylabel("Observed frequency")
    top.tick_params(labelbottom=True)
    top.set_title(f"Calibration (holdout, {len(predicted)} quantile bins)")
    top.grid(alpha=0.3)
    top.legend(loc="upper left")
    bottom.hist(p, bins=np.linspace(0, 1, 21), color=BLUE, alpha=0.6, edgecolor="white")
    bottom.set(xlabel="Predicted probability", ylabel="Rows")
    bottom.set_title("Distribution of predicted probabilities", fontsize=10)
    bottom.grid(alpha=0.3, axis="y")
    return _png(figure)


def confusion_png(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> bytes:
    """2×2 confusion matrix of `p >= threshold` against `y`, counts written in each cell."""
    predicted = (p >= threshold).astype(int)
    actual = y.astype(int)
    counts = np.array([[np.sum((actual == a) & (predicted == b)) for b in (0, 1)] for a in (0, 1)])
    figure = _figure(5.0, 4.4)
    ax = figure.add_subplot()
    image = ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max()), 1))
    figure.colorbar(image, ax=ax, shrink=0.8)
    total = max(int(counts.sum()), 1)
    for a in (0, 1):
        for b in (0, 1):
            value = int(counts[a, b])
            # White on the dark cells, dark on the light ones, so every count stays legible.
            colour = "white" if value > 0.6 * counts.max() else "#0f172a"
            text = f"{value}\n({value / total:.1%})"
            ax.text(b, a, text, ha="center", va="center", color=colour, fontsize=13)
    ax.set_xticks([0, 1], labels=["0", "1"])
    ax.set_yticks([0, 1], labels=["0", "1"])
    ax.set(xlabel="Predicted", ylabel="Actual")
    ax.set_title(f"Confusion matrix (threshold {threshold:g})")
    return _png(figure)


def importance_png(importance: dict[str, float], top: int = 15) -> bytes:
    """Horizontal bars of the `top` largest importance shares, largest first."""
    from matplotlib.ticker import PercentFormatter

    ranked = sorted(importance.items(), key=lambda kv: -kv[1])[:top]
    names = [_short(name) for name, _ in reversed(ranked)]
    shares = [share for _, share in reversed(ranked)]
    figure = _figure(7.0, max(2.8, 1.2 + 0.36 * len(ranked)))
    ax = figure.add_subplot()
    bars = ax.barh(names, shares, color=BLUE)
    ax.bar_label(bars, labels=[f"{s:.1%}" for s in shares], padding=3, fontsize=9)
    ax.set_xlim(0, max(max(shares), 1e-9) * 1.18)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Share of global importance")
    shown = f"top {len(ranked)} of {len(importance)}" if len(importance) > top else "all"
    ax.set_title(f"Global feature importance ({shown})")
    ax.grid(alpha=0.3, axis="x")
    return _png(figure)


def comparison_png(cv_scores: dict[str, dict[str, float]], winner: str) -> bytes:
    """Cross-validated ROC AUC mean ± std per algorithm, the winner in the accent colour."""
    ranked = sorted(cv_scores.items(), key=lambda kv: kv[1].get("auc_roc_mean", 0.0))
    names = [_short(name) for name, _ in ranked]
    means = np.array([s.get("auc_roc_mean", 0.0) for _, s in ranked])
    stds = np.array([s.get("auc_roc_std", 0.0) for _, s in ranked])
    colours = [ACCENT if name == winner else GREY for name, _ in ranked]
    figure = _figure(5.5, max(3.0, 1.4 + 0.5 * len(ranked)))
    ax = figure.add_subplot()
    ax.barh(names, means, xerr=stds, color=colours, capsize=4, error_kw={"ecolor": "#334155"})
    # A zero baseline would flatten differences of a few hundredths into identical bars, so the
    # axis starts just below the weakest candidate; the value labels carry the exact numbers.
    low = max(0.0, float(np.min(means - stds)) - 0.05)
    high = min(1.0, float(np.max(means + stds)))
    span = high - low
    for i, (mean, std) in enumerate(zip(means, stds, strict=True)):
        # Offset in points, not data units, so the label clears the error-bar cap at any scale.
        ax.annotate(
            f"{mean:.4f} ± {std:.4f}",
            (mean + std, i),
            xytext=(7, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(low, high + 0.45 * span)
    ax.set_xlabel("Cross-validated ROC AUC (mean ± std)")
    # Centred on the figure rather than the axes: the long algorithm labels push the axes right.
    figure.suptitle("Candidate algorithms (selected one highlighted)")
    ax.grid(alpha=0.3, axis="x")
    for tick in ax.get_yticklabels():
        if tick.get_text() == _short(winner):
            tick.set_fontweight("bold")
    return _png(figure)
