# Two commands for a fresh machine with Python 3.11 and make:
#   make test        set up .venv and run the tests
#   make reproduce   set up .venv and regenerate results/ (quick profile)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test reproduce bench clean browser lab explore

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP)

# Chromium for the explorer's browser test (tests/test_explorer.py); never fatal: without it the test skips.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) || echo "chromium not installed: the browser test will be skipped"

test: $(STAMP) browser
	$(BIN)/ruff format --check rl2lib tests
	$(BIN)/ruff check rl2lib tests
	$(BIN)/python -m pytest -q

reproduce: $(STAMP)
	$(BIN)/python -m rl2lib.reproduce

# JupyterLab on the numbered notebooks, with this project's kernel (.venv)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1

# The explorer as a page (Voila) on this machine only; a page's kernel ends once it has been idle
# for 5 minutes, or closed, so that reloads do not pile up kernels
EXPLORE_PORT ?= 8866
explore: $(STAMP)
	@echo "the explorer: http://127.0.0.1:$(EXPLORE_PORT)/ (Ctrl-C stops it)"
	$(BIN)/voila notebooks/08_explorer.ipynb --no-browser --Voila.ip=127.0.0.1 --port=$(EXPLORE_PORT) \
		--MappingKernelManager.cull_interval=60 --MappingKernelManager.cull_idle_timeout=300 \
		--MappingKernelManager.cull_connected=True

bench: $(STAMP)
	$(BIN)/python -m rl2lib.bench

clean:
	rm -rf $(VENV) .pytest_cache
