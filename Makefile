# The two commands of README.md. Both install what they need first (scripts/install.sh).
.PHONY: demo bench-local test install lint typecheck unit clean

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
test: install lint typecheck unit

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy
	@# Each Pulumi program is a `__main__` module: they are checked one at a time.
	@for program in stacks/*/__main__.py policy/__main__.py bootstrap/__main__.py; do \
		.venv/bin/mypy --no-error-summary "$$program" || exit 1; done

unit:
	.venv/bin/pytest -n 2

clean:
	rm -rf .venv .tools build .mypy_cache .ruff_cache .pytest_cache .hypothesis
