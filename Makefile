# Two commands on a fresh machine: `make book` and `make test`.
# Both create .venv if it is missing and install requirements.txt and helpers.
# A BOOK_DATA_MIRROR already in the environment is passed on to every step.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
export BOOK_DATA_MIRROR
export PYTHONHASHSEED = 0
export TF_CPP_MIN_LOG_LEVEL = 2

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: book test setup graphviz unit notebooks site run clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

# keras.utils.plot_model needs Graphviz's `dot` (Colab has it already).
graphviz:
	@command -v dot >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq graphviz; } \
	|| { echo "Could not install Graphviz: install it yourself (https://graphviz.org/download/)."; exit 1; }

setup: $(STAMP) graphviz

## make book: set up and build the site into _build/html
book: setup site
	@echo "The book is built: open _build/html/index.html in a browser."

site: setup
	$(BIN)/jupyter-book build --path-output . -W --keep-going .

## make test: set up, then helpers unit tests, every chapter in quick mode, and the site with -W
test: unit notebooks site

unit: setup
	$(BIN)/python -m pytest -q tests

notebooks: setup
	BOOK_QUICK=1 $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env \
		-p no:cacheprovider notebooks

## make run NB=notebooks/02_sequential_models.ipynb: a full run that refreshes a chapter's outputs
run: setup
	$(BIN)/python -m helpers.run $(NB)

clean:
	rm -rf _build
