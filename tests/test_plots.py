import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.plots import plot_history, plot_images


class FakeHistory:
    def __init__(self, history):
        self.history = history


H = {
    "loss": [1.0, 0.5, 0.3],
    "accuracy": [0.5, 0.7, 0.8],
    "val_loss": [1.1, 0.6, 0.5],
    "val_accuracy": [0.4, 0.6, 0.7],
}


def test_history_one_panel_per_metric_with_validation():
    fig = plot_history(FakeHistory(H))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_axis = fig.axes[0]
    assert loss_axis.get_ylabel() == "loss"
    assert [line.get_label() for line in loss_axis.lines] == [
        "training",
        "validation",
    ]
    assert list(loss_axis.lines[1].get_ydata()) == H["val_loss"]


def test_history_accepts_a_plain_dict_and_chosen_metrics():
    fig = plot_history(H, metrics=["accuracy"], title="t")
    assert len(fig.axes) == 1 and fig.axes[0].get_ylabel() == "accuracy"


def test_history_compares_runs():
    other = {k: [v + 0.1 for v in vals] for k, vals in H.items()}
    fig = plot_history(
        {"plain": FakeHistory(H), "augmented": other}, metrics=["loss"]
    )
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == [
        "plain: training",
        "plain: validation",
        "augmented: training",
        "augmented: validation",
    ]


def test_history_accepts_one_metric_name():
    fig = plot_history(FakeHistory(H), metrics="loss")
    assert len(fig.axes) == 1 and fig.axes[0].get_ylabel() == "loss"


def test_history_errors():
    with pytest.raises(ValueError, match="needs the History"):
        plot_history({})
    with pytest.raises(ValueError, match="not logged"):
        plot_history(FakeHistory(H), metrics=["auc"])


@pytest.mark.parametrize(
    "shape", [(10, 28, 28), (10, 28, 28, 1), (10, 32, 32, 3)]
)
def test_images_grid(shape):
    images = np.random.default_rng(0).integers(0, 255, shape).astype("uint8")
    fig = plot_images(images, captions=[str(i) for i in range(10)], ncols=4)
    assert len(fig.axes) == 12  # 3 rows of 4, two empty
    assert fig.axes[9].get_title() == "9" and not fig.axes[11].images


def test_images_float_pixels_in_0_255_are_shown():
    fig = plot_images(np.full((2, 8, 8, 3), 200.0))
    assert np.allclose(fig.axes[0].images[0].get_array(), 200 / 255)


def test_images_with_negative_values_are_rescaled_not_wrapped():
    # A tanh output in [-1, 1]: -1 is black, 1 is white, never noise.
    tanh = np.stack([np.full((4, 4), -1.0), np.full((4, 4), 1.0)])
    shown = [a.images[0].get_array() for a in plot_images(tanh).axes]
    assert np.allclose(shown[0], 0.0) and np.allclose(shown[1], 1.0)
    # Standardised pixels (mean 0, std 1, beyond [-1, 1]): one scale.
    z = np.array([[[-1.5, 0.0], [1.5, 3.0]]])
    shown = plot_images(z).axes[0].images[0].get_array()
    assert np.allclose(shown, [[0.0, 1 / 3], [2 / 3, 1.0]])
    assert float(shown.min()) >= 0.0  # -1.5 is not wrapped to 255


def test_images_share_one_scale():
    # Two grey levels stay two grey levels (no per-image stretching).
    images = np.stack([np.full((4, 4), 0.2), np.full((4, 4), 0.6)])
    fig = plot_images(images)
    for ax, level in zip(fig.axes, (0.2, 0.6)):
        image = ax.images[0]
        assert np.allclose(image.get_array(), level)
        assert image.get_clim() == (0.0, 1.0)


def test_images_errors():
    with pytest.raises(ValueError, match="shaped"):
        plot_images(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="captions"):
        plot_images(np.zeros((3, 8, 8)), captions=["a"])


def test_figures_fit_the_page():
    many = {k: v for k, v in H.items()}
    many["auc"], many["val_auc"] = [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]
    fig = plot_history(FakeHistory(many), metrics=["loss", "accuracy", "auc"])
    assert fig.get_figwidth() <= 10.0
    fig = plot_images(np.zeros((24, 8, 8)), ncols=12)
    assert fig.get_figwidth() <= 10.0
