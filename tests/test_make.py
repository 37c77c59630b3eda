"""The Makefile and tools/ensure_venv.sh: clear messages, no dead ends.

Each test runs the real script or target with stand-in programs, so none
of them installs anything.
"""

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENSURE = ROOT / "tools" / "ensure_venv.sh"
MAKE = shutil.which("make")


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _fake_python(tmp_path: Path, version: str) -> Path:
    """A 'python' that reports ``version`` and makes venvs of stand-ins.

    Its venvs' python logs every call to calls.log and succeeds.
    """
    log = tmp_path / "calls.log"
    inner = (
        f'echo "$@" >> {log}\n'
        'case "$*" in *"import helpers"*) exit 0;; esac\n'
        "exit 0\n"
    )
    body = (
        'case "$1" in\n'
        f"  -c) echo {version};;\n"
        '  -m) mkdir -p "$3/bin"\n'
        f"      cat > \"$3/bin/python\" <<'EOS'\n#!/bin/sh\n{inner}EOS\n"
        '      chmod +x "$3/bin/python";;\n'
        "esac\n"
    )
    return _script(tmp_path / "python3", body)


def _ensure(tmp_path, python, allowed="3.10 3.11 3.12 3.13"):
    venv = tmp_path / "venv"
    return subprocess.run(
        [str(ENSURE), str(venv), str(python), "requirements.txt", allowed],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_python_too_new_for_tensorflow_fails_at_once(tmp_path):
    result = _ensure(tmp_path, _fake_python(tmp_path, "3.14"))
    assert result.returncode == 1
    assert (
        "Python 3.14" in result.stderr
        and "3.10 3.11 3.12 3.13" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "venv").exists()


def test_a_missing_python_says_what_to_do(tmp_path):
    result = _ensure(tmp_path, tmp_path / "no-such-python")
    assert result.returncode == 1 and "not found" in result.stderr


def test_a_venv_is_made_once_and_then_left_alone(tmp_path):
    python = _fake_python(tmp_path, "3.11")
    assert _ensure(tmp_path, python).returncode == 0
    installs = (tmp_path / "calls.log").read_text().count("install")
    assert installs == 2  # pip itself, then the requirements
    assert _ensure(tmp_path, python).returncode == 0
    assert (tmp_path / "calls.log").read_text().count("install") == installs


def test_a_venv_whose_interpreter_vanished_is_rebuilt(tmp_path):
    python = _fake_python(tmp_path, "3.11")
    assert _ensure(tmp_path, python).returncode == 0
    # The interpreter behind the venv is gone; its stamp still looks fresh.
    (tmp_path / "venv" / "bin" / "python").unlink()
    result = _ensure(tmp_path, python)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "venv" / "bin" / "python").exists()
    assert (tmp_path / "calls.log").read_text().count("install") == 4


def test_make_run_without_a_notebook_explains_itself():
    result = subprocess.run(
        [MAKE, "-s", "run"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "usage: make run NB=notebooks/NN_name.ipynb" in result.stdout


def test_graphviz_that_cannot_be_installed_is_a_warning(tmp_path):
    # No `dot` on PATH and an apt-get that fails: a warning, not a stop.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script(bin_dir / "apt-get", "exit 100\n")
    _script(bin_dir / "id", "echo 0\n")
    env = {**os.environ, "PATH": str(bin_dir)}
    result = subprocess.run(
        [MAKE, "-s", "graphviz"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "warning: could not install Graphviz" in result.stdout
