# Everyday commands. `make test` is what the README and CI run.
PY ?= python

.PHONY: test lint typecheck pytest demo bench format

test: lint typecheck pytest

lint:
	ruff check src tests benchmarks
	ruff format --check src tests benchmarks

typecheck:
	mypy

pytest:
	$(PY) -m pytest

format:
	ruff format src tests benchmarks
	ruff check --fix src tests benchmarks

demo:
	heard demo

bench:
	$(PY) benchmarks/throughput.py
