# Two commands that work on a fresh machine:
#   make run   - set up and run the triage playbook on this machine (embedded defaults, no server to configure)
#   make test  - set up and run the test suite (installs the Debian services the tests need)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup run test fuzz lint typecheck dist bench mutation chaos clean

# medic depends on the light distribution medic-agent (packaging/medic-agent), which is on no index: install it first
$(BIN)/medic: pyproject.toml setup.py packaging/medic-agent/pyproject.toml packaging/medic-agent/setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e packaging/medic-agent
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/medic

setup: $(BIN)/medic

# exit code 1 means "a check failed": the run itself worked, so make does not report an error for it
run: setup
	$(BIN)/medic run triage --report triage-report.md || [ $$? -eq 1 ]

test: setup
	bash tests/setup-services.sh
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# property tests with many more generated examples than `make test` tries (HYPOTHESIS_PROFILE=fuzz)
fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -p no:cacheprovider tests/core/test_properties.py \
		tests/agent/test_bundle_properties.py $(PYTEST_ARGS)

# mypy sees core/ plugins/ ... as medic.* through a tree of links (the editable install hides them from it)
lint: setup
	mkdir -p build/typecheck/medic
	for d in kernel probes core cli plugins agent flows playbooks testing; do ln -sfn ../../../$$d build/typecheck/medic/$$d; done
	$(BIN)/ruff check .
	$(BIN)/mypy

# the two wheels: medic-agent (kernel, agent, probes) and medic, which depends on it; no file is in both
dist: setup
	$(BIN)/pip wheel -q --no-deps --no-build-isolation -w dist packaging/medic-agent .

# mutation score of the modules named in pyproject's [tool.mutmut] (slow: minutes per module; not run in CI).
# mutmut imports mutants by file path, so the packages are copied into a medic/ tree first.
MUTATION_DIR := build/mutation
# parallel mutant runs (MUTMUT_CHILDREN=1 on a machine shared with other work)
MUTMUT_CHILDREN ?= 2
mutation: setup
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)/medic
	for d in kernel probes core cli plugins agent flows playbooks testing; do cp -r $$d $(MUTATION_DIR)/medic/$$d; done
	cp -r tests pyproject.toml $(MUTATION_DIR)/
	cd $(MUTATION_DIR) && ../../$(BIN)/mutmut run --max-children $(MUTMUT_CHILDREN) $(MUTMUT_ARGS); ../../$(BIN)/mutmut results

# the worker-death test at the issue's size: 200 loopback hosts, 4 workers, 4 seeded SIGKILLs (minutes; `make test`
# runs it at 40 hosts and 2 kills). MEDIC_CHAOS_SEED=N draws other moments.
CHAOS_ENV ?= MEDIC_CHAOS_HOSTS=200 MEDIC_CHAOS_WORKERS=4 MEDIC_CHAOS_KILLS=4
chaos: setup
	$(CHAOS_ENV) $(BIN)/pytest -q -s -p no:cacheprovider tests/service/test_fleet_chaos.py $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info
