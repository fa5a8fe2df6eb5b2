# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast bench clean

install: $(STAMP)

# torch first and pinned: 2.13.0 resolves to a local CPU wheel here; any looser spec
# resolved from scratch pulls several GB of CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[ml,dev]'
	touch $(STAMP)

demo: install
	$(PY) -m ekt_curate demo

# Hostile programs run inside a fresh PID namespace (when unshare works, i.e. as root):
# a sandbox bug that let a program kill(-1) or fork-bomb would stay contained there.
test: install
	@if [ "$$(id -u)" = 0 ] && unshare --pid --fork --mount-proc true 2>/dev/null; then \
		echo "running the suite inside a fresh PID namespace"; \
		unshare --pid --fork --mount-proc $(PY) -m pytest -q; \
	else \
		echo "no PID namespace available (not root): running the suite directly"; \
		$(PY) -m pytest -q; \
	fi

test-fast: install
	$(PY) -m pytest -q -m "not slow"

bench: install
	$(PY) benchmarks/bench_executor.py
	$(PY) benchmarks/bench_verify.py

clean:
	rm -rf $(VENV) .pytest_cache
