"""Thin plotting helpers over matplotlib.

Introduced in chapter 2: training curves from a Keras ``History`` and a grid of
images with captions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

#: The widest figure, in inches, that fits the book's page.
PAGE_WIDTH = 10.0


def _as_dict(history) -> dict[str, list[float]]:
    values = getattr(history, "history", history)
    if not isinstance(values, Mapping) or not values:
        raise ValueError(
            "plot_history() needs the History that model.fit() returned (or "
            "its .history dict); "
            f"got {type(history).__name__} with no metrics."
        )
    return {k: list(v) for k, v in values.items()}


def _runs(history) -> dict[str, dict[str, list[float]]]:
    """``{label: metrics}`` from a History, a dict, or a dict of those."""
    if (
        isinstance(history, Mapping)
        and history
        and all(
            hasattr(h, "history") or isinstance(h, Mapping)
            for h in history.values()
        )
    ):
        return {str(label): _as_dict(h) for label, h in history.items()}
    return {"": _as_dict(history)}


def plot_history(
    history, metrics: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Plot training and validation curves, one panel per metric.

    ``history`` is what ``model.fit`` returns, its ``.history`` dict, or a
    dict ``{label: History}`` to compare several runs on the same panels.
    ``metrics`` (one name or a list) defaults to every metric logged for
    training.
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    runs = _runs(history)
    first = next(iter(runs.values()))
    if metrics is None:
        metrics = [
            k
            for k in first
            if not k.startswith("val_") and k != "learning_rate"
        ]
    for label, values in runs.items():
        unknown = [m for m in metrics if m not in values]
        if unknown:
            raise ValueError(
                f"plot_history(): {unknown} not "
                f"logged{' for ' + label if label else ''}; "
                f"logged: {sorted(values)}."
            )
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(min(PAGE_WIDTH, 5 * len(metrics)), 3.5),
        squeeze=False,
    )
    for ax, metric in zip(axes[0], metrics):
        for i, (label, values) in enumerate(runs.items()):
            color = f"C{i}"
            epochs = np.arange(1, len(values[metric]) + 1)
            prefix = f"{label}: " if label else ""
            ax.plot(
                epochs, values[metric], color=color, label=f"{prefix}training"
            )
            if f"val_{metric}" in values:
                ax.plot(
                    epochs,
                    values[f"val_{metric}"],
                    color=color,
                    linestyle="--",
                    label=f"{prefix}validation",
                )
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """Map a batch of images to floats in [0, 1] for display.

    uint8, or floats within [0, 255] with values above 1: divided by 255.
    Floats within [0, 1]: unchanged. Floats within [-1, 1] with negatives (a
    tanh output): ``(x + 1) / 2``. Anything else (standardised pixels):
    rescaled from the batch's minimum and maximum. Never wraps around.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 255.0
    x = images.astype("float32")
    low, high = float(x.min()), float(x.max())
    if low >= 0.0 and high <= 1.0:
        return x
    if low >= 0.0 and high <= 255.0:
        return x / 255.0
    if low >= -1.0 and high <= 1.0:
        return (x + 1.0) / 2.0
    return (x - low) / (high - low)


def plot_images(
    images: Sequence[np.ndarray] | np.ndarray,
    captions: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str | None = "gray",
    size: float = 1.6,
) -> Figure:
    """Show images in a grid, each with an optional caption underneath.

    Accepts ``(n, h, w)``, ``(n, h, w, 1)`` or ``(n, h, w, 3)`` arrays, uint8
    or float; single-channel images use ``cmap``. Pixel values are shown as
    :func:`to_unit_range` maps them, the same scale for every image.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(
            "plot_images() needs a non-empty batch of images shaped (n, h, "
            "w[, c]); "
            f"got shape {images.shape}."
        )
    if captions is not None and len(captions) != len(images):
        raise ValueError(
            f"plot_images(): {len(images)} images but {len(captions)} "
            "captions."
        )
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    scaled = to_unit_range(images)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    cell = min(size, PAGE_WIDTH / ncols)  # each image's side, in inches
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(cell * ncols, (cell + 0.35) * nrows),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        image = scaled[i]
        ax.imshow(
            image, cmap=cmap if image.ndim == 2 else None, vmin=0.0, vmax=1.0
        )
        if captions is not None:
            ax.set_title(captions[i], fontsize=9)
    fig.tight_layout()
    return fig
