"""Legacy Keras 2 calls appear only in the appendix that explains them.

Appendix A (``notebooks/A1_reading_keras2_code.ipynb``) shows old code next to
its Keras 3 form; every other chapter, and ``helpers``, uses Keras 3 only.
Only code is checked: prose may name an old API to say what replaced it.
"""

import re
from pathlib import Path

import nbformat
import pytest

from tools import book

ROOT = Path(__file__).resolve().parent.parent
APPENDIX = "A1_reading_keras2_code"

# What to look for, and what to write instead.
LEGACY = {
    r"\b(tf|tensorflow)\.keras\b": "import keras (Keras 3), not tf.keras",
    r"\b(fit|predict|evaluate)_generator\b": "fit/predict/evaluate",
    # Not predict_proba: scikit-learn's estimators have it.
    r"\bpredict_classes\b": "predict, then argmax or a threshold",
    r"\bImageDataGenerator\b": "image_dataset_from_directory + layers",
    r"\bkeras\.preprocessing\b": "keras.utils / keras.layers",
    # Not keras.wrappers alone: keras.wrappers.SKLearnClassifier is Keras 3.
    r"\bkeras\.wrappers\.scikit_learn\b": "SciKeras or keras.wrappers",
    r"\bnp_utils\b": "keras.utils.to_categorical",
    r"\bnb_epoch\b": "epochs=",
    r"[(,]\s*decay\s*=(?!=)": "a learning-rate schedule",
    r"\bfrom\s+keras\s+import\s+backend\b|\bbackend\s+as\s+K\b": "keras.ops",
    r"[(,]\s*lr\s*=(?!=)": "learning_rate=",
    r"\binput_length\s*=": "Embedding without input_length",
    r"\btf_keras\b|TF_USE_LEGACY_KERAS": "Keras 3",
    r"""\.save\(\s*f?["'][^"']*(?<!\.weights)\.h5["']""": "a .keras file",
    r"\bsave_format\s*=": "model.save('x.keras') or model.export",
    r"\blayers\.experimental\b": "keras.layers",
}


def legacy_calls(code: str) -> list[str]:
    """Each legacy call in ``code``, with the line it is on."""
    found = []
    for line in code.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for pattern, instead in LEGACY.items():
            if re.search(pattern, line):
                found.append(f"{line.strip()!r} (use {instead})")
    return found


def _sources():
    chapters = [p for p in book.chapters() if p.stem != APPENDIX]
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        yield path.name, code
    for path in sorted((ROOT / "helpers").glob("*.py")):
        yield f"helpers/{path.name}", path.read_text(encoding="utf-8")


SOURCES = list(_sources())


@pytest.mark.parametrize(
    "name,code", SOURCES, ids=[name for name, _ in SOURCES]
)
def test_only_the_appendix_uses_legacy_keras(name, code):
    found = legacy_calls(code)
    assert not found, (
        f"{name} uses Keras 2 APIs; they belong in appendix A only: {found}"
    )


@pytest.mark.parametrize(
    "code",
    [
        "model.fit_generator(gen, epochs=3)",
        "from tensorflow.keras.layers import Dense",
        "x = tf.keras.layers.Dense(3)",
        "opt = keras.optimizers.Adam(lr=0.01)",
        "model.predict_classes(x)",
        "from keras.preprocessing.image import ImageDataGenerator",
        "from keras import backend as K",
        "layers.Embedding(5000, 32, input_length=200)",
        "model.save('model.h5')",
        "model.save(f'{name}.h5')",
        "from keras.wrappers.scikit_learn import KerasClassifier",
        "os.environ['TF_USE_LEGACY_KERAS'] = '1'",
        "keras.optimizers.SGD(0.1, decay=1e-4)",
        "from keras.utils import np_utils",
        "model.fit(x, y, nb_epoch=10)",
    ],
)
def test_each_legacy_form_is_caught(code):
    assert legacy_calls(code)


@pytest.mark.parametrize(
    "code",
    [
        "opt = keras.optimizers.Adam(learning_rate=0.01)",
        "best_lr = 3e-4",
        "lr = schedule(step)",
        "model.save_weights('ckpt.weights.h5')",
        "model.save('model.keras')",
        "# fit_generator is gone: use fit",
        "layers.Embedding(5000, 32)",
        "keras.utils.image_dataset_from_directory(path)",
        "p = forest.predict_proba(x_val)",
        "keras.wrappers.SKLearnClassifier(model=build)",
        "keras.optimizers.AdamW(weight_decay=1e-4)",
        "schedules.ExponentialDecay(0.1, 100, decay_rate=0.9)",
    ],
)
def test_modern_forms_pass(code):
    assert not legacy_calls(code)
