# Two commands on a fresh machine: `make book` and `make test`.
# Both create their virtual environments if they are missing or stale:
#   .venv        the newest releases (requirements.txt), Python 3.10-3.13
#   .venv-colab  Google Colab's current runtime (envs/colab.txt), Python 3.13
# A BOOK_DATA_MIRROR already in the environment is passed on to every step.

PYTHON       ?= python3
# Colab runs Python 3.13: use python3.13 from PATH, else one pyenv installed.
COLAB_PYTHON ?= $(shell command -v python3.13 >/dev/null 2>&1 && python3.13 -c "" 2>/dev/null \
                  && echo python3.13 || ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1)
VENV         ?= .venv
COLAB_VENV   ?= .venv-colab
BIN           = $(VENV)/bin
COLAB_BIN     = $(COLAB_VENV)/bin
export BOOK_DATA_MIRROR
export PYTHONHASHSEED = 0
export TF_CPP_MIN_LOG_LEVEL = 2
# Python 3.13 kernels: no debugpy warning about frozen modules in the test logs.
export PYDEVD_DISABLE_FILE_VALIDATION = 1

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Quick mode, each chapter in order, outputs compared where tagged nbval-check-output.
NBVAL = BOOK_QUICK=1 python -m pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

.PHONY: book test setup setup-colab graphviz chromium unit unit-colab lint notebooks \
        notebooks-colab site browser run clean

setup:
	@tools/ensure_venv.sh $(VENV) $(PYTHON) requirements.txt "3.10 3.11 3.12 3.13"
	@$(MAKE) --no-print-directory graphviz

setup-colab:
	@tools/ensure_venv.sh $(COLAB_VENV) "$(or $(COLAB_PYTHON),python3.13)" envs/colab.txt "3.13"

# Only keras.utils.plot_model needs Graphviz's `dot` (Colab has it); without it
# Keras prints a message instead of a diagram, so a failed install only warns.
graphviz:
	@command -v dot >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq graphviz; } \
	|| echo "warning: could not install Graphviz; plot_model will print a note instead of a diagram" \
	        "(install it from https://graphviz.org/download/)."

# The site test drives the system's Chromium with Playwright (no browser
# download); DejaVu fonts keep its measurement of code widths the same everywhere.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]; } \
	|| [ -n "$$BOOK_CHROMIUM" ] \
	|| { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core; } \
	|| { echo "error: the site test needs Chromium: install it (apt-get install chromium) or set BOOK_CHROMIUM."; exit 1; }

## make book: set up and build the site into _build/html
book: site
	@echo "The book is built: open _build/html/index.html in a browser."

site: setup
	$(BIN)/jupyter-book build --path-output . -W --keep-going .

## make test: lint, unit tests, every chapter in quick mode in both environments, the site, a browser
test: lint unit unit-colab notebooks notebooks-colab site browser

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

unit: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests --ignore=tests/site

unit-colab: setup-colab
	$(COLAB_BIN)/python -m pytest -q -p no:cacheprovider tests --ignore=tests/site

notebooks: setup
	PATH="$(abspath $(BIN)):$$PATH" $(NBVAL)

notebooks-colab: setup-colab
	PATH="$(abspath $(COLAB_BIN)):$$PATH" $(NBVAL)

browser: site chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/site

## make run NB=notebooks/02_sequential_models.ipynb: a full run that refreshes a chapter's outputs
run:
	@[ -n "$(NB)" ] || { echo "usage: make run NB=notebooks/NN_name.ipynb (one or more, space-separated)"; exit 2; }
	@$(MAKE) --no-print-directory setup
	$(BIN)/python -m tools.run $(NB)

clean:
	rm -rf _build
