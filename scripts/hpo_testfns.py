"""keelson-hpo's `testfns` in Python, for the reference scripts beside it
(`hpo_optuna_testfns.py`, `hpo_skopt_reference.py`): the textbook definitions
that `keelson_hpo::testfns` documents, on the same default boxes, with a known
minimizer each, and `resolve`, which reads one function entry of a protocol
file of the anchor's format (`../shared/anchors/hpo/protocol.json`).
"""
import math
import re

PI = math.pi

H3 = (
    [1.0, 1.2, 3.0, 3.2],
    [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]],
    [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]],
)
H6 = (
    [1.0, 1.2, 3.0, 3.2],
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ],
    [
        [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
    ],
)


def hartmann(consts):
    alpha, a, p = consts

    def f(x):
        return -sum(
            alpha[i] * math.exp(-sum(a[i][j] * (x[j] - p[i][j]) ** 2 for j in range(len(x)))) for i in range(4)
        )

    return f


def branin(x):
    x0, x1 = x
    b, c, t = 5.1 / (4 * PI * PI), 5 / PI, 1 / (8 * PI)
    return (x1 - b * x0 * x0 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10


def six_hump_camel(x):
    x0, x1 = x
    return (4 - 2.1 * x0**2 + x0**4 / 3) * x0**2 + x0 * x1 + (-4 + 4 * x1**2) * x1**2


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    d = len(x)
    squares = sum(v * v for v in x) / d
    cosines = sum(math.cos(2 * PI * v) for v in x) / d
    return -20 * math.exp(-0.2 * math.sqrt(squares)) - math.exp(cosines) + 20 + math.e


def styblinski_tang(x):
    return 0.5 * sum(v**4 - 16 * v * v + 5 * v for v in x)


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    middle = sum((wi - 1) ** 2 * (1 + 10 * math.sin(PI * wi + 1) ** 2) for wi in w[:-1])
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * PI * w[-1]) ** 2)
    return math.sin(PI * w[0]) ** 2 + middle + tail


def rastrigin(x):
    return 10 * len(x) + sum(v * v - 10 * math.cos(2 * PI * v) for v in x)


def griewank(x):
    product = 1.0
    for i, v in enumerate(x):
        product *= math.cos(v / math.sqrt(i + 1))
    return 1 + sum(v * v for v in x) / 4000 - product


def michalewicz_term(i, v):
    return -math.sin(v) * math.sin(i * v * v / PI) ** 20


def michalewicz(x):
    return sum(michalewicz_term(i + 1, v) for i, v in enumerate(x))


def michalewicz_argmin(i):
    """The i-th term's minimizer in [0, pi]: a dense grid, then golden section."""
    grid = 20000
    h = PI / grid
    best = min((k * h for k in range(grid + 1)), key=lambda v: michalewicz_term(i, v))
    lo, hi = max(best - h, 0.0), min(best + h, PI)
    g = (math.sqrt(5) - 1) / 2
    for _ in range(100):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if michalewicz_term(i, a) < michalewicz_term(i, b):
            hi = b
        else:
            lo = a
    return (lo + hi) / 2


MIX_C = {"sgd": -2.0, "adam": -3.0, "rmsprop": -3.5, "adagrad": -1.5}
MIX_P = {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.1, "adagrad": 0.2}


def mixed_train_loss(p):
    opt = p["optimizer"]
    return (
        0.1
        + 0.25 * (math.log10(p["lr"]) - MIX_C[opt]) ** 2
        + MIX_P[opt]
        + 0.05 * (int(p["n_layers"]) - 4) ** 2
        + 0.1 * (math.log2(int(p["batch_size"])) - 6) ** 2
        + (p["dropout"] - 0.2) ** 2
    )


MIXED_PARAMS = [
    {"name": "lr", "type": "double", "min": 1e-5, "max": 0.1, "distribution": "logUniform"},
    {"name": "n_layers", "type": "int", "min": 1, "max": 8},
    {"name": "optimizer", "type": "categorical", "list": list(MIX_C)},
    {"name": "batch_size", "type": "discrete", "list": [16, 32, 64, 128, 256, 512]},
    {"name": "dropout", "type": "double", "min": 0.0, "max": 0.8},
]

