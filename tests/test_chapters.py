"""The committed chapters: structure, provenance of their outputs, and their results.

Each chapter's outputs must come from a full run by the book's runner
(``python -m helpers.run``); the results cell must report the figures its
issue asks for, at the full-mode targets.
"""

import json

import nbformat
import pytest

from helpers import book, run

CHAPTERS = book.chapters()


def _close(values, targets, tol):
    return len(values) == len(targets) and all(abs(v - t) <= tol for v, t in zip(values, targets))


# Key figures each chapter must report, and the full-mode target each must meet.
TARGETS = {
    "01_getting_started": {
        "linear_weights": lambda w: _close(w, [1.0, 2.0], 0.1),
        "linear_bias": lambda b: isinstance(b, float),
    },
    "02_sequential_models": {
        "mnist_mlp_test_accuracy": lambda a: a >= 0.98,
        "mnist_cnn_test_accuracy": lambda a: a >= 0.99,
        "fashion_cnn_test_accuracy": lambda a: a >= 0.91,
    },
    "03_data_pipelines": {
        "tfdata_speedup": lambda s: s >= 1.5,
        "catsdogs_val_accuracy_augmented": lambda a: a >= 0.72,
        "imdb_text_test_accuracy": lambda a: a >= 0.85,
        "export_roundtrip_max_abs_diff": lambda d: 0.0 <= d < 1e-5,
    },
    "04_functional_api": {
        "residual_fashion_test_accuracy": lambda a: a >= 0.92,
        "siamese_pair_accuracy": lambda a: a >= 0.95,
        "imdb_sentiment_test_accuracy": lambda a: a >= 0.85,  # head 1: positive or negative
        "imdb_stars_test_mae": lambda e: e <= 2.0,  # head 2: the 1-10 star rating
    },
    "05_subclassing": {
        "custom_dense_matches_keras": lambda m: m is True,
        "custom_train_step_test_accuracy": lambda a: a >= 0.98,
        "explicit_loop_test_accuracy": lambda a: a >= 0.98,
        "roundtrip_max_abs_diff": lambda d: 0.0 <= d < 1e-6,
    },
    "06_training": {
        "early_stopping_best_epoch": lambda e: isinstance(e, int) and e >= 1,
        "resume_started_at_epoch": lambda e: e == 4,  # crashed at the end of epoch 3 of 8
        "resume_lost_epochs": lambda n: n == 0,
        "best_optimizer": lambda o: o in {"SGD", "SGD + momentum", "RMSprop", "Adam", "AdamW"},
        "best_optimizer_final_val_loss": lambda v: v < 0.5,
        "unregularised_val_gap": lambda g: g > 0.4,
        "regularised_val_gap": lambda g: g < 0.3,
    },
    "07_evaluation": {
        "fashion_macro_f1": lambda f: f >= 0.90,
        "binary_roc_auc": lambda a: a >= 0.93,
        "regression_r2": lambda r: r > 0.2,
        "kfold_accuracy_mean": lambda a: a >= 0.8,
        "kfold_accuracy_std": lambda s: 0.0 < s < 0.05,
    },
}


def _load(path):
    return nbformat.read(path, as_version=4)


def _tagged(nb, tag):
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def _printed(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _results(nb):
    return json.loads(_printed(_tagged(nb, book.RESULTS_TAG)[0]))


def test_the_book_has_its_chapters():
    names = [p.stem for p in CHAPTERS]
    assert set(TARGETS) <= set(names), f"missing chapters: {set(TARGETS) - set(names)}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_outputs_come_from_a_full_run_by_the_runner(path):
    stamp = _load(path).metadata.get("book", {}).get("run")
    assert stamp, f"{path.name} has no book.run stamp: run `python -m helpers.run notebooks/{path.name}`."
    missing = [k for k in run.STAMP_KEYS if k not in stamp]
    assert not missing, f"{path.name}: stamp lacks {missing}"
    assert stamp["mode"] == "full", f"{path.name} was last run in {stamp['mode']} mode; re-run it in full mode."


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_code_cell_ran_in_order_without_errors(path):
    cells = [c for c in _load(path).cells if c.cell_type == "code"]
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: cells not run top to bottom once"
    errors = [c.source[:60] for c in cells if any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"{path.name}: cells with errors: {errors}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_title_launch_row_and_set_up(path):
    nb = _load(path)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.cells[1].source == book.launch_row(path.name), "run `python -m helpers.book sync`"
    setup = [c for c in nb.cells if c.cell_type == "code"][0]
    assert _tagged(nb, book.SETUP_TAG) == [setup]
    extra = nb.metadata.get("book", {}).get("colab_packages", [])
    assert setup.source == book.setup_source(extra), "run `python -m helpers.book sync`"
    assert "full mode" in _printed(setup), f"{path.name}: the set-up cell's output does not say full mode"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_summary_exercises_and_results(path):
    nb = _load(path)
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()
                if line.startswith("## ")]
    assert any("Summary" in h for h in headings) and any("Exercises" in h for h in headings)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert _tagged(nb, book.RESULTS_TAG) == [code[-1]], "the last code cell, alone, is tagged 'results'"
    assert isinstance(_results(nb), dict)


def test_augmentation_beats_no_augmentation():
    results = _results(_load(book.NOTEBOOKS / "03_data_pipelines.ipynb"))
    assert results["catsdogs_val_accuracy_augmented"] > results["catsdogs_val_accuracy_plain"]


@pytest.mark.parametrize("stem", sorted(TARGETS))
def test_results_meet_their_targets(stem):
    results = _results(_load(book.NOTEBOOKS / f"{stem}.ipynb"))
    for key, meets in TARGETS[stem].items():
        assert key in results, f"{stem}: results lack {key!r}"
        assert meets(results[key]), f"{stem}: {key} = {results[key]} misses its target"
