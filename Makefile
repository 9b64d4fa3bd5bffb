# remotemedia — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
BIN := target/release/remotemedia-runtime
ifneq ($(CARGO_TARGET_DIR),)
BIN := $(CARGO_TARGET_DIR)/release/remotemedia-runtime
endif

.PHONY: help setup build demo test test-rust test-examples lint fmt schema bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install the tools the tests need (cargo-nextest) if missing
	@command -v cargo-nextest >/dev/null || $(CARGO) install cargo-nextest --locked

build: ## build the release binary
	$(CARGO) build --release -p remotemedia-runtime

demo: build ## the main job: run the example pipeline on the example data shipped in manifests/
	$(BIN) run manifests/passthrough_calculator.json --input manifests/passthrough_calculator.input.json

test: setup test-rust test-examples ## every test (what CI runs)

test-rust: ## Rust unit, integration, CLI and doc tests
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc

test-examples: ## run every crate example (each asserts its result)
	@for ex in batch streaming custom_node; do \
		echo "example $$ex"; $(CARGO) run -q -p remotemedia-runtime --example $$ex || exit 1; done

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

schema: ## regenerate manifests/schema.json from the code
	$(CARGO) run -q -p remotemedia-runtime -- schema > manifests/schema.json

bench: ## executor benchmarks (figures go to benches/RESULTS.md)
	$(CARGO) bench -p remotemedia-runtime --bench executor

clean: ## remove build output
	$(CARGO) clean
