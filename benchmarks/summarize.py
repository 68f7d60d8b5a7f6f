"""Turn a pytest-benchmark JSON file from ``test_kernels.py`` into a markdown report.

Usage: ``python benchmarks/summarize.py RESULTS_MD BENCH_JSON [BENCH_JSON ...]``

Several JSON files (one per benchmark run) are read as one: their benchmarks are joined and
the machine information is taken from the first.

The report gives the card, library versions and date; the device copy bandwidth; one row per
(op, pass, shape, dtype) with the median time of one step for tritonlayers, torch eager and
torch.compile, the speed-ups, achieved GB/s (memory-bound ops) or TFLOP/s (fused_linear);
and the issue's targets checked against those numbers. Wall-clock runs and device-time runs
(``BENCH_TIMING=graph``: the steps replayed from one CUDA graph) get a table each. Next to
the report it writes ``dispatch_table.json``: the fused_linear shape buckets where torch
eager beat the Triton kernel forward+backward in wall-clock time (eager calls pay the host
costs), in the format ``tritonlayers/kernels/fused_linear.py`` reads from
``benchmarks/dispatch_table.json`` (review it before committing it there).
"""

import argparse
import json
from collections import defaultdict
from pathlib import Path

IMPLS = ("tritonlayers", "torch_eager", "torch_compile")
LINEAR_TARGET = 1.2  # fused_linear fwd+bwd vs torch eager at VAE shapes
FLOOR = 1.0  # ... and never slower at any benchmarked shape
BANDWIDTH_TARGET = 0.8  # dropout and reparameterize_with_kl vs device copy bandwidth


def _step_seconds(bench: dict) -> float:
    return bench["stats"]["median"] / bench["extra_info"].get("calls_per_round", 1)


TIMINGS = {
    "wall": "Wall-clock time of eager calls (host launch costs included)",
    "graph": "Device time (the steps replayed from one CUDA graph: no host launch costs)",
}


def _cases(benchmarks: list) -> dict:
    """{(op, pass, shape, dtype, timing): {impl: benchmark}} for the kernel benchmarks."""
    cases = defaultdict(dict)
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if info.get("impl") in IMPLS and info.get("op") not in (None, "memcpy"):
            key = (info["op"], info["pass"], info["shape"], info["dtype"])
            cases[(*key, info.get("timing", "wall"))][info["impl"]] = bench
    return cases


def _other_benchmarks(benchmarks: list) -> list[str]:
    """Benchmarks from other files (the VAE training loop, ...): name and median time."""
    others = [b for b in benchmarks if b.get("extra_info", {}).get("op") is None]
    if not others:
        return []
    lines = ["## Other benchmarks", "", "| benchmark | median per round (ms) | extra info |"]
    lines.append("|---|---|---|")
    for b in sorted(others, key=lambda b: b["name"]):
        extra = ", ".join(f"{k}={v}" for k, v in sorted(b.get("extra_info", {}).items()))
        lines.append(f"| {b['name']} | {b['stats']['median'] * 1e3:.3f} | {extra} |")
    return [*lines, ""]


def _copy_bandwidth(benchmarks: list) -> float | None:
    rates = [
        b["extra_info"]["gb_per_s"]
        for b in benchmarks
        if b["extra_info"].get("op") == "memcpy" and b["extra_info"].get("timing", "wall") == "wall"
    ]
    return max(rates) if rates else None


