#!/usr/bin/env bash
# The long versions of tests/fuzz/: every property with EXAMPLES examples (CI runs 50-300 each), new random
# examples on every run, then bench/schemathesis.sh (all of schemathesis' phases, SCHEMATHESIS_EXAMPLES per
# operation). Prints the time of each test; a failure prints hypothesis' shrunk example and seed.
#
#   bench/fuzz.sh [EXAMPLES]     (default 2000: about 15-25 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-2000}
status=0
echo "== tests/fuzz with FUZZ_EXAMPLES=$examples"
FUZZ_EXAMPLES=$examples .venv/bin/python -m pytest -q -p no:cacheprovider --durations=0 \
    --hypothesis-show-statistics tests/fuzz || status=1
echo "== bench/schemathesis.sh ${SCHEMATHESIS_EXAMPLES:-50}"
bench/schemathesis.sh "${SCHEMATHESIS_EXAMPLES:-50}" || status=1
exit $status
