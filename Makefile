# One entry point for people, CI and workflows. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

UV_VERSION := 0.13.9
# Use uv from PATH if present; otherwise bootstrap a pinned copy into .tools/ with pip.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen --no-sync
PYTEST_ARGS ?=
# Set UV_SYNC_FLAGS=--compile-bytecode where PYTHONDONTWRITEBYTECODE is set (saves ~1.5 s per command).
UV_SYNC_FLAGS ?=

.PHONY: help install run test lint format bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen $(UV_SYNC_FLAGS)
	@touch $@

install: .venv/.synced ## create .venv from the lock file (uv sync --frozen)

run: install ## reproduce the whole pipeline (dvc repro) and print the headline metrics
	$(RUN) dvc repro
	$(RUN) mlops summary

test: install lint ## lint, then run the whole test suite
	$(RUN) pytest $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks

format: install ## apply ruff fixes and formatting
	$(RUN) ruff check --fix src tests benchmarks
	$(RUN) ruff format src tests benchmarks

bench: install ## run the benchmarks in benchmarks/ (slow; prints figures)
	$(RUN) python benchmarks/pipeline.py

clean: ## remove pipeline outputs (they stay in the DVC cache: `dvc checkout` restores them)
	rm -rf data/interim data/processed models/*.joblib dvc_plots
