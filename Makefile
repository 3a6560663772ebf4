# One entry point for people, CI and workflows. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

UV_VERSION := 0.13.9
# Use uv from PATH if present; otherwise bootstrap a pinned copy into .tools/ with pip.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen --no-sync
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` / `make test-fast` (auto = one per core).
TEST_WORKERS ?= auto
BASE_REF ?= origin/main
REPORT_IMAGES ?= link
MONITOR_FLAGS ?=
# Set UV_SYNC_FLAGS=--compile-bytecode where PYTHONDONTWRITEBYTECODE is set (saves ~1.5 s per command).
UV_SYNC_FLAGS ?=

.PHONY: help install run test test-fast lint format bench clean test-code test-data-model repro report gate checkout-ref audit audit-online repro-push save-model bento serve containerize replay monitor retrain propose ct-status init

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

test: install lint ## lint, then the whole suite on every core; prints the 25 slowest tests
	$(RUN) pytest -n $(TEST_WORKERS) --dist worksteal --durations=25 $(PYTEST_ARGS)

test-fast: install ## the inner loop: every test not marked slow, on every core
	$(RUN) pytest -m "not slow" -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks

format: install ## apply ruff fixes and formatting
	$(RUN) ruff check --fix src tests benchmarks
	$(RUN) ruff format src tests benchmarks

test-code: install ## unit tests of the stages' cores (PR workflow)
	$(RUN) pytest -m code $(PYTEST_ARGS)

test-data-model: install ## data-contract and model tests (PR workflow)
	$(RUN) pytest -m "data or model" $(PYTEST_ARGS)

repro: install ## dvc repro, pulling data and run-cache first when a DVC remote is configured
	$(RUN) mlops repro $(if $(filter true,$(DVC_REMOTE_OPTIONAL)),--remote-optional)

report: install ## markdown report vs $$BASE_REF into reports/pr/ (and $$GITHUB_STEP_SUMMARY)
	$(RUN) mlops report --base-ref "$(BASE_REF)" --out reports/pr/report.md \
	  --plots-diff reports/pr/plots_diff --images "$(REPORT_IMAGES)" --title "Model report"

gate: install ## fail if a metric regresses beyond its tolerance vs $$BASE_REF
	$(RUN) mlops gate --base-ref "$(BASE_REF)"

# cd.yml on workflow_dispatch: the full-history checkout of the pushed commit, then `ref`.
checkout-ref: install ## check out $$CHECKOUT_REF (tag, branch, SHA of any length); empty = stay
	$(RUN) mlops checkout-ref --ref "$(CHECKOUT_REF)"

repro-push: install ## like repro, then push outputs and run-cache to the DVC remote (trusted events only)
	$(RUN) mlops repro --push

save-model: install ## save models/model.joblib to the BentoML store with lineage; print its tag
	$(RUN) mlops save-model

bento: save-model ## build the Bento and export it to build/bento.bento (outputs to $$GITHUB_OUTPUT)
	$(RUN) mlops build --export build/bento.bento

serve: save-model ## serve the pipeline's model on http://127.0.0.1:3000 (development)
	$(RUN) bentoml serve mlops_template.serving.service:Predictor --host 127.0.0.1 --port 3000

# Used by cd.yml on GitHub (needs a Docker engine): import the Bento, build and push the image.
containerize: install ## bentoml containerize $$BENTO_TAG as $$IMAGE:{$$MODEL_VERSION,$$COMMIT}; push
	@# an absolute path: BentoML 1.4 opens a relative one from / ('/build/bento.bento')
	$(RUN) bentoml get "$(BENTO_TAG)" >/dev/null 2>&1 || $(RUN) bentoml import "$(CURDIR)/build/bento.bento"
	$(RUN) bentoml containerize "$(BENTO_TAG)" --image-tag "$(IMAGE):$(MODEL_VERSION)" --image-tag "$(IMAGE):$(COMMIT)"
	docker push --all-tags "$(IMAGE)"

init: install ## use your own table: make init DATA=path.csv TARGET=column [TASK=auto] [TIME_COLUMN=col] [DROP="col ..."]
	$(RUN) mlops init --data "$(DATA)" --target "$(TARGET)" --task "$(or $(TASK),auto)" $(if $(TIME_COLUMN),--time-column "$(TIME_COLUMN)") $(foreach c,$(DROP),--drop "$(c)")

replay: install ## demo production stream: send the next period as prediction logs + labels
	$(RUN) mlops replay

monitor: install ## Evidently drift check vs the training reference; "Error 3" = retrain (MONITOR_FLAGS=--exit-zero in CI)
	$(RUN) mlops monitor $(MONITOR_FLAGS)

retrain: install ## add new labelled rows as feedback, move the window, dvc repro, champion vs challenger
	$(RUN) mlops retrain

propose: install ## commit to the retraining branch and open or update its one PR (needs gh + GH_TOKEN)
	$(RUN) mlops propose

ct-status: install ## age and result of the last scheduled drift check (gh; PR workflow)
	$(RUN) mlops ct-status

audit: install ## actionlint + zizmor (offline) on .github/workflows
	$(RUN) actionlint
	$(RUN) zizmor --offline .github/workflows

audit-online: install ## actionlint + zizmor with its online audits (needs GH_TOKEN)
	$(RUN) actionlint
	$(RUN) zizmor .github/workflows

bench: install ## run the benchmarks in benchmarks/ (slow; prints figures)
	$(RUN) python -m benchmarks.pipeline
	$(RUN) python -m benchmarks.pr_workflow
	$(RUN) python -m benchmarks.serving

clean: ## remove pipeline outputs (they stay in the DVC cache: `dvc checkout` restores them)
	rm -rf data/interim data/processed models/*.joblib dvc_plots
