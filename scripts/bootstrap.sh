#!/usr/bin/env bash
# Set up the project in ./.venv (once) and run one job:
#   scripts/bootstrap.sh run    build the graph store, search index and carry-over links of the embedded corpus
#   scripts/bootstrap.sh test   lint and run the whole test suite
# Works offline on a fresh machine with Python >= 3.11: torch is pinned to the
# CPU wheel 2.13.0 (unpinned, pip would pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:-run}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
# Debian packages the readers need: Tesseract and its Vietnamese model read scanned PDFs.
# Installed when missing, as root or through sudo; without them everything else still works
# and a scanned PDF is refused with a message naming these packages.
if ! command -v tesseract >/dev/null || [ -z "$(ls /usr/share/tesseract-ocr/*/tessdata/vie.traineddata 2>/dev/null)" ]; then
  sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
  if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
    if ! { $sudo apt-get update -q &&
           $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
             tesseract-ocr tesseract-ocr-vie; }; then
      echo "bootstrap: could not install tesseract-ocr tesseract-ocr-vie; scanned PDFs will be refused" >&2
    fi
  else
    echo "bootstrap: no root and no sudo: install tesseract-ocr tesseract-ocr-vie to read scanned PDFs" >&2
  fi
fi
# Virtuoso (virtuoso-opensource) is the SPARQL 1.1 server the remote graph store is tested against; optional:
# without it those tests are skipped and everything else works.
if ! command -v virtuoso-t >/dev/null; then
  sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
  if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
    if ! { $sudo apt-get update -q &&
           $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends virtuoso-opensource; }; then
      echo "bootstrap: could not install virtuoso-opensource; the remote graph store tests will be skipped" >&2
    fi
  else
    echo "bootstrap: no root and no sudo: install virtuoso-opensource to test the remote graph store" >&2
  fi
fi
stamp=.venv/.cchc-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[test,notebooks]"
  touch "$stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
case "$job" in
  run)
    # graph store, search index and carry-over links of data/corpus, into ./var (CCHC_DATA_DIR overrides)
    .venv/bin/cchc build
    .venv/bin/cchc search "nhiệm vụ theo Nghị định 118" --k 5
    ;;
  test)
    .venv/bin/ruff check .
    # pytest exits 5 when it collects nothing; with `set -e` that fails the run, as it should.
    .venv/bin/python -m pytest -q
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
