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

.PHONY: book test unit notebooks site stamps run clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

## make book: set up and build the site into _build/html
book: $(STAMP) site
	@echo "The book is built: open _build/html/index.html in a browser."

site: $(STAMP)
	$(BIN)/jupyter-book build --path-output . -W --keep-going .

## make test: set up, then helpers unit tests, every chapter in quick mode, and the site with -W
test: unit notebooks site

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests

notebooks: $(STAMP)
	BOOK_QUICK=1 $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env \
		-p no:cacheprovider notebooks

## make run NB=notebooks/02_sequential_models.ipynb: a full run that refreshes a chapter's outputs
run: $(STAMP)
	$(BIN)/python -m helpers.run $(NB)

clean:
	rm -rf _build
