# consumer-hub: `make run` and `make test` are the whole set-up contract.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test unit integration lint format typecheck bench man clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	# datanommer.models wants psycopg2 (a source build); psycopg2-binary, in [test], is the same
	$(BIN)/python -m pip install --quiet --no-deps 'datanommer.models==1.5.0'
	touch $(STAMP)

run: $(STAMP)  ## start the hub on the embedded demo (publisher + sample consumers, status on localhost)
	$(BIN)/consumer-hub run --config etc/demo.yaml --demo

test: $(STAMP)  ## the whole suite (as root with apt: installs the test servers first)
	bash .ci/system-packages
	$(BIN)/python -m pytest -q

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy hub consumers bench

bench: $(STAMP)  ## the full benchmark suite (see docs/benchmarks.md)
	$(BIN)/python -m bench $(ARGS)

man: $(STAMP)  ## rebuild share/man/man1/consumer-hub.1 from the parser (after changing an option)
	$(BIN)/python -m hub.cli.manpage

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
