"""scikit-optimize's gp_minimize on keelson-hpo's multimodal test functions,
as a reference for keelson's `gp` (docs/hpo.md, "GP against Optuna and random").

usage: python hpo_skopt_reference.py OUT.jsonl ackley2,rastrigin3,griewank2 SEEDS

Writes one JSON line per (function, seed): the regret after 50 calls (10 random
initial points, gp_minimize's defaults otherwise) and the CPU seconds taken. The
functions, bounds and optima come from `hpo_testfns.py` beside this script.
"""
import json
import sys
import time
import warnings

from skopt import gp_minimize

from hpo_testfns import resolve

warnings.filterwarnings("ignore")
with open(sys.argv[1], "w") as out:
    for spec in sys.argv[2].split(","):
        _, params, f, f_star = resolve({"name": spec})
        names = [p["name"] for p in params]
        bounds = [(p["min"], p["max"]) for p in params]
        for seed in range(int(sys.argv[3])):
            t = time.process_time()
            r = gp_minimize(
                lambda x: f(dict(zip(names, x))), bounds, n_calls=50, n_initial_points=10, random_state=seed
            )
            line = {"function": spec, "seed": seed, "regret": r.fun - f_star, "cpu_s": time.process_time() - t}
            out.write(json.dumps(line) + "\n")
            out.flush()
