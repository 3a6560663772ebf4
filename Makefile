# One entry point for people, CI and workflows. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

UV_VERSION := 0.13.9
# Use uv from PATH if present; otherwise bootstrap a pinned copy into .tools/bin: uv's wheel
# from PyPI, sha256-checked and unpacked with the standard library alone (no venv, ensurepip
# or pip: Debian and Ubuntu ship ensurepip apart, as python3-venv). engine/src/mlops_engine/bootstrap_uv.py
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen --no-sync
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` / `make test-fast` (auto = one per core).
TEST_WORKERS ?= auto
BASE_REF ?= origin/main
REPORT_IMAGES ?= link
# pr.yml sets DVC_REMOTE_OPTIONAL=true on fork PRs (no secrets): reproduce without the remote
REMOTE_OPTIONAL = $(if $(filter true,$(DVC_REMOTE_OPTIONAL)),--remote-optional)
# pr.yml and cd.yml set LOCK_BASE=$(BASE_REF): when uv.lock moved a package since, every stage re-runs
LOCK_BASE ?=
MONITOR_FLAGS ?=
# Set UV_SYNC_FLAGS=--compile-bytecode where PYTHONDONTWRITEBYTECODE is set (saves ~1.5 s per command).
UV_SYNC_FLAGS ?=

.PHONY: help install run test test-fast test-engine owned-lines rename-package engine-dist engine-publish lint format bench clean test-code test-pythons test-data-model repro report gate checkout-ref audit audit-online repro-push save-model bento serve image containerize replay monitor retrain propose ct-status init canary canary-report comment update-template template-update-pr

# The help texts are written as the recipes spell variables ($$BASE_REF): shown with one `$`.
# Names are padded to the longest one, so every description starts in the same column.
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {n++; name[n] = $$1; text[n] = $$2; \
	  gsub(/\$$\$$/, "$$", text[n]); if (length($$1) > width) width = length($$1)} \
	  END {for (i = 1; i <= n; i++) printf "  \033[36m%-" width "s\033[0m %s\n", name[i], text[i]}' $(MAKEFILE_LIST)

$(CURDIR)/.tools/bin/uv:
	python3 -I engine/src/mlops_engine/bootstrap_uv.py --version "$(UV_VERSION)" --dest "$(CURDIR)/.tools/bin"

# The object-store clients to install, pyproject's extras s3, gs, azure (docs/dependencies.md):
# by default those whose URL scheme the DVC remote (.dvc/config) or a production sink
# (params.yaml) uses, so a runner gets the client the project's storage needs from uv.lock
# with no workflow change. `make install EXTRAS=s3` (== `uv sync --extra s3`) names them.
# The test suite stores to an S3 server (tests/s3.py): `make test` adds s3.
# The URL schemes come from one table, credentials.SCHEMES (adlfs's az://, abfs://, ... too),
# asked with the standard library only: any Python 3 runs it before the environment exists.
EXTRAS ?= $(shell python3 -I engine/src/mlops_engine/credentials.py .dvc/config params.yaml)
# The extras the test suite needs on top of the project's own, in ONE place: `make test` and
# `make test-fast` add them, and `make canary` installs them into the upgraded environment
# it runs the fast tier in (CANARY_EXTRAS).
TESTS_NEED := s3
ifneq ($(filter test test-fast test-engine,$(MAKECMDGOALS)),)
TEST_EXTRAS := $(TESTS_NEED)
endif
SYNC_EXTRAS := $(sort $(EXTRAS) $(TEST_EXTRAS))
# One stamp per set of extras: `uv sync` is exact (it removes extras not named), so another
# set means another sync. It lives in the environment uv syncs: .venv, or wherever
# UV_PROJECT_ENVIRONMENT puts it (uv's own setting, e.g. in a container or a CI cache).
VENV := $(or $(UV_PROJECT_ENVIRONMENT),.venv)
SYNCED := $(VENV)/.synced$(subst $(eval) ,,$(addprefix -,$(SYNC_EXTRAS)))

$(SYNCED): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen $(UV_SYNC_FLAGS) $(addprefix --extra ,$(SYNC_EXTRAS))
	@rm -f $(VENV)/.synced*
	@touch $@

install: $(SYNCED) ## create .venv (or $$UV_PROJECT_ENVIRONMENT) from the lock file (uv sync --frozen [--extra ...]; EXTRAS=s3 gs azure)

run: install ## reproduce the whole pipeline (dvc repro) and print the headline metrics
	$(RUN) dvc repro
	$(RUN) mlops summary

# The suites cache bytecode even where PYTHONDONTWRITEBYTECODE is set (this machine's CI sets
# it): each pytest worker and each Python the tests start would otherwise compile pandas,
# scikit-learn, DVC and BentoML from source (tests/project.py env() says what that costs).
TESTENV := env -u PYTHONDONTWRITEBYTECODE

test: install lint ## lint, then the project's own tests (tests/: its data, model, features)
	$(TESTENV) $(RUN) pytest --durations=10 $(PYTEST_ARGS)

test-fast: install ## the inner loop: the project's tests not marked slow
	$(TESTENV) $(RUN) pytest -m "not slow" $(PYTEST_ARGS)

test-engine: install lint ## the engine's suite (engine/tests: act, stand-ins, S3, service) on every core; the 25 slowest
	$(TESTENV) $(RUN) pytest engine/tests -n $(TEST_WORKERS) --dist worksteal --durations=25 $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	$(RUN) ruff check src engine tests
	$(RUN) ruff format --check src engine tests

format: install ## apply ruff fixes and formatting
	$(RUN) ruff check --fix src engine tests
	$(RUN) ruff format src engine tests

# What a team owns: every tracked text file outside the engine (engine/) and outside data,
# models, generated reports and docs (data/ models/ reports/ docs/), lock files excluded.
# templates/ counts what a team copied in to reword the reports, not the folder's README.
OWNED = git ls-files -- . ':!engine' ':!data' ':!models' ':!reports' ':!docs' ':!*.lock' ':!*.gz' ':!*.dvc' ':!.dvc' ':!*.png' ':!*.json' ':!templates/README.md'
owned-lines: ## count the lines of what a team owns (the project, not engine/): per file, then the total
	@$(OWNED) | xargs wc -l | sort -n

test-code: install ## the project's unit tests (PR workflow)
	$(RUN) pytest -m code $(PYTEST_ARGS)

# The code tier on each Python in PYTHONS, every one in its own venv (.venvs/X.Y) synced from
# the same uv.lock. PYENV_VERSION: where the Pythons come from pyenv, its shims answer only for
# the version .python-version names; it lets uv find the others (ignored without pyenv).
PYTHONS ?= 3.11 3.12 3.13
# What test-pythons runs on each Python: the engine's code tier without its slow tests;
# .ci/run narrows it to the core's unit tests and an import of every module (docs/testing.md).
PYTHONS_TESTS ?= engine/tests
test-pythons: | $(UV) ## the engine's code tier (not slow; PYTHONS_TESTS=paths) under every Python in $$PYTHONS (3.11 3.12 3.13), one venv each
	@failed=""; for v in $(PYTHONS); do \
	  echo "== the code tier on Python $$v"; \
	  PYENV_VERSION=$$v UV_PROJECT_ENVIRONMENT=.venvs/$$v $(UV) sync --frozen --quiet --python $$v $(UV_SYNC_FLAGS) \
	    && $(TESTENV) .venvs/$$v/bin/python -m pytest $(PYTHONS_TESTS) -m "code and not slow" -q -p no:randomly -n 0 $(PYTEST_ARGS) \
	    || failed="$$failed $$v"; \
	done; if [ -n "$$failed" ]; then echo "the code tier failed on Python$$failed"; exit 1; fi

test-data-model: install ## the project's data-contract and model tests (PR workflow)
	$(RUN) pytest -m "data or model" $(PYTEST_ARGS)

repro: install ## dvc repro, pulling data and run-cache first when a DVC remote is configured
	$(RUN) mlops repro $(REMOTE_OPTIONAL) $(if $(LOCK_BASE),--lock-base "$(LOCK_BASE)")

report: install ## markdown report vs $$BASE_REF into reports/pr/ (and $$GITHUB_STEP_SUMMARY)
	$(RUN) mlops report --base-ref "$(BASE_REF)" --out reports/pr/report.md \
	  --plots-diff reports/pr/plots_diff --images "$(REPORT_IMAGES)" --title "Model report" $(REMOTE_OPTIONAL)

gate: install ## fail if a metric regresses beyond its tolerance vs $$BASE_REF
	$(RUN) mlops gate --base-ref "$(BASE_REF)" $(REMOTE_OPTIONAL)

# cd.yml on workflow_dispatch: the full-history checkout of the pushed commit, then `ref`.
checkout-ref: install ## check out $$CHECKOUT_REF (tag, branch, SHA of any length; empty = stay); fetch $$BASE_REF
	$(RUN) mlops checkout-ref --ref "$(CHECKOUT_REF)" --base "$(BASE_REF)"

# pr.yml's comment job, on the base branch's checkout with no environment: the standard
# library and gh only (it holds a write token; it never installs the pull request's code).
comment: ## post or update the one report comment on PR $$PR_NUMBER (gh api, every page; GH_REPO, GH_TOKEN)
	python3 -I engine/src/mlops_engine/ci/comment.py --body-file reports/pr/report.md

repro-push: install ## like repro, then push outputs and run-cache to the DVC remote (trusted events only)
	$(RUN) mlops repro --push $(if $(LOCK_BASE),--lock-base "$(LOCK_BASE)")

save-model: install ## save models/model.joblib to the BentoML store with lineage; print its tag
	$(RUN) mlops save-model

bento: save-model ## build the Bento and export it to build/bento.bento (outputs to $$GITHUB_OUTPUT)
	$(RUN) mlops build --export build/bento.bento

serve: save-model ## serve the pipeline's model on http://127.0.0.1:3000 (development)
	$(RUN) bentoml serve mlops_engine.serving.service:Predictor --host 127.0.0.1 --port 3000

# Used by cd.yml on GitHub (needs a Docker engine): import the Bento, build and push the image.
# CONTAINER_BACKEND: what builds it (bentoml containerize --backend): docker on GitHub; the
# image tests build with podman (tests/image/) through the same `image` target. The image's
# OCI labels carry its evidence, from the environment cd.yml sets: the commit, the model
# version, dvc.lock's data hashes (DATA_VERSIONS, `mlops build`'s `data` output) and the
# gate's verdict (GATE_VERDICT, `mlops gate`'s `verdict` output).
CONTAINER_BACKEND ?= docker
image: install ## bentoml containerize $$BENTO_TAG as $$IMAGE:{$$MODEL_VERSION,$$COMMIT} ($$CONTAINER_BACKEND, docker)
	@# an absolute path: BentoML 1.4 opens a relative one from / ('/build/bento.bento')
	$(RUN) bentoml get "$(BENTO_TAG)" >/dev/null 2>&1 || $(RUN) bentoml import "$(CURDIR)/build/bento.bento"
	$(RUN) bentoml containerize "$(BENTO_TAG)" --backend "$(CONTAINER_BACKEND)" \
	  --image-tag "$(IMAGE):$(MODEL_VERSION)" --image-tag "$(IMAGE):$(COMMIT)" \
	  --opt "label=org.opencontainers.image.revision=$$COMMIT" \
	  --opt "label=org.opencontainers.image.version=$$MODEL_VERSION" \
	  --opt "label=io.mlops-template.model-version=$$MODEL_VERSION" \
	  --opt "label=io.mlops-template.data=$${DATA_VERSIONS:-unknown}" \
	  --opt "label=io.mlops-template.gate=$${GATE_VERDICT:-unknown}"

# After the push, `mlops pushed` writes the digest the registry stored the image under (name,
# digest: what cd.yml's attestation steps sign) and the image's SBOM (build/sbom.cdx.json,
# CycloneDX from uv.lock's serving groups) to $$GITHUB_OUTPUT.
containerize: image ## build the image (make image), push both tags, output the pushed digest and the SBOM
	docker push --all-tags "$(IMAGE)"
	$(RUN) mlops pushed --image "$(IMAGE):$(MODEL_VERSION)" --sbom "$(CURDIR)/build/sbom.cdx.json"

init: install ## use your own table: make init DATA=path.csv TARGET=column [TASK=auto] [TIME_COLUMN=auto|col|none] [DROP="col ..."]
	$(RUN) mlops init --data "$(DATA)" --target "$(TARGET)" --task "$(or $(TASK),auto)" $(if $(TIME_COLUMN),--time-column "$(TIME_COLUMN)") $(foreach c,$(DROP),--drop "$(c)")

rename-package: install ## rename the project's package: make rename-package NAME=your_package (then re-locks uv.lock)
	$(RUN) mlops rename-package "$(NAME)"
	$(UV) lock
	$(UV) sync --frozen $(UV_SYNC_FLAGS) $(addprefix --extra ,$(SYNC_EXTRAS))

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

canary: install ## newest dependency releases (uv.lock untouched): dvc repro -f + tests; CANARY_UPGRADE/OVERRIDE/TESTS
	UV="$(UV)" CANARY_EXTRAS="$(sort $(EXTRAS) $(TESTS_NEED))" $(RUN) mlops canary

canary-report: install ## the canary's result as the one GitHub issue (needs gh + GH_TOKEN) and the job summary
	$(RUN) mlops canary-report

# The template's later releases (docs/template-updates.md). SOURCE and REF come from the
# command line or the environment (template-update.yml sets them).
update-template: install ## apply a later template release to the working tree: [SOURCE=git URL or path] [REF=tag or commit]
	UV="$(UV)" $(RUN) mlops update-template $(if $(SOURCE),--source "$(SOURCE)") $(if $(REF),--ref "$(REF)")

# One process applies and proposes: the update may leave conflict markers in this Makefile,
# pyproject.toml or the package itself, which a second step would have to read.
template-update-pr: install ## update-template, then commit to template/update and open or update its one PR (gh + GH_TOKEN)
	UV="$(UV)" $(RUN) mlops update-template --propose $(if $(SOURCE),--source "$(SOURCE)") $(if $(REF),--ref "$(REF)")

# The engine's release (release.yml on a tag engine-vX.Y.Z; engine/README.md): build, check,
# and (on GitHub only) publish with PyPI's trusted publishing.
engine-dist: install ## build the engine's wheel and sdist into dist/ and check them: [TAG=engine-vX.Y.Z]
	rm -rf dist
	$(UV) build --package mlops-engine --out-dir dist --quiet
	$(RUN) mlops release-check --dist dist $(if $(TAG),--tag "$(TAG)")

engine-publish: | $(UV) ## publish dist/ to PyPI with trusted publishing (release.yml's OIDC token)
	$(UV) publish --trusted-publishing always dist/*

bench: install ## run the engine's benchmarks (engine/benchmarks; slow; prints figures)
	cd engine && $(RUN) python -m benchmarks.pipeline
	cd engine && $(RUN) python -m benchmarks.pr_workflow
	cd engine && $(RUN) python -m benchmarks.serving

clean: ## remove pipeline outputs (they stay in the DVC cache: `dvc checkout` restores them)
	rm -rf data/interim data/processed models/*.joblib dvc_plots
