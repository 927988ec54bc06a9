#!/usr/bin/env bash
# Installs everything the monorepo needs, starting from plain Python >= 3.11:
# Poetry (pinned, in .tools/poetry) and the locked development environment (.venv).
# .tools/bin holds only `poetry`: with it on PATH, Pulumi's `toolchain: poetry` finds Poetry
# (and through it .venv) without Poetry's own python and pip shadowing the system's.
#
# poetry.lock is the single source of truth. It is installed by exporting it to a hashed
# requirements file and letting pip install exactly that set: pip reads any PEP 503 index or
# mirror, and the hashes make the install reproducible. `poetry install` gives the same .venv
# where Poetry can reach its index directly.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
POETRY_VERSION="2.2.1"
EXPORT_PLUGIN_VERSION="1.9.0"
POETRY_HOME=".tools/poetry"
VENV=".venv"
STAMP="$VENV/.installed"

"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Python >= 3.11 is required, found {sys.version.split()[0]}")
PY

if [[ ! -x "$POETRY_HOME/bin/poetry" ]]; then
  echo "==> installing Poetry $POETRY_VERSION into $POETRY_HOME"
  "$PYTHON" -m venv "$POETRY_HOME"
  "$POETRY_HOME/bin/pip" install --quiet --disable-pip-version-check \
    "poetry==$POETRY_VERSION" "poetry-plugin-export==$EXPORT_PLUGIN_VERSION"
fi
POETRY="$POETRY_HOME/bin/poetry"
mkdir -p .tools/bin
if [[ "$(readlink .tools/bin/poetry)" != "../poetry/bin/poetry" ]]; then
  ln -sfn ../poetry/bin/poetry .tools/bin/poetry
fi

inputs=(poetry.lock pyproject.toml packages/platform_core/pyproject.toml services/processor/pyproject.toml)
if [[ -f "$STAMP" ]] && [[ -z "$(find "${inputs[@]}" -newer "$STAMP")" ]]; then
  exit 0
fi

echo "==> checking that poetry.lock matches pyproject.toml"
"$POETRY" check --lock --no-interaction

mkdir -p build
"$POETRY" export --with dev --format requirements.txt --output build/requirements.lock.txt
# Our own packages carry no hash: install them editable, separately (`.` is the repository's
# tools and the bootstrap's and policy pack's packages).
grep -v '^-e ' build/requirements.lock.txt > build/requirements.hashed.txt

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "==> installing the locked dependencies into $VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
  -r build/requirements.hashed.txt
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
  -e packages/platform_core -e services/processor -e local_platform -e operations -e .
touch "$STAMP"
