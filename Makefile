# `make run` sets up and runs the default study; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
CONFIG ?= config.yaml
# The TensorFlow build; for NVIDIA GPUs: make setup TENSORFLOW='tensorflow[and-cuda]==2.21.0'
TENSORFLOW ?= tensorflow-cpu==2.21.0
STAMP := $(VENV)/.installed-$(subst [,,$(subst ],,$(subst =,,$(TENSORFLOW))))
STUDY = $(shell PYTHONPATH=workflow/scripts $(BIN)/python -c "import yaml; from genstudy.study import study_name; \
	c = yaml.safe_load(open('$(CONFIG)')) or {}; print(study_name(c.get('study', 'default'), [c], ['$(CONFIG)']))")

.PHONY: setup run report findings test test-fast bench mutation lint dryrun lock clean

setup: $(STAMP)

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	grep -v -i '^tensorflow[-_]cpu==' requirements.lock > $(VENV)/lock-without-tensorflow.txt
	$(BIN)/pip install --quiet -r $(VENV)/lock-without-tensorflow.txt '$(TENSORFLOW)'
	touch $(STAMP)

run: setup
	$(BIN)/python workflow/scripts/check_config_file.py $(CONFIG)
	$(BIN)/snakemake --workflow-profile profiles/local --configfile $(CONFIG) --cores $(CORES)
	$(BIN)/snakemake --workflow-profile profiles/local --configfile $(CONFIG) --cores 1 --report results/$(STUDY)/report.html

report: setup
	$(BIN)/python workflow/scripts/check_config_file.py $(CONFIG)
	$(BIN)/snakemake --workflow-profile profiles/local --configfile $(CONFIG) --cores 1 --report results/$(STUDY)/report.html

# The findings of a study, generated from its tables (runs whatever they need first).
findings: setup
	$(BIN)/python workflow/scripts/check_config_file.py $(CONFIG)
	$(BIN)/snakemake --workflow-profile profiles/local --configfile $(CONFIG) --cores $(CORES) results/$(STUDY)/findings.md
	cat results/$(STUDY)/findings.md

# Everything: unit and numeric tests, dry runs, the real workflow, and a real SLURM cluster (which
# installs Debian's slurm-wlm and munge with apt-get if missing, saying so first).
test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -ra tests

# The fast tier: unit and numeric tests and dry runs; nothing installed, no cluster, no real study.
test-fast: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -ra -m "not slow" tests

# Speed of the loop and the measures (speed.json), then whole studies run fresh (study.json: the
# default study and the jiang2019 preset, each as `make run` runs it; BASELINE=<commit> runs them
# from that commit too, side by side, and compares their results file by file).
bench: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python workflow/scripts/benchmark_speed.py --out results/benchmarks/speed.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python workflow/scripts/benchmark_study.py --out results/benchmarks/study.json \
		--cores 2 $(if $(BASELINE),--baseline $(BASELINE))

mutation: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tests/mutation/run.py --out results/benchmarks/mutation.json

lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

dryrun: setup
	$(BIN)/python workflow/scripts/check_config_file.py $(CONFIG)
	$(BIN)/snakemake --configfile $(CONFIG) -n --cores 1

# A fresh resolve of requirements.txt + requirements-test.txt into requirements.lock, and
# environment.yml (the same pins, for conda) from it.
lock:
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet --upgrade pip
	$(VENV)-lock/bin/pip install --quiet -r requirements.txt -r requirements-test.txt
	(echo "# The complete environment that \`make\` installs: every package, resolved from requirements.txt and"; \
	 echo "# requirements-test.txt on Python 3.11 (x86_64). Regenerate with \`make lock\`."; \
	 $(VENV)-lock/bin/pip freeze --exclude-editable | sort -f) > requirements.lock
	rm -rf $(VENV)-lock
	$(PYTHON) tools/environment_yml.py

clean:  # every study's results; the committed benchmarks stay
	rm -rf .snakemake $(filter-out results/benchmarks,$(wildcard results/*))
