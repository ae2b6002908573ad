# Two commands a person needs: `make run` and `make test`. Both install what is
# missing first (a virtualenv in .venv, and for tests Debian's chromium).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast install chromium models bench clean

run: $(VENV)/.installed
	$(PY) -m streamlit run Home.py

# Each prints how long its tests took, on its last line. One pytest session in two workers
# (pytest-xdist): the browser tests whose servers train take turns in one of them (6-7 min
# on 2 cores, tests/e2e/conftest.py: TRAINS) while the other runs everything else, the longest
# work first (tests/conftest.py); 9-10.5 min in all (2026-12-03).
TEST_RUN := -m pytest -n 2 --dist loadgroup --no-loadscope-reorder

test: $(VENV)/.installed-dev chromium
	@start=$$(date +%s); $(PY) $(TEST_RUN) tests/unit tests/app tests/e2e; code=$$?; \
	echo "make test: tests took $$(( ($$(date +%s) - start) / 60 )) min $$(( ($$(date +%s) - start) % 60 )) s"; exit $$code

# The inner loop: core and pages, no browser.
test-fast: $(VENV)/.installed-dev
	@start=$$(date +%s); $(PY) $(TEST_RUN) tests/unit tests/app; code=$$?; \
	echo "make test-fast: tests took $$(( ($$(date +%s) - start) / 60 )) min $$(( ($$(date +%s) - start) % 60 )) s"; exit $$code

install: $(VENV)/.installed

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: $(VENV)/.created requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt requirements-ray.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's chromium through Playwright (no `playwright install`).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium; }

# Retrain the built-in models in assets/models/ (about 25 minutes on 2 cores, 40 at most).
models: $(VENV)/.installed
	$(PY) -m core.default_models

bench: $(VENV)/.installed-dev
	for b in startup train time_to_accuracy draw compare opencv_lab_rerun memory load; do $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache artifacts
