# The two commands of README.md. Both install what they need first (scripts/install.sh).
.PHONY: demo bench-local test install lint typecheck pytest mutation bytecode clean

install:
	@./scripts/install.sh

# Run the platform locally on an embedded AWS emulator (no AWS account); ENV=staging|production,
# ARGS="--file PATH", "--invoke PAYLOAD", "--keep-running" (see python -m local_platform --help).
ENV ?= dev
ARGS ?=
demo: install
	@.venv/bin/python -m local_platform --environment $(ENV) $(ARGS)

# The local platform's scale figures: the 100,000-trade file on the emulator vs the in-process stub.
bench-local: install
	@.venv/bin/python -m benchmarks.local_platform

# Lint, type-check and run the whole test suite: what CI runs.
test: install lint typecheck pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy
	@# Each Pulumi program is a `__main__` module: they are checked one at a time.
	@for program in stacks/*/__main__.py policy/__main__.py bootstrap/__main__.py; do \
		.venv/bin/mypy --no-error-summary "$$program" || exit 1; done

# Every kind of test (tests/unit, render, integration, e2e); one kind: .venv/bin/pytest -m unit
pytest:
	.venv/bin/pytest -n 2

# Mutation testing of the processor's core modules with mutmut 3 (not part of `make test`; about
# 3 minutes on 2 cores): how many deliberately broken variants of bars.py, records.py and decode.py
# the processor's unit tests catch (a test fails, or they run past their time limit), per module.
# Runs in build/mutation (see services/processor/pyproject.toml); afterwards
# `cd build/mutation && ../../.venv/bin/mutmut show <name>` prints one surviving mutant.
MUTATION_DIR := build/mutation
mutation: install
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	ln -s ../../services/processor/src ../../tests ../../services/processor/pyproject.toml $(MUTATION_DIR)/
	cd $(MUTATION_DIR) && ../../.venv/bin/mutmut run >mutmut-run.log 2>&1 || { tail -c 2000 mutmut-run.log; exit 1; }
	@cd $(MUTATION_DIR) && ../../.venv/bin/mutmut results --all true | awk '\
		{ split($$1, name, "."); module = name[2]; status = $$2 ($$3 ? " " $$3 : ""); \
		  total[module]++; if (status == "killed" || status == "timeout") killed[module]++; \
		  else if (status != "") survivors = survivors "\n  " $$0 } \
		END { for (m in total) printf "%-8s %4d/%-4d caught (%.1f%%)\n", m, killed[m], total[m], 100 * killed[m] / total[m]; \
		      if (survivors != "") print "not caught:" survivors }'

# Compile the function's modules with Lambda's Python 3.13 into services/processor/bytecode (to
# commit after changing the processor's code; see README, Extending). PYTHON313=/path/to/python3.13
# if it is neither python3.13 on PATH nor a pyenv version.
bytecode: install
	.venv/bin/python -m platform_core.bytecode $(if $(PYTHON313),--python $(PYTHON313))

clean:
	rm -rf .venv .tools build .mypy_cache .ruff_cache .pytest_cache .hypothesis
