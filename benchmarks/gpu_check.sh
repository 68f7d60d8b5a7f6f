#!/usr/bin/env bash
# One command for the GPU machine: versions, every team's `gpu` tests, the kernel benchmarks,
# and a markdown summary. Usage: benchmarks/gpu_check.sh OUT_DIR
#
# Writes into OUT_DIR: versions.txt, gpu_tests.xml (JUnit) and gpu_tests.log, bench.json
# (pytest-benchmark) and bench.log, RESULTS.md (the table, then the exit status of each step)
# and dispatch_table.json (proposed fused_linear dispatch entries). A failing step does not
# stop the later ones; the script exits non-zero when any step failed.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."

# Keras wheels may travel with the checkout (the GPU machine has no network).
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
# The package runs from this checkout, installed or not.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

steps=()
codes=()
record() {
  steps+=("$1")
  codes+=("$2")
  echo "== $1: exit code $2"
}

{
  python3 -c 'import platform, torch, triton
print("python", platform.python_version(), "| torch", torch.__version__,
      "| triton", triton.__version__, "| CUDA", torch.version.cuda)'
  nvidia-smi -L
  date -u
} 2>&1 | tee "$OUT/versions.txt"
record "versions" "${PIPESTATUS[0]}"

# A test file that fails to import must not hide the other files' GPU tests.
python3 -m pytest -m gpu tests/ -q -p no:cacheprovider --continue-on-collection-errors --durations=15 \
  --junitxml="$OUT/gpu_tests.xml" 2>&1 |
  tee "$OUT/gpu_tests.log"
record "pytest -m gpu tests/" "${PIPESTATUS[0]}"

python3 -m pytest benchmarks/ --benchmark-only -q -p no:cacheprovider --continue-on-collection-errors \
  --benchmark-json="$OUT/bench.json" 2>&1 | tee "$OUT/bench.log"
record "pytest benchmarks/ --benchmark-only" "${PIPESTATUS[0]}"

if [ -s "$OUT/bench.json" ]; then
  python3 benchmarks/summarize.py "$OUT/bench.json" "$OUT/RESULTS.md"
  record "benchmarks/summarize.py" "$?"
else
  echo "# Kernel benchmarks"$'\n\n'"No bench.json was written; see bench.log." >"$OUT/RESULTS.md"
  record "benchmarks/summarize.py (no bench.json)" 1
fi

failed=0
{
  echo
  echo "## Run status"
  echo
  echo "| step | exit code |"
  echo "|---|---|"
  for i in "${!steps[@]}"; do
    echo "| ${steps[$i]} | ${codes[$i]} |"
  done
} >>"$OUT/RESULTS.md"
for code in "${codes[@]}"; do
  [ "$code" -eq 0 ] || failed=1
done
echo "Results in $OUT/RESULTS.md"
exit "$failed"
