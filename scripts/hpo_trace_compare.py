"""Compares two trial traces (`hpo_protocol --trace`, `hpo_optuna_trace.py`) run
by run: for each (function, sampler, seed) in both, the first trial where a
parameter differs by more than a relative 1e-9 (or a categorical choice
differs), and the largest relative difference of a parameter before it.

usage: python hpo_trace_compare.py KEELSON.jsonl OPTUNA.jsonl
"""
import json
import sys
from collections import defaultdict

RTOL = 1e-9


def load(path):
    runs = defaultdict(dict)
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        runs[(r["function"], r["sampler"], r["seed"])][r["trial"]] = r["params"]
    return runs


def difference(a, b):
    """Relative difference of two parameter values; 1 for unequal strings."""
    if isinstance(a, str) or isinstance(b, str):
        return 0.0 if str(a) == str(b) else 1.0
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def main():
    left, right = load(sys.argv[1]), load(sys.argv[2])
    identical = 0
    common = sorted(set(left) & set(right))
    print("| function | sampler | seed | trials | first difference | largest relative difference before it |")
    print("|---|---|---:|---:|---|---:|")
    for key in common:
        a, b = left[key], right[key]
        trials = sorted(set(a) & set(b))
        first, largest = None, 0.0
        for t in trials:
            names = set(a[t]) | set(b[t])
            d = max(
                (difference(a[t].get(n, "missing"), b[t].get(n, "missing")) for n in names),
                default=0.0,
            )
            if d > RTOL:
                first = t
                break
            largest = max(largest, d)
        identical += first is None
        where = "none" if first is None else f"trial {first}"
        print(f"| {key[0]} | {key[1]} | {key[2]} | {len(trials)} | {where} | {largest:.1e} |")
    print(f"\n{identical} of {len(common)} runs identical (relative 1e-9) at every trial")


if __name__ == "__main__":
    main()
