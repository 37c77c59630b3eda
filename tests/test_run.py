import nbformat
import pytest

import helpers
from tools import book, run


def _chapter(tmp_path, body: str, name: str = "99_tiny.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A tiny chapter"),
        nbformat.v4.new_markdown_cell(
            "stale launch row", metadata={"tags": ["launch"]}
        ),
        nbformat.v4.new_code_cell(
            "stale set-up", metadata={"tags": ["setup"]}
        ),
        nbformat.v4.new_code_cell(body),
    ]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_full_run_writes_outputs_and_stamps(tmp_path):
    path = _chapter(tmp_path, "print(helpers.epochs(10, 2) * 3)")
    stamp = run.run(path)
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["book"]["run"] == stamp
    assert set(run.STAMP_KEYS) <= set(stamp)
    assert stamp["mode"] == "full" and stamp["seconds"] > 0
    assert stamp["device"].startswith(("CPU: ", "GPU: "))
    assert stamp["code_sha256"] == book.code_hash(nb)
    assert stamp["helpers"] == helpers.__version__
    assert nb.cells[3].outputs[0]["text"] == "30\n"  # full-mode epochs
    assert "full mode" in nb.cells[2].outputs[0]["text"]
    assert nb.cells[1].source == book.launch_row(
        path.name
    )  # brought in step with _config.yml
    assert nb.cells[2].source == book.setup_source()


def test_quick_run_is_stamped_quick(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "1")
    path = _chapter(tmp_path, "print(helpers.epochs(10, 2) * 3)")
    assert run.run(path)["mode"] == "quick"
    assert (
        nbformat.read(path, as_version=4).cells[3].outputs[0]["text"] == "6\n"
    )


def test_a_failing_chapter_is_not_overwritten(tmp_path, capsys):
    path = _chapter(tmp_path, "raise RuntimeError('boom')")
    before = path.read_bytes()
    assert run.main([str(path)]) == 1
    assert "boom" in capsys.readouterr().err
    assert path.read_bytes() == before
    failed = nbformat.read(path.with_suffix(".failed.ipynb"), as_version=4)
    assert "boom" in str(failed.cells[3].outputs)


def test_a_chapter_without_its_set_up_cell_is_refused(tmp_path):
    path = _chapter(tmp_path, "1")
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].metadata["tags"] = []
    nbformat.write(nb, path)
    with pytest.raises(run.RunError, match="set-up cell tagged 'setup'"):
        run.run(path)


def test_missing_notebook(tmp_path):
    with pytest.raises(run.RunError, match="does not exist"):
        run.run(tmp_path / "nope.ipynb")


def test_a_dying_kernel_is_reported_and_nothing_is_overwritten(tmp_path):
    path = _chapter(tmp_path, "import os\nos._exit(1)")
    before = path.read_bytes()
    with pytest.raises(run.RunError, match="the kernel died"):
        run.run(path)
    assert path.read_bytes() == before
