PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench corpus clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (Python 3.11 is required)"; exit 2; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	$(BIN)/python -m clausebank.demo

# one pytest worker per core, each test file on one worker (its module fixtures are built once)
test: setup
	$(BIN)/python -m pytest -q -n auto --dist loadfile

bench: setup
	$(BIN)/python -m bench.run_bench
	$(BIN)/python -m bench.flow_bench --fresh
	$(BIN)/python -m bench.search_bench bench/results/flowhome
	$(BIN)/python -m bench.paper_bench bench/results/flowhome
	$(BIN)/python -m bench.search_cv eval bench/results/flowhome
	$(BIN)/python -m bench.web_bench bench/results/flowhome
	$(BIN)/python -m bench.lineage_bench sync bench/results/flowhome
	$(BIN)/python -m bench.lineage_bench recall bench/results/flowhome
	$(BIN)/python -m bench.lineage_bench latency bench/results/flowhome
	$(BIN)/python -m bench.lineage_bench copies bench/results/flowhome
	$(BIN)/python -m bench.topic_eval $(filter-out %topics_real.jsonl,$(wildcard bench/labels/topics_[!o]*.jsonl))
	$(BIN)/python -m bench.topic_own_eval
	$(BIN)/python -m bench.topic_own_eval --file bench/labels/topics_own_test2.jsonl
	$(BIN)/python -m bench.topic_own_eval --file bench/labels/topics_own_test9.jsonl
	$(BIN)/python -m bench.topic_eval --whole-documents 160
	rm -rf bench/results/realhome
	$(BIN)/clausebank --home bench/results/realhome ingest --no-index ../shared/bench/real/*.pdf
	$(BIN)/python -m bench.topic_eval bench/labels/topics_real.jsonl --home bench/results/realhome
	for f in $(wildcard bench/labels/strength*.jsonl); do \
		$(BIN)/python -m bench.strength_eval --labels $$f; done
	$(BIN)/python -m bench.strength_learned
	$(BIN)/python bench/metadata_bench.py --tota 60
	$(BIN)/python -m bench.ocr_bench
	$(BIN)/python -m bench.fault_bench --runs 1
	$(BIN)/python -m pytest -q -m faults_long -k "not crash_then_restart" tests/
	$(MAKE) demo
	$(BIN)/python -m bench.startup_bench --home indexes

corpus: setup
	$(BIN)/python corpus/build_corpus.py

clean:
	rm -rf $(VENV) indexes/*.sqlite* indexes/*.faiss outputs/*.docx
