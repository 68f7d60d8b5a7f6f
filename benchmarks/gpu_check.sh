#!/usr/bin/env bash
# One command for the GPU machine: versions, every team's `gpu` tests, the kernel benchmarks,
# and a markdown summary. Usage: benchmarks/gpu_check.sh OUT_DIR
#
# Writes four files into OUT_DIR (a lent GPU machine hands back at most eight): gpu_check.log
# (all output: versions, GPU tests, benchmarks), bench.json (every benchmark, pytest-benchmark
# format), RESULTS.md (the table, then the exit status of each step) and dispatch_table.json
# (proposed fused_linear dispatch entries). A failing step does not
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
} 2>&1 | tee -a "$OUT/gpu_check.log"
record "versions" "${PIPESTATUS[0]}"

# Each step has a time limit (seconds, overridable) so that one slow step cannot take the
# others' share of a short GPU lease.
bounded() {
  local limit=$1
  shift
  timeout -s INT -k 15 "$limit" "$@"
}

# A test file that fails to import must not hide the other files' GPU tests. With
# pytest-xdist, each file runs in one of four worker processes, so a test that leaves the
# CUDA context in a bad state (as a failed graph capture once did) spoils one worker only.
workers=()
if python3 -c "import xdist" 2>/dev/null; then
  workers=(-n 4 --dist loadfile)
fi
bounded "${GPU_TESTS_LIMIT:-100}" python3 -m pytest -m gpu tests/ -q -p no:cacheprovider \
  "${workers[@]}" --continue-on-collection-errors --durations=15 2>&1 | tee -a "$OUT/gpu_check.log"
record "pytest -m gpu tests/" "${PIPESTATUS[0]}"

# One pytest run per benchmark group, each writing its own JSON: pytest-benchmark writes no
# JSON at all for a run that is interrupted, so a group that overruns loses only itself.
parts="$(mktemp -d)"
bench_group() {  # bench_group NAME LIMIT PYTEST_ARGS...
  local name=$1 limit=$2
  shift 2
  bounded "$limit" python3 -m pytest "$@" --benchmark-only -q -s -p no:cacheprovider \
    --benchmark-json="$parts/$name.json" 2>&1 | tee -a "$OUT/gpu_check.log"
  record "benchmark $name" "${PIPESTATUS[0]}"
}
bench_group fused_linear "${LINEAR_BENCH_LIMIT:-75}" benchmarks/test_kernels.py -k "fused_linear or memcpy"
bench_group dropout "${DROPOUT_BENCH_LIMIT:-30}" benchmarks/test_kernels.py -k dropout
bench_group reparameterize "${SAMPLING_BENCH_LIMIT:-30}" benchmarks/test_kernels.py -k reparameterize
bench_group random "${RANDOM_BENCH_LIMIT:-20}" benchmarks/test_random.py
# The kernels again, timed by their device work alone (each round replays its steps from one
# CUDA graph, as inside fit's graphed training step). Its own process: a capture that fails
# cannot disturb the groups above.
BENCH_TIMING=graph bench_group device_time "${GRAPH_BENCH_LIMIT:-100}" benchmarks/test_kernels.py \
  -k "not memcpy and not 65536x1024"
VAE_BENCH_ROUNDS="${VAE_BENCH_ROUNDS:-3}" bench_group vae_training "${VAE_BENCH_LIMIT:-90}" \
  benchmarks/test_vae_training.py

jsons=()
for f in "$parts"/*.json; do
  [ -s "$f" ] && jsons+=("$f")
done
if [ "${#jsons[@]}" -gt 0 ]; then
  python3 benchmarks/summarize.py "$OUT/RESULTS.md" "${jsons[@]}" --joined-json "$OUT/bench.json"
  record "benchmarks/summarize.py" "$?"
else
  echo "# Kernel benchmarks"$'\n\n'"No benchmark JSON was written; see gpu_check.log." >"$OUT/RESULTS.md"
  record "benchmarks/summarize.py (no benchmark JSON)" 1
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
