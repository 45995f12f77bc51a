# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench accuracy fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

captures/example-call.pcap: | $(STAMP)
	$(BIN)/python captures/make_example.py

demo: $(STAMP) captures/example-call.pcap
	mkdir -p reports
	$(BIN)/analyzer flows --json captures/example-call.pcap > reports/example-call.flows.json
	$(BIN)/analyzer analyze captures/example-call.pcap \
		--baseline captures/example-baseline.pcap \
		--report reports/example-call.pdf --png reports/example-call \
		--save-json reports/example-call.analysis.json
	@echo "wrote reports/example-call.pdf, reports/example-call/*.png and the JSON beside them"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check analyzer tests benchmarks captures
	$(BIN)/mypy analyzer

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_flows.py

accuracy: $(STAMP)
	$(BIN)/python benchmarks/accuracy.py

# Hostile inputs through the whole pipeline (about an hour on 2 cores); failing inputs in
# reports/fuzz/ for triage. The fast seeded run (2,000 inputs) is part of `make test`.
FUZZ_INPUTS ?= 100000
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py --inputs $(FUZZ_INPUTS) --workers 2 --out reports/fuzz

clean:
	rm -rf $(VENV) build *.egg-info
