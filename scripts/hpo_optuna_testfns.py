"""Optuna's samplers on any function of keelson's `testfns`, so that keelson's
samplers can be compared with Optuna's beyond the anchor's five box functions
(docs/hpo.md, "Optuna's `GPSampler` on the same 40 functions").

usage: python hpo_optuna_testfns.py PROTOCOL.json [--samplers gp,tpe]
           [--workers 2]

PROTOCOL.json has the anchor's format (`../shared/anchors/hpo/protocol.json`):
`budgets`, `seeds` and `functions`, each function named as
`examples/hpo_protocol.rs` names it (`branin`, `hartmann6`, `mixed_train_loss`,
`ackley` with `"dim": 5` or `ackley5`), with an optional `params` or
`params_uniform_box` and `f_star` as the anchor states them. Each (function,
sampler, seed) is one sequential run of the largest budget; every budget's
record is read from its prefix, as the anchor does. One JSON record per line,
in the anchor's record format with `cpu_seconds_per_trial`; the `sampler` field
is Optuna's name prefixed with `optuna_`.

The functions come from `hpo_testfns.py` beside this script; each is
checked at its known minimizer before any run, and a mismatch with a stated
`f_star` stops the script. Needs optuna (5.0.0 was measured), and torch for
`gp`.
"""
import argparse
import json
import math
import multiprocessing as mp
import sys
import time
import warnings

from hpo_testfns import resolve


def suggest(trial, params):
    out = {}
    for p in params:
        kind = p.get("type", "double")
        if kind == "double":
            log = p.get("distribution", "uniform") == "logUniform"
            out[p["name"]] = trial.suggest_float(p["name"], p["min"], p["max"], log=log)
        elif kind == "int":
            out[p["name"]] = trial.suggest_int(p["name"], p["min"], p["max"])
        else:
            out[p["name"]] = trial.suggest_categorical(p["name"], p["list"])
    return out


SAMPLERS = ("random", "tpe", "tpe_independent", "cmaes", "qmc_sobol", "gp")


def make_sampler(name, seed):
    import optuna

    s = optuna.samplers
    return {
        "random": lambda: s.RandomSampler(seed=seed),
        "tpe": lambda: s.TPESampler(seed=seed),
        "tpe_independent": lambda: s.TPESampler(seed=seed, multivariate=False),
        "cmaes": lambda: s.CmaEsSampler(seed=seed),
        "qmc_sobol": lambda: s.QMCSampler(qmc_type="sobol", scramble=True, seed=seed),
        "gp": lambda: s.GPSampler(seed=seed),
    }[name]()


def run(job):
    import optuna

    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fspec, sampler, seed, budgets = job
    record, params, f, f_star = resolve(fspec)
    study = optuna.create_study(sampler=make_sampler(sampler, seed))
    wall = cpu = 0.0
    best = math.inf
    out = []
    for n in range(1, max(budgets) + 1):
        w0, c0 = time.perf_counter(), time.process_time()
        trial = study.ask()
        p = suggest(trial, params)
        w1, c1 = time.perf_counter(), time.process_time()
        value = f(p)
        w2, c2 = time.perf_counter(), time.process_time()
        study.tell(trial, value)
        wall += (w1 - w0) + time.perf_counter() - w2
        cpu += (c1 - c0) + time.process_time() - c2
        best = min(best, value)
        if n in budgets:
            out.append(
                {
                    "function": record,
                    "sampler": f"optuna_{sampler}",
                    "budget": n,
                    "seed": seed,
                    "best_value": best,
                    "regret": best - f_star,
                    "seconds_per_trial": wall / n,
                    "cpu_seconds_per_trial": cpu / n,
                }
            )
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("protocol")
    ap.add_argument("--samplers", default="gp")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with open(args.protocol) as fh:
        protocol = json.load(fh)
    budgets = sorted(set(protocol["budgets"]))
    samplers = args.samplers.split(",")
    unknown = [name for name in samplers if name not in SAMPLERS]
    if unknown:
        sys.exit(f"--samplers: unknown {', '.join(unknown)} (known: {', '.join(SAMPLERS)})")
    jobs = []
    for fspec in protocol["functions"]:
        try:
            params = resolve(fspec)[1]
        except ValueError as e:
            sys.exit(str(e))
        has_categorical = any(p.get("type") in ("categorical", "discrete") for p in params)
        for sampler in samplers:
            if sampler == "cmaes" and has_categorical:
                continue
            jobs += [(fspec, sampler, seed, budgets) for seed in protocol["seeds"]]
    with mp.Pool(args.workers) as pool:
        for records in pool.imap(run, jobs):
            for r in records:
                print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
