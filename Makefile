# parcelhooks — the two commands: `make run` and `make test`.
# Every tool lives in a virtual environment under .venvs/ made from Python 3.13.

SHELL := /bin/bash
# A real python3.13 (pyenv's shims only work when 3.13 is the selected version).
PY313 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13 \
	$(HOME)/.pyenv/versions/3.13*/bin/python3.13 /root/.pyenv/versions/3.13*/bin/python3.13 \
	/usr/local/bin/python3.13 /usr/bin/python3.13))
ifeq ($(PY313),)
$(error Python 3.13 is needed (the Lambda runtime is python3.13): pyenv install 3.13)
endif
VENVS := .venvs
DEV := $(VENVS)/dev
RUN := $(VENVS)/run
MINISTACK := $(VENVS)/ministack
SAMENV := $(VENVS)/sam
CHECKOV := $(VENVS)/checkov
# The portal's browser tests: Debian's Chromium, and axe-core from npm (installed here, never
# fetched by a test); with it, the Standard Webhooks library the portal's Node.js snippet uses.
CHROMIUM := /usr/bin/chromium
NODE_OK := $(VENVS)/node/.ok
NODE_PACKAGES := axe-core@4.14.1 standardwebhooks@1.3.0
PIP_QUIET := --quiet --quiet --disable-pip-version-check
# Every pytest run ends with its ten slowest tests. (`python -m pytest` where a plugin of
# tests/ is named: it puts the repository on sys.path first.)
PYTEST_OPTIONS := -p no:cacheprovider --durations=10
PYTEST := $(DEV)/bin/pytest $(PYTEST_OPTIONS)
SUBMAKE := $(MAKE) --no-print-directory
export SAM_CLI_TELEMETRY := 0
export PATH := $(dir $(PY313)):$(PATH)

.PHONY: run run-envs test deps checks stack-free lint validate iam-lint scan unit future \
	component iam e2e bench chaos openapi statuses screenshots clean

run: run-envs ## start the whole stack locally on MiniStack; Ctrl-C, SIGTERM or SIGHUP stops it all
	PARCELHOOKS_STOP_WITH_PARENT=1 exec $(RUN)/bin/python -m devstack

# Only what running needs (no test tools), the three environments installed side by side.
run-envs:
	@$(SUBMAKE) -j3 $(RUN)/.ok $(MINISTACK)/.ok $(SAMENV)/.ok

# The stack tier (mostly waiting on MiniStack) starts as soon as its environments are in
# and runs beside the stack-free checks and tiers, which run one after another; every
# environment is installed once, by this make; each target's output is printed whole when
# it ends.
test: ## every check and every test, the stack tier on MiniStack included
	@$(SUBMAKE) -j5 --output-sync=target e2e stack-free

# The component tier runs once, each function under its own IAM role, recording every AWS
# call in a folder of its own; the iam tier then reads that record instead of running the
# moto tests again.
stack-free: $(DEV)/.ok $(MINISTACK)/.ok $(SAMENV)/.ok $(CHECKOV)/.ok ## every check and tier needing no stack
	@record=$$(mktemp -d) && $(SUBMAKE) -j1 checks unit component future iam IAM_RECORD=$$record; \
		status=$$?; rm -rf $$record; exit $$status

checks: lint validate iam-lint scan

deps: $(DEV)/.ok $(RUN)/.ok $(MINISTACK)/.ok $(SAMENV)/.ok $(CHECKOV)/.ok $(CHROMIUM) $(NODE_OK)

$(RUN)/.ok: pyproject.toml
	test -x $(RUN)/bin/python || $(PY313) -m venv $(RUN)
	$(RUN)/bin/pip install $(PIP_QUIET) -e '.[local]'
	touch $@

$(DEV)/.ok: pyproject.toml
	test -x $(DEV)/bin/python || $(PY313) -m venv $(DEV)
	$(DEV)/bin/pip install $(PIP_QUIET) -e '.[dev,local]'
	touch $@

$(MINISTACK)/.ok: requirements/ministack.txt
	test -x $(MINISTACK)/bin/python || $(PY313) -m venv $(MINISTACK)
	$(MINISTACK)/bin/pip install $(PIP_QUIET) -r requirements/ministack.txt
	touch $@

