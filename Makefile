# Efficiency Lab: `make app` serves the app, `make test` runs the tests. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CLASS_STAMP := $(VENV)/.installed-class
CHROMIUM := /usr/bin/chromium
PORT ?= 8501

.PHONY: app class install install-class postgres-server test test-slow test-all bench bench-techniques lint format screenshots clean

install: $(STAMP)

# A GPU machine joining a class's Ray cluster needs the lab and Ray, not the app served: `make install-class`.
install-class: $(CLASS_STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# The class server's extras (Ray): the class server and the tests need them, a laptop's `make app` does not.
$(CLASS_STAMP): $(STAMP) requirements-class.txt
	$(PY) -m pip install --quiet -r requirements-class.txt
	touch $(CLASS_STAMP)

# Debian's Chromium drives the browser test (Playwright's own browser download cannot run offline).
$(CHROMIUM):
	@if command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	else echo "Install Chromium at $(CHROMIUM) for the browser test"; fi

# Debian's PostgreSQL server programs: the tests start a throwaway server from them (tests/postgres.py).
# Installing them may also create and start Debian's own "main" cluster; the tests never use it.
postgres-server:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	else echo "Install PostgreSQL's server (Debian: postgresql) for the store's PostgreSQL tests"; fi

# The personal lab: this machine only (127.0.0.1), one user, everything allowed.
app: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address 127.0.0.1 --server.headless true --browser.gatherUsageStats false

# The class server: on the network; refuses to start without $$EFFLAB_TEACHER_PIN or $$EFFLAB_TEACHER_PIN_FILE.
class: $(CLASS_STAMP)
	$(PY) -m efficiency.class_server --port $(PORT)

test: $(CLASS_STAMP) $(CHROMIUM) postgres-server
	$(PY) -m pytest -m "not slow"

test-slow: $(CLASS_STAMP) $(CHROMIUM) postgres-server
	$(PY) -m pytest -m slow

test-all: $(CLASS_STAMP) $(CHROMIUM) postgres-server
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py

bench-techniques: $(STAMP)
	$(PY) benchmarks/bench_techniques.py
	$(PY) benchmarks/bench_techniques.py --suite marathi
	$(PY) benchmarks/bench_techniques.py --suite nusax-more

screenshots: $(STAMP) $(CHROMIUM)
	$(PY) scripts/screenshots.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pylint --rcfile pyproject.toml efficiency pages app.py benchmarks scripts

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