# name: (function, default box, a minimizer given to six digits, the minimum).
# The minimum is the literature's, as `testfns` states it: at the rounded
# minimizer Hartmann 3 is 2.4e-6 above it, a tenth of a good run's regret.
FIXED = {
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], [PI, 2.275], 0.39788735772973816),
    "six_hump_camel": (
        six_hump_camel,
        [(-3.0, 3.0), (-2.0, 2.0)],
        [0.0898420136830133, -0.7126564032704135],
        -1.031628453489877,
    ),
    "hartmann3": (hartmann(H3), [(0.0, 1.0)] * 3, [0.114614, 0.555649, 0.852547], -3.862782147820756),
    "hartmann6": (
        hartmann(H6),
        [(0.0, 1.0)] * 6,
        [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
        -3.322368011415515,
    ),
}
# name: (function, default bounds of every input, a minimizer in d inputs)
SCALABLE = {
    "rosenbrock": (rosenbrock, (-5.0, 10.0), lambda d: [1.0] * d),
    "ackley": (ackley, (-32.768, 32.768), lambda d: [0.0] * d),
    "styblinski_tang": (styblinski_tang, (-5.0, 5.0), lambda d: [-2.903534027771178] * d),
    "levy": (levy, (-10.0, 10.0), lambda d: [1.0] * d),
    "rastrigin": (rastrigin, (-5.12, 5.12), lambda d: [0.0] * d),
    "griewank": (griewank, (-600.0, 600.0), lambda d: [0.0] * d),
    "michalewicz": (michalewicz, (0.0, PI), lambda d: [michalewicz_argmin(i + 1) for i in range(d)]),
}


def resolve(fspec):
    """(record name, params spec, objective of a params dict, f_star)."""
    name = fspec["name"]
    if name == "mixed_train_loss":
        params = fspec.get("params", MIXED_PARAMS)
        known = mixed_train_loss({"lr": 1e-3, "n_layers": 4, "optimizer": "adam", "batch_size": 64, "dropout": 0.2})
        return name, params, mixed_train_loss, checked_f_star(fspec, known)
    if name in FIXED:
        f, box, argmin, minimum = FIXED[name]
        if abs(f(argmin) - minimum) > 1e-5:
            raise ValueError(f"{name}: {f(argmin)} at its minimizer, not {minimum}")
        record = name
    else:
        m = re.fullmatch(r"([a-z_]+?)(\d+)", name)
        base, dim = (m.group(1), int(m.group(2))) if m and m.group(1) in SCALABLE else (name, fspec.get("dim"))
        if base not in SCALABLE or not dim:
            raise ValueError(f"{name}: not a testfns function known here (or no dim)")
        f, (lo, hi), argmin = SCALABLE[base]
        box, argmin, record = [(lo, hi)] * dim, argmin(dim), f"{base}{dim}"
        minimum = f(argmin)
    if "params" in fspec:
        params = fspec["params"]
    elif "params_uniform_box" in fspec:
        b = fspec["params_uniform_box"]
        params = [{"name": f"x{i}", "type": "double", "min": b["min"], "max": b["max"]} for i in range(len(box))]
    else:
        params = [{"name": f"x{i}", "type": "double", "min": lo, "max": hi} for i, (lo, hi) in enumerate(box)]
    names = [p["name"] for p in params]
    inside = all(p["min"] <= v <= p["max"] for p, v in zip(params, argmin))
    f_star = checked_f_star(fspec, minimum) if inside else fspec.get("f_star")
    if f_star is None:
        raise ValueError(f"{name}: the stated space leaves out the minimizer, so f_star must be stated")
    return record, params, (lambda p: f([p[n] for n in names])), f_star


def checked_f_star(fspec, known):
    stated = fspec.get("f_star")
    if stated is not None and abs(stated - known) > 1e-4 * max(1.0, abs(known)):
        raise ValueError(f"{fspec['name']}: stated f_star {stated} but the function gives {known} at its minimizer")
    return known
