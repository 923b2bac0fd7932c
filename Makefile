# DynVision front door. `make help` lists the targets; every target delegates to a script or tool.
.DEFAULT_GOAL := help
VENV   ?= .venv
BIN    := $(VENV)/bin
EXP    ?= contrast
PKG    ?=
BUMP   ?=
# Snakemake on the root Snakefile, through the wrapper that answers argument mistakes in one line
SNAKEMAKE := $(BIN)/dynvision-workflow run --snakefile Snakefile

.PHONY: help install test lint format build version clean experiment experiments dryrun dag report cluster cluster-all cluster-status

help: ## List the targets with a one-line description
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## Create .venv, install system packages and the four packages (editable) with dev tools
	bash scripts/install.sh

test: ## Run every test (all packages and the cross-package tests)
	$(BIN)/pytest -n auto --dist loadgroup

lint: ## Check style with ruff
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: ## Format and fix the code with ruff
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

build: ## Build a wheel and an sdist of each package into dist/
	for pkg in packages/*/; do $(BIN)/python -m build --outdir dist "$$pkg" || exit 1; done

version: ## Show each package's version; bump one with PKG=models BUMP=minor
	bash scripts/version.sh $(PKG) $(BUMP)

clean: ## Remove builds and caches (never data/, models/ or reports/)
	rm -rf dist build .pytest_cache .ruff_cache && find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

experiment: ## Run one experiment end to end: make experiment EXP=contrast
	$(SNAKEMAKE) --cores 2 experiment --config experiment=$(EXP)

experiments: ## Run every experiment in configs/config_experiments.yaml
	$(SNAKEMAKE) --cores 2 all_experiments

dryrun: ## Show what an experiment would run: make dryrun EXP=contrast
	$(SNAKEMAKE) -n experiment --config experiment=$(EXP)

dag: ## Draw an experiment's job graph to reports/dag_<EXP>.pdf
	mkdir -p reports && $(SNAKEMAKE) experiment --dag --config experiment=$(EXP) > reports/dag_$(EXP).dot
	dot -Tpdf reports/dag_$(EXP).dot -o reports/dag_$(EXP).pdf

report: ## Build reports/report.html (results first, then each network, the rule graph last) and Snakemake's provenance report
	mkdir -p reports && $(SNAKEMAKE) finished_experiments --rulegraph | dot -Tsvg > reports/rulegraph.svg
	$(BIN)/dynvision-viz report --reports reports --rulegraph reports/rulegraph.svg --workflow-report workflow_report.html -o reports/report.html
	@# Snakemake's report lists the files of one configuration: give the run's own, e.g. REPORT_CONFIG='epochs=1'
	$(SNAKEMAKE) finished_experiments --report reports/workflow_report.html $(if $(REPORT_CONFIG),--config $(REPORT_CONFIG))

cluster: ## Run one experiment on SLURM: make cluster EXP=contrast
	SNAKECHARM_LOG_NAME=$(EXP) ./cluster/snakecharm.sh -j100 experiment --config experiment=$(EXP)

cluster-all: ## Run all experiments on SLURM (./cluster/snakecharm.sh -j100 all_experiments)
	./cluster/snakecharm.sh -j100 all_experiments

cluster-status: ## Show this user's SLURM jobs
	squeue -u "$${USER:-$$(id -un)}"
