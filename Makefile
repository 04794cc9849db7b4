# Registry: `make run` serves on http://127.0.0.1:8000, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PICCOLO_CONF := registry.piccolo_conf
DEMO_PROJECTS ?= 2000

.PHONY: install run test bench bench-deadline bench-review bench-servers soak lint stop clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/registry migrate
	$(BIN)/registry load-fixtures
	$(BIN)/registry demo --projects $(DEMO_PROJECTS) --if-empty
	DEBUG=$${DEBUG:-true} $(BIN)/registry serve  # and one worker; mail readable at the /dev/outbox address it prints

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: install  # every benchmark runs even when one misses a target; fails if any does
	status=0; \
	$(BIN)/python bench/catalogue.py || status=1; \
	$(BIN)/python bench/deadline.py || status=1; \
	$(BIN)/python bench/duplicates.py || status=1; \
	$(BIN)/python bench/ranking.py || status=1; \
	$(BIN)/python bench/review.py || status=1; \
	$(BIN)/python bench/assignment.py || status=1; \
	$(BIN)/python bench/documents.py || status=1; \
	$(BIN)/python bench/issuing.py || status=1; \
	exit $$status

bench-deadline: install
	$(BIN)/python bench/deadline.py

bench-review: install
	$(BIN)/python bench/review.py

bench-servers: install  # uvicorn against granian on the catalogue routes (bench/README.md)
	PYTHONPATH=. $(BIN)/python bench/servers.py

soak: install  # the Procfile's processes under faults; exits 1 on any loss (bench/soak.py)
	PYTHONPATH=. $(BIN)/python bench/soak.py

stop: install
	$(BIN)/registry stop-embedded

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
