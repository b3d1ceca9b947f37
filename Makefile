# `make run` sets up and runs the default study; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= all

.PHONY: setup run report test bench lint dryrun clean

setup: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

run: setup
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --cores 1 --report results/report.html

report: setup
	$(BIN)/snakemake --cores 1 --report results/report.html

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -ra tests

bench: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python workflow/scripts/benchmark_speed.py --out results/benchmarks/speed.json

lint: setup
	$(BIN)/snakemake --lint

dryrun: setup
	$(BIN)/snakemake -n --cores 1

clean:
	rm -rf results .snakemake