def _fmt(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def _rows(cases: dict, copy_gbps: float | None) -> list[dict]:
    rows = []
    for (op, pass_, shape, dtype, timing), impls in sorted(cases.items()):
        times = {impl: _step_seconds(b) for impl, b in impls.items()}
        ours = impls.get("tritonlayers", {}).get("extra_info", {})
        ours_time = times.get("tritonlayers")
        row = {"op": op, "pass": pass_, "shape": shape, "dtype": dtype, "times": times}
        row["timing"] = timing
        for impl in ("torch_eager", "torch_compile"):
            has_both = ours_time and impl in times
            row[f"vs_{impl}"] = times[impl] / ours_time if has_both else None
        row["gbps"] = ours.get("gb_per_s")
        row["tflops"] = ours.get("tflop_per_s")
        row["bw_fraction"] = row["gbps"] / copy_gbps if row["gbps"] and copy_gbps else None
        rows.append(row)
    return rows


def _table(rows: list[dict]) -> list[str]:
    head = (
        "| op | pass | shape | dtype | tritonlayers (µs) | torch eager (µs) | torch.compile (µs) "
        "| × vs eager | × vs compile | GB/s | % of copy | TFLOP/s |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        t = {impl: r["times"].get(impl) for impl in IMPLS}
        cells = [r["op"], r["pass"], r["shape"], r["dtype"]]
        cells += [_fmt(t[impl] * 1e6 if t[impl] else None, ".1f") for impl in IMPLS]
        cells += [_fmt(r["vs_torch_eager"], ".2f"), _fmt(r["vs_torch_compile"], ".2f")]
        cells += [_fmt(r["gbps"], ".0f"), _fmt(r["bw_fraction"] and 100 * r["bw_fraction"], ".0f")]
        cells += [_fmt(r["tflops"], ".1f")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _by_timing(rows: list[dict]):
    """(title, rows) for each timing that has rows."""
    for timing, title in TIMINGS.items():
        measured = [r for r in rows if r["timing"] == timing]
        if measured:
            yield title, measured


def _tables(rows: list[dict]) -> list[str]:
    """One table per timing, each under its heading."""
    return [
        line
        for title, measured in _by_timing(rows)
        for line in (f"## {title}", "", *_table(measured), "")
    ]


def _targets(rows: list[dict]) -> list[str]:
    """The issue's performance targets, each with PASS/FAIL and the numbers behind it, for
    each timing."""
    return [
        line
        for title, measured in _by_timing(rows)
        for line in (f"{title}:", "", *_timing_targets(measured), "")
    ]


def _timing_targets(rows: list[dict]) -> list[str]:
    """The targets checked against the rows of one timing."""
    lines = []
    linear = [r for r in rows if r["op"] == "fused_linear" and r["pass"] == "fwd+bwd"]
    speedups = [r["vs_torch_eager"] for r in linear if r["vs_torch_eager"]]
    if speedups:
        worst = min(linear, key=lambda r: r["vs_torch_eager"] or float("inf"))
        median = sorted(speedups)[len(speedups) // 2]
        verdict = "PASS" if median >= LINEAR_TARGET else "FAIL"
        lines.append(
            f"- fused_linear fwd+bwd vs torch eager, median over {len(speedups)} shapes: "
            f"{median:.2f}× (target ≥ {LINEAR_TARGET}×): **{verdict}**"
        )
        verdict = "PASS" if worst["vs_torch_eager"] >= FLOOR else "FAIL"
        lines.append(
            f"- fused_linear fwd+bwd worst shape {worst['shape']} {worst['dtype']}: "
            f"{worst['vs_torch_eager']:.2f}× (target ≥ {FLOOR}× once dispatch is tuned): "
            f"**{verdict}**"
        )
    for op in ("dropout", "reparameterize_with_kl"):
        measured = [r for r in rows if r["op"] == op and r["bw_fraction"]]
        if not measured:
            continue
        largest = max(measured, key=lambda r: _element_count(r["shape"]))
        for r in [x for x in measured if x["shape"] == largest["shape"]]:
            verdict = "PASS" if r["bw_fraction"] >= BANDWIDTH_TARGET else "FAIL"
            lines.append(
                f"- {op} {r['pass']} at {r['shape']}: {r['gbps']:.0f} GB/s = "
                f"{100 * r['bw_fraction']:.0f}% of copy bandwidth (target ≥ "
                f"{100 * BANDWIDTH_TARGET:.0f}%): **{verdict}**"
            )
    return lines


def _element_count(shape: str) -> int:
    """The element count of an "AxBxC" shape id."""
    size = 1
    for part in shape.split("x"):
        size *= int(part)
    return size


def _bucket(size: int) -> int:
    """The next power of two, at least 16: the rounding of ``fused_linear._bucket`` (kept
    here so the script runs without the package)."""
    return max(16, 1 << (size - 1).bit_length())


def dispatch_proposal(rows: list[dict], device: str) -> dict:
    """Table entries for the shape buckets where torch eager beat Triton forward+backward."""
    keys = set()
    for r in (r for r in rows if r["timing"] == "wall"):
        slower = r["vs_torch_eager"] is not None and r["vs_torch_eager"] < 1
        if r["op"] == "fused_linear" and r["pass"] == "fwd+bwd" and slower:
            m, k, n = map(int, r["shape"].split("x"))
            keys.add((r["dtype"], _bucket(m), _bucket(n), _bucket(k)))
    entries = [
        {"device": device, "dtype": dtype, "m": m, "n": n, "k": k}
        for dtype, m, n, k in sorted(keys)
    ]
    return {
        "about": "Proposed from a GPU benchmark run by benchmarks/summarize.py.",
        "entries": entries,
    }


def report(data: dict) -> tuple[str, dict]:
    machine = data.get("machine_info", {})
    benchmarks = data.get("benchmarks", [])
    device = machine.get("device_name", "unknown")
    if device == "CPU":
        device = f"CPU: {machine.get('cpu', {}).get('brand_raw', 'unknown')}"
    copy_gbps = _copy_bandwidth(benchmarks)
    rows = _rows(_cases(benchmarks), copy_gbps)
    versions = (
        f"torch {machine.get('torch')}, triton {machine.get('triton')}, "
        f"CUDA {machine.get('cuda')}, Python {machine.get('python')}"
    )
    lines = [
        "# Kernel benchmarks",
        "",
        f"- Card: {device}",
        f"- Versions: {versions}",
        f"- Date: {data.get('datetime', 'unknown')}",
        f"- Device copy bandwidth (read + write): {_fmt(copy_gbps, ',.0f') or 'not measured'} GB/s",
        "",
        "Median time of one step. × = torch time / tritonlayers time (above 1: tritonlayers is",
        "faster). GB/s counts the bytes a step must move at least (no stored masks or noise);",
        "TFLOP/s counts 2MNK forward, 6MNK forward+backward. float32 matmuls run as TF32.",
        "",
        *_tables(rows),
        "## Targets",
        "",
        *(_targets(rows) or ["- no kernel benchmarks in this file"]),
        "",
        *_other_benchmarks(benchmarks),
    ]
    # Only a GPU run can say where cuBLAS beats the Triton kernel.
    on_gpu = machine.get("device_name", "CPU") != "CPU"
    proposal = dispatch_proposal(rows if on_gpu else [], device)
    return "\n".join(lines), proposal


def _joined(runs: list[dict]) -> dict:
    """One pytest-benchmark document from several runs: the first run's machine and date."""
    return {**runs[0], "benchmarks": [bench for run in runs for bench in run.get("benchmarks", [])]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_md", type=Path)
    parser.add_argument("bench_json", type=Path, nargs="+")
    parser.add_argument("--joined-json", type=Path, help="also write the joined runs here")
    args = parser.parse_args()
    data = _joined([json.loads(path.read_text()) for path in args.bench_json])
    if args.joined_json:
        args.joined_json.write_text(json.dumps(data, indent=1))
    markdown, proposal = report(data)
    args.results_md.write_text(markdown)
    table = args.results_md.parent / "dispatch_table.json"
    table.write_text(json.dumps(proposal, indent=2) + "\n")
    print(f"wrote {args.results_md} and {table}")


if __name__ == "__main__":
    main()
