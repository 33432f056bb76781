"""scikit-optimize's gp_minimize on keelson-hpo's multimodal test functions,
as a reference for keelson's `gp` (docs/hpo.md, "GP against Optuna and random").

usage: python hpo_skopt_reference.py OUT.jsonl ackley2,rastrigin3,griewank2 SEEDS

Writes one JSON line per (function, seed): the regret after 50 calls (10 random
initial points, gp_minimize's defaults otherwise) and the CPU seconds taken. The
functions and bounds are those of keelson_hpo::testfns.
"""
import json, math, sys, time, warnings
import numpy as np
from skopt import gp_minimize
warnings.filterwarnings("ignore")
def ackley(x):
    d = len(x); s = sum(v*v for v in x)/d; c = sum(math.cos(2*math.pi*v) for v in x)/d
    return -20*math.exp(-0.2*math.sqrt(s)) - math.exp(c) + 20 + math.e
def rastrigin(x): return 10*len(x) + sum(v*v - 10*math.cos(2*math.pi*v) for v in x)
def griewank(x):
    p = 1.0
    for i, v in enumerate(x): p *= math.cos(v/math.sqrt(i+1))
    return 1 + sum(v*v for v in x)/4000 - p
def mterm(i, v): return -math.sin(v)*math.sin(i*v*v/math.pi)**20
def michalewicz(x): return sum(mterm(i+1, v) for i, v in enumerate(x))
def mich_star(d):
    g = np.linspace(0, math.pi, 200001)
    return sum(min(-np.sin(g)*np.sin((i+1)*g*g/np.pi)**20) for i in range(d))
F = {'ackley': (ackley, -32.768, 32.768, lambda d: 0.0), 'rastrigin': (rastrigin, -5.12, 5.12, lambda d: 0.0),
     'griewank': (griewank, -600.0, 600.0, lambda d: 0.0), 'michalewicz': (michalewicz, 0.0, math.pi, mich_star)}
out = open(sys.argv[1], 'w')
for spec in sys.argv[2].split(','):
    name = spec.rstrip('0123456789'); d = int(spec[len(name):])
    f, lo, hi, star = F[name]; fs = star(d)
    for seed in range(int(sys.argv[3])):
        t = time.process_time()
        r = gp_minimize(lambda x: f(x), [(lo, hi)]*d, n_calls=50, n_initial_points=10, random_state=seed)
        out.write(json.dumps({'function': spec, 'seed': seed, 'regret': r.fun - fs, 'cpu_s': time.process_time() - t}) + '\n'); out.flush()
