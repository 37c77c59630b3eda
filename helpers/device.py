"""``setup()``: the first code cell of every chapter calls it.

Introduced in chapter 1. It seeds every random number generator, finds the
accelerator, turns on the offline data mirror when ``BOOK_DATA_MIRROR`` is
set, and prints one line saying what the chapter runs on.

Seeds make a run on the same CPU with the same versions repeat itself. They
do not make runs identical across machines, versions or thread counts, and
on a GPU many kernels (cuDNN convolutions' backward passes, atomics in
reductions) are non-deterministic, so numbers differ slightly between runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from . import __version__, data, modes

RUN_INFO_ENV = "BOOK_RUN_INFO"
COLAB_GPU_HINT = "For a GPU on Colab: Runtime > Change runtime type > T4 GPU."


# Start-up chatter that TensorFlow's C++ runtime writes to stderr on a machine
# without CUDA; it means nothing to a reader and is dropped. Anything else
# passes.
NATIVE_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|failed "
    r"call to cuInit"
    r"|cpu_feature_guard\.cc|To enable the following instructions|rebuild "
    r"TensorFlow with"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer "
    r"already registered"
    r"|TF-TRT Warning|oneDNN custom operations are on"
)


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Drop TensorFlow's CPU start-up chatter from stderr; keep the rest."""
    try:
        fd = sys.__stderr__.fileno()
    except (
        AttributeError,
        OSError,
        ValueError,
    ):  # no real stderr: nothing to filter
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            capture.seek(0)
            kept = [
                line
                for line in capture.read()
                .decode(errors="replace")
                .splitlines(keepends=True)
                if line.strip() and not NATIVE_NOISE.search(line)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


@dataclass(frozen=True)
class RunInfo:
    """What a chapter runs on; :func:`setup` returns it."""

    device: str
    gpus: int
    mixed_precision: bool
    tensorflow: str
    keras: str
    python: str
    mode: str
    mirror: str | None
    helpers: str

    def line(self) -> str:
        """What :func:`setup` prints: one line, and a GPU hint on a CPU."""
        parts = [
            self.device,
            f"TensorFlow {self.tensorflow}",
            f"Keras {self.keras}",
            f"{self.mode} mode",
        ]
        if self.mixed_precision:
            parts.append("mixed precision")
        text = " · ".join(parts)
        # The hint gets a line of its own, so each fits the page's width.
        return text if self.gpus else f"{text}\n{COLAB_GPU_HINT}"


def _supports_mixed_precision(details: dict) -> bool:
    """float16 pays off from compute capability 7.0 (Volta, T4) upwards."""
    capability = details.get("compute_capability") or (0, 0)
    return tuple(capability) >= (7, 0)


def setup(seed: int = 42, mixed_precision: bool = False) -> RunInfo:
    """Seed the generators, set up GPUs and the data mirror, print one line.

    ``seed`` goes to Python, NumPy and TensorFlow
    (``keras.utils.set_random_seed``): the same data splits, initial weights
    and shuffles every run. That repeats a CPU run exactly; on a GPU some
    kernels are non-deterministic, so results vary a little between runs.

    ``mixed_precision=True`` switches Keras to ``mixed_float16``, but only on a
    GPU that runs float16 fast; elsewhere it stays ``float32`` and the line
    says so by not mentioning it. Returns a :class:`RunInfo`.
    """
    mode = modes.mode()  # raises early on a bad BOOK_QUICK
    with quiet_native_logs():
        import keras
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    keras.utils.set_random_seed(seed)
    names = []
    mixed = False
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # The GPU is already initialised (setup() ran before): growth is
            # set then.
            pass
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
        mixed = mixed or (
            mixed_precision and _supports_mixed_precision(details)
        )
    keras.mixed_precision.set_global_policy(
        "mixed_float16" if mixed else "float32"
    )
    if names:
        device = "GPU: " + ", ".join(names)
    else:
        device = f"CPU: {os.cpu_count()} cores"
    info = RunInfo(
        device=device,
        gpus=len(gpus),
        mixed_precision=mixed,
        tensorflow=tf.__version__,
        keras=keras.__version__,
        python=platform.python_version(),
        mode=mode,
        mirror=data.use_mirror_from_env(),
        helpers=__version__,
    )
    print(info.line())
    record = os.environ.get(RUN_INFO_ENV)
    if record:  # the book's runner asks where the chapter ran
        with open(record, "w", encoding="utf-8") as handle:
            json.dump(asdict(info), handle)
    return info
