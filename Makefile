# `make run` sets up and runs the default study; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
CONFIG ?= config.yaml
# The TensorFlow build; for NVIDIA GPUs: make setup TENSORFLOW='tensorflow[and-cuda]==2.21.0'
TENSORFLOW ?= tensorflow-cpu==2.21.0
STAMP := $(VENV)/.installed-$(subst [,,$(subst ],,$(subst =,,$(TENSORFLOW))))
# Recipes read the config file's path from the environment ("$$CONFIG"), so a path with spaces
# or quotes arrives whole; STUDY is the study's results folder, from tools/check_config_file.py,
# which refuses a bad file in one line before anything runs.
export CONFIG
# Snakemake keeps a source cache under $$HOME/.cache; where HOME cannot be written, keep it here.
ifneq ($(shell test -w "$$HOME" && echo yes),yes)
export XDG_CACHE_HOME := $(CURDIR)/.snakemake/cache
endif
CHECK := $(BIN)/python tools/check_config_file.py
STUDY := study="$$($(CHECK) --study)" || exit 1;
SNAKEMAKE := $(BIN)/snakemake --workflow-profile profiles/local --configfile "$$CONFIG"
# Written beside the report and renamed onto it only when complete: a failed write (a full disk)
# leaves the previous report as it was.
REPORT := $(SNAKEMAKE) --cores 1 --report "results/$$study/.report.tmp.html" \
	&& mv -f "results/$$study/.report.tmp.html" "results/$$study/report.html" \
	|| { rm -f "results/$$study/.report.tmp.html"; exit 1; }

.PHONY: setup run report findings test test-fast bench mutation lint dryrun lock clean clean-all

setup: $(STAMP)

# genstudy goes in editable and without dependencies: the lock has pinned them, and an edit of
# its modules is live (the rules' code hashes see it and rerun what it changes).
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	grep -v -i '^tensorflow[-_]cpu==' requirements.lock > $(VENV)/lock-without-tensorflow.txt
	$(BIN)/pip install --quiet -r $(VENV)/lock-without-tensorflow.txt '$(TENSORFLOW)'
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $(STAMP)

run: setup
	@$(STUDY) $(SNAKEMAKE) --cores $(CORES) && $(REPORT)

report: setup
	@$(STUDY) $(REPORT)

# The findings of a study, generated from its tables (runs whatever they need first).
findings: setup
	@$(STUDY) $(SNAKEMAKE) --cores $(CORES) "results/$$study/findings.md" && cat "results/$$study/findings.md"

# Everything: unit and numeric tests, dry runs, the real workflow, and a real SLURM cluster (which
# installs Debian's slurm-wlm and munge with apt-get if missing, saying so first).
test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -ra tests

# The fast tier: unit and numeric tests and dry runs; nothing installed, no cluster, no real study.
test-fast: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -ra -m "not slow" tests

# Speed of the loop and the measures (speed.json), Snakemake's scheduling cost per job under its
# two schedulers (scheduler.json), then whole studies run fresh (study.json: the
# default study and the jiang2019 preset, each as `make run` runs it; BASELINE=<commit> runs them
# from that commit too, side by side, and compares their results file by file).
bench: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/benchmark_speed.py --out results/benchmarks/speed.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/benchmark_scheduler.py --out results/benchmarks/scheduler.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/benchmark_study.py --out results/benchmarks/study.json \
		--cores 2 $(if $(BASELINE),--baseline $(BASELINE))

mutation: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tests/mutation/run.py --out results/benchmarks/mutation.json

lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

dryrun: setup
	@$(STUDY) $(BIN)/snakemake --configfile "$$CONFIG" -n --cores 1

# A fresh resolve of requirements.txt + requirements-test.txt into requirements.lock, and
# environment.yml and environment-dev.yml (the same pins, for conda: the runtime, and the test and
# lint tools) from it.
lock:
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet --upgrade pip
	$(VENV)-lock/bin/pip install --quiet -r requirements.txt -r requirements-test.txt
	(echo "# The complete environment that \`make\` installs: every package, resolved from requirements.txt and"; \
	 echo "# requirements-test.txt on Python 3.11 (x86_64). Regenerate with \`make lock\`."; \
	 $(VENV)-lock/bin/pip freeze --exclude-editable | sort -f) > requirements.lock
	$(VENV)-lock/bin/python tools/environment_yml.py
	rm -rf $(VENV)-lock

# The results of the study of CONFIG (results/<its study>/) and nothing else.
clean: setup
	@$(STUDY) echo "removing results/$$study/" && rm -rf "results/$$study"

# Every study's results and Snakemake's metadata (.snakemake/); results/benchmarks/ stays.
clean-all:
	@echo "removing .snakemake/ and every study under results/ (not results/benchmarks/): $(filter-out results/benchmarks,$(wildcard results/*))"
	rm -rf .snakemake $(filter-out results/benchmarks,$(wildcard results/*))
