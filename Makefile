# Parley: `make run` starts the local server, `make test` runs every check.
# Cargo builds are cached outside the clone, so a fresh clone reuses earlier builds.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/parley/target
export CARGO_TERM_COLOR ?= never
PARLEY_BIN := $(CARGO_TARGET_DIR)/debug/parley

.PHONY: run test setup lint unit quickstart bench fmt

## Build and start the local server (API on 127.0.0.1:$PORT, default 8787).
run: setup
	cargo build --locked -p parley-local --bin parley
	$(PARLEY_BIN)

## Formatting, clippy -D warnings, every test, and the README quick start against a
## real server.
test: setup lint unit quickstart

setup:
	@scripts/setup.sh

lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

unit:
	cargo test --locked --workspace

quickstart:
	cargo build --locked -p parley-local --bin parley
	scripts/quickstart-test.sh $(PARLEY_BIN)

## Requests per second of POST /session-message with the offline model.
bench: setup
	cargo bench --locked -p parley-local --bench send

fmt:
	cargo fmt --all
