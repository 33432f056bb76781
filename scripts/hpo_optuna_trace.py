"""Optuna's trials on the HPO anchor protocol, one JSON line per trial, in the
format of `hpo_protocol --trace` (function, sampler, seed, trial, params,
value), so that keelson's TPE can be compared with Optuna's trial by trial
(docs/hpo.md, "Optuna's suggestions, seed for seed").

usage: python hpo_optuna_trace.py PROTOCOL.json [--samplers tpe,tpe_independent]
           [--seeds 0,1] [--functions branin,mixed_train_loss] [--anchor DIR]

The functions, their parameters and the order in which a trial suggests them
are the anchor's own: they are imported from `bench_optuna.py` in the anchor
directory (default `../shared/anchors/hpo` beside this checkout), and each trial
suggests its parameters as that runner does. Needs optuna (5.0.0 was measured).
"""
import argparse
import importlib.util
import json
import os
import sys


def load_anchor(directory):
    path = os.path.join(directory, "bench_optuna.py")
    spec = importlib.util.spec_from_file_location("bench_optuna", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def suggester(anchor, fspec):
    """The anchor runner's define-by-run suggestions and objective for fspec."""
    if fspec["name"] == "mixed_train_loss":
        p = {q["name"]: q for q in fspec["params"]}

        def suggest(t):
            return {
                "lr": t.suggest_float("lr", p["lr"]["min"], p["lr"]["max"], log=True),
                "n_layers": t.suggest_int("n_layers", p["n_layers"]["min"], p["n_layers"]["max"]),
                "optimizer": t.suggest_categorical("optimizer", p["optimizer"]["list"]),
                "batch_size": t.suggest_categorical("batch_size", p["batch_size"]["list"]),
                "dropout": t.suggest_float("dropout", p["dropout"]["min"], p["dropout"]["max"]),
            }

        return suggest, anchor.mixed_train_loss
    box = anchor.box_params(fspec)

    def suggest(t):
        return [t.suggest_float(name, lo, hi) for (name, lo, hi) in box]

    return suggest, anchor.BOX_FUNCS[fspec["name"]]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("protocol")
    ap.add_argument("--samplers", default="tpe")
    ap.add_argument("--seeds")
    ap.add_argument("--functions")
    ap.add_argument("--anchor", default=os.path.join(here, "..", "..", "shared", "anchors", "hpo"))
    args = ap.parse_args()

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    anchor = load_anchor(args.anchor)
    protocol = json.load(open(args.protocol))
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else protocol["seeds"]
    wanted = args.functions.split(",") if args.functions else None
    n = max(protocol["budgets"])
    for fspec in protocol["functions"]:
        if wanted and fspec["name"] not in wanted:
            continue
        suggest, objective = suggester(anchor, fspec)
        for sampler in args.samplers.split(","):
            for seed in seeds:
                study = optuna.create_study(
                    direction="minimize", sampler=anchor.make_optuna_sampler(sampler, seed)
                )
                for i in range(n):
                    trial = study.ask()
                    value = objective(suggest(trial))
                    study.tell(trial, value)
                    record = {
                        "function": fspec["name"],
                        "sampler": sampler,
                        "seed": seed,
                        "trial": i,
                        "params": trial.params,
                        "value": value,
                    }
                    print(json.dumps(record))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