$(CHECKOV)/.ok: requirements/checkov.txt
	test -x $(CHECKOV)/bin/python || $(PY313) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install $(PIP_QUIET) -r requirements/checkov.txt
	touch $@

$(SAMENV)/.ok: requirements/sam.txt
	test -x $(SAMENV)/bin/python || $(PY313) -m venv $(SAMENV)
	$(SAMENV)/bin/pip install $(PIP_QUIET) -r requirements/sam.txt
	touch $@

lint: $(DEV)/.ok
	$(DEV)/bin/ruff check .
	$(DEV)/bin/ruff format --check .
	$(DEV)/bin/mypy

validate: $(SAMENV)/.ok
	$(SAMENV)/bin/sam validate --region us-east-1
	$(SAMENV)/bin/sam validate --lint --region us-east-1

# parliament on each function's IAM policies as SAM transforms them (the translator lives
# in .venvs/ministack); tests/iam checks them against the code's calls.
iam-lint: $(DEV)/.ok $(MINISTACK)/.ok
	$(DEV)/bin/python -m devstack.iam

scan: $(CHECKOV)/.ok ## checkov on template.yaml: every finding fixed or skipped inline with a reason
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE $(CHECKOV)/bin/checkov \
		--file template.yaml --framework cloudformation --skip-download --compact --quiet

unit: $(DEV)/.ok ## pure logic: no moto, no sockets, no subprocesses; seconds
	$(PYTEST) tests/unit

# time-machine moves the wall clock (not time.monotonic) for the whole session: a test that
# depends on today's date, or a sample that goes stale, fails here a year early. The
# component tier runs the handlers, the CLI and moto under the same shifted clock.
future: $(DEV)/.ok $(MINISTACK)/.ok ## the stack-free tiers with the clock 400 days ahead
	$(PYTEST) tests/unit tests/component -n 2 --clock-ahead-days=400

component: $(DEV)/.ok $(MINISTACK)/.ok $(NODE_OK) ## handlers and adapters on moto (each function under its own IAM role), the HTTP client against loopback servers
	$(if $(IAM_RECORD),PARCELHOOKS_IAM_LEDGER=$(IAM_RECORD)/ledger-{worker}.json) \
		$(DEV)/bin/python -m pytest $(PYTEST_OPTIONS) tests/component -n 2 -p tests.iam.enforce

iam: $(DEV)/.ok $(MINISTACK)/.ok ## every AWS call of the moto tests against its function's policy (alone: runs them again)
	$(if $(IAM_RECORD),PARCELHOOKS_IAM_RECORDED=$(IAM_RECORD)) $(PYTEST) tests/iam

e2e: $(DEV)/.ok $(RUN)/.ok $(MINISTACK)/.ok $(SAMENV)/.ok $(CHROMIUM) $(NODE_OK) ## the local stack on MiniStack, deployed from template.yaml; the portal in Chromium
	$(PYTEST) tests/e2e

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(NODE_OK): Makefile
	npm install --silent --no-audit --no-fund --prefix $(VENVS)/node $(NODE_PACKAGES)
	touch $@

screenshots: $(DEV)/.ok $(CHROMIUM) ## the portal's pictures in docs/portal/ (needs `make run` in another terminal)
	$(DEV)/bin/python -m devstack.screenshots

bench: deps ## delivery benchmarks (installs nginx from Debian if missing); see docs/benchmarks.md
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || { apt-get update -qq && \
		RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light && \
		(service nginx stop || true); }
	$(DEV)/bin/python bench/run.py

chaos: deps ## chaos and load run on its own MiniStack (EVENTS=2000): ledger, docs/reliability.md, docs/cost.md
	$(DEV)/bin/python -m chaos.run --events $(or $(EVENTS),2000)

openapi: $(DEV)/.ok ## regenerate docs/openapi.json from the code
	$(DEV)/bin/python -m devstack.openapi > docs/openapi.json

statuses: $(DEV)/.ok ## regenerate docs/statuses.md (statuses, details, Correios codes) from the code
	$(DEV)/bin/python -m devstack.statuses

clean:
	rm -rf .aws-sam .parcelhooks .pytest_cache .mypy_cache .ruff_cache
