#!/usr/bin/python3
"""SciPy peer for `./adanewton solve`: the same test problems, solved by SciPy's
Hessian-free trust-region methods, with the same counters.

Methods (scipy.optimize.minimize, gradient + Hessian-vector products only):
  scipy-trust-ncg      method='trust-ncg'     (Steihaug-Toint truncated CG)
  scipy-trust-krylov   method='trust-krylov'  (GLTR, Lanczos-based)
both with options={'gtol': 1e-8, 'maxiter': 10000} (SciPy stops when the
Euclidean norm of the gradient is below gtol).

Problems (names and starting points shared with adanewton):
  rosenbrock          f = 100 (x2 - x1^2)^2 + (1 - x1)^2 from (-1.2, 1); dim 2.
  chained-rosenbrock  f = sum_{i<N-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
                      from (-1.2, 1, -1.2, 1, ...).
  quadratic           f = 1/2 x'Qx - b'x, Q = U diag(lambda) U', lambda
                      geometric in [1e-2, 1e2], U = H1 H2 H3 (Householder
                      reflections by Gaussian unit vectors), b ~ N(0, I);
                      from 0.
  logistic            L2-regularized logistic regression, 10N samples, N
                      features ~ N(0, 1), labels sign(x'w_true + 0.5 noise),
                      f = mean(log(1 + exp(-y x'w))) + (1e-3/2) ||w||^2;
                      from 0.
The random quadratic and logistic instances are built with numpy's RNG
(default_rng with the seeds adanewton uses, 7 and 11); Java's SplittableRandom
draws different numbers, so these instances are statistically equivalent to
adanewton's, not identical (same construction and distribution). Rosenbrock
and chained Rosenbrock are identical.

Reproducibility: SciPy 1.10's trust-krylov allocates TRLIB's workspace and
its Lanczos basis with numpy.empty (scipy/optimize/_trlib/_trlib.pyx) and
TRLIB reads some of it before writing it, so its last iterations depend on
whatever the heap held before: on logistic (n = 100) we saw, from bit-identical
gradients and HVPs, 8 iterations / 87 HVPs, 9 / 112, 10 / 87, or 10000
iterations of rejected NaN trial steps, depending on what ran earlier in the
process and on the environment's size. This script therefore runs trust-krylov with numpy.empty replaced by
numpy.zeros (restored afterwards), which makes it deterministic (with zeroed
memory it takes the NaN path on logistic; `nan_trials` counts those steps).
BLAS runs single-threaded (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
MKL_NUM_THREADS default to 1). Rows still differ in the last bits, and near the
gtol floor in their counts, between BLAS kernels (e.g. OPENBLAS_CORETYPE).

Counters: `gradients` counts calls of `jac`, `hvps` counts calls of `hessp`
(each through a counting wrapper), `nan_trials` calls of `fun` at a point
that is not finite; `iterations` is res.nit; `grad_norm` is the
Euclidean norm of the gradient at res.x (evaluated outside the counters).

Output: a table, or with --json one JSON line per (problem, method) with
fields problem, method, dim, iterations, gradients, hvps, f, grad_norm,
success, message (SciPy's), nan_trials, instance ("identical" or
"statistically-equivalent"), warnings (distinct RuntimeWarnings SciPy or the
objective raised during the solve; they are recorded, not printed).

Usage:
  bench/scipy_reference.py [--json] [--dim N] [--problem NAME]... [--method M]...
--dim (default 100) sets the dimension of chained-rosenbrock, quadratic and
logistic; --problem and --method (repeatable, or comma lists) restrict the
problems (default: all four) and methods (trust-ncg, trust-krylov; default
both). Exit status 3: SciPy is not installed.
"""

import argparse
import contextlib
import json
import os
import sys
import warnings

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported; see above

try:
    import numpy as np
    import scipy  # noqa: F401
    from scipy.optimize import minimize
    from scipy.special import expit
except ImportError:
    print("SciPy peer not found: install it with 'apt-get install python3-scipy'", file=sys.stderr)
    sys.exit(3)

PROBLEMS = ("rosenbrock", "chained-rosenbrock", "quadratic", "logistic")
METHODS = ("trust-ncg", "trust-krylov")
GTOL = 1e-8
MAXITER = 10000
QUADRATIC_SEED = 7   # the seeds adanewton passes to Quadratic and Logistic
LOGISTIC_SEED = 11


class Problem:
    """An objective with value, gradient and Hessian-vector product, and a start."""

    def __init__(self, name, x0, fun, grad, hessp, identical):
        self.name, self.x0 = name, x0
        self.fun, self.grad, self.hessp = fun, grad, hessp
        self.identical = identical


def chained_rosenbrock(n, name):
    def fun(x):
        a, b = x[:-1], x[1:]
        return float(np.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2))

    def grad(x):
        a, b = x[:-1], x[1:]
        r = b - a * a
        g = np.zeros_like(x)
        g[:-1] += -400.0 * a * r - 2.0 * (1.0 - a)
        g[1:] += 200.0 * r
        return g

    def hessp(x, v):
        a, b = x[:-1], x[1:]
        diag = np.zeros_like(x)
        diag[:-1] += 1200.0 * a * a - 400.0 * b + 2.0
        diag[1:] += 200.0
        off = -400.0 * a  # H[i, i+1] = H[i+1, i]
        hv = diag * v
        hv[:-1] += off * v[1:]
        hv[1:] += off * v[:-1]
        return hv

    x0 = np.where(np.arange(n) % 2 == 0, -1.2, 1.0)
    return Problem(name, x0, fun, grad, hessp, identical=True)


def quadratic(n):
    lam = 1e-2 * (1e4) ** (np.arange(n) / (n - 1))
    rng = np.random.default_rng(QUADRATIC_SEED)
    refl = [u / np.linalg.norm(u) for u in (rng.standard_normal(n) for _ in range(3))]
    b = rng.standard_normal(n)

    def q(v):  # Q v = U diag(lam) U' v, U = H1 H2 H3, H = I - 2uu'
        w = v.copy()
        for u in refl:  # U' = H3 H2 H1: apply H1 first
            w -= 2.0 * (u @ w) * u
        w *= lam
        for u in reversed(refl):
            w -= 2.0 * (u @ w) * u
        return w

    return Problem("quadratic", np.zeros(n),
                   lambda x: float(0.5 * x @ q(x) - b @ x),
                   lambda x: q(x) - b,
                   lambda x, v: q(v),
                   identical=False)


def logistic(n, mu=1e-3):
    m = 10 * n
    rng = np.random.default_rng(LOGISTIC_SEED)
    w_true = rng.standard_normal(n)
    X = rng.standard_normal((m, n))
    y = np.where(X @ w_true + 0.5 * rng.standard_normal(m) >= 0, 1.0, -1.0)

    def fun(w):
        return float(np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * mu * (w @ w))

    def grad(w):
        sig = expit(-y * (X @ w))  # -d/dt log(1 + e^-t) at t = y x'w
        return -(X.T @ (y * sig)) / m + mu * w

    def hessp(w, v):
        s = expit(X @ w)
        return X.T @ (s * (1.0 - s) * (X @ v)) / m + mu * v

    return Problem("logistic", np.zeros(n), fun, grad, hessp, identical=False)


def make(name, dim):
    if name == "rosenbrock":
        return chained_rosenbrock(2, "rosenbrock")
    if name == "chained-rosenbrock":
        return chained_rosenbrock(dim, name)
    if name == "quadratic":
        return quadratic(dim)
    if name == "logistic":
        return logistic(dim)
    raise ValueError(name)


@contextlib.contextmanager
def zeroed_numpy_empty():
    """numpy.empty allocates zeroed memory (numpy.zeros) inside the block.

    trust-krylov's Cython wrapper looks numpy.empty up at each call, so this
    gives TRLIB defined workspace instead of heap leftovers (see the module
    docstring)."""
    saved = np.empty
    np.empty = np.zeros  # same signature: (shape, dtype, order, *, like)
    try:
        yield
    finally:
        np.empty = saved


def solve(p, method):
    """Minimize p with SciPy's `method`, counting gradient and HVP calls."""
    counts = {"grad": 0, "hessp": 0, "nan": 0}

    def fun(x):
        if not np.all(np.isfinite(x)):
            counts["nan"] += 1
        return p.fun(x)

    def jac(x):
        counts["grad"] += 1
        return p.grad(x)

    def hessp(x, v):
        counts["hessp"] += 1
        return p.hessp(x, v)

    defined_memory = zeroed_numpy_empty() if method == "trust-krylov" else contextlib.nullcontext()
    with warnings.catch_warnings(record=True) as caught, defined_memory:
        warnings.simplefilter("always", RuntimeWarning)
        res = minimize(fun, p.x0.copy(), method=method, jac=jac, hessp=hessp,
                       options={"gtol": GTOL, "maxiter": MAXITER})
    return {
        "problem": p.name,
        "method": "scipy-" + method,
        "dim": int(p.x0.size),
        "iterations": int(res.nit),
        "gradients": counts["grad"],
        "hvps": counts["hessp"],
        "f": float(res.fun),
        "grad_norm": float(np.linalg.norm(p.grad(res.x))),
        "success": bool(res.success),
        "message": str(res.message),
        "nan_trials": counts["nan"],
        "instance": "identical" if p.identical else "statistically-equivalent",
        "warnings": sorted({str(w.message) for w in caught}),
    }


def verdict(r):
    """'success', or SciPy's message and the count of NaN trial steps."""
    if r["success"]:
        return "success"
    nan = " (%d NaN trial steps)" % r["nan_trials"] if r["nan_trials"] else ""
    return "failed: " + r["message"] + nan


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="one JSON line per (problem, method)")
    ap.add_argument("--dim", type=int, default=100,
                    help="dimension of chained-rosenbrock, quadratic, logistic (default 100)")
    ap.add_argument("--problem", action="append", default=[],
                    help="restrict to these problems (repeatable or comma list)")
    ap.add_argument("--method", action="append", default=[],
                    help="restrict to these SciPy methods: trust-ncg, trust-krylov")
    args = ap.parse_args()
    if args.dim < 2:
        ap.error("--dim must be >= 2")
    names = [s for a in args.problem for s in a.split(",") if s] or list(PROBLEMS)
    for s in names:
        if s not in PROBLEMS:
            ap.error("unknown problem %r; must be one of %s" % (s, ", ".join(PROBLEMS)))

    methods = [s for a in args.method for s in a.split(",") if s] or list(METHODS)
    for s in methods:
        if s.removeprefix("scipy-") not in METHODS:
            ap.error("unknown method %r; must be one of %s" % (s, ", ".join(METHODS)))
    methods = [s.removeprefix("scipy-") for s in methods]

    rows = [solve(make(name, args.dim), method) for name in names for method in methods]
    if args.json:
        for r in rows:
            print(json.dumps(r))
        return

    fmt = "%-19s %-19s %5s %6s %6s %6s %11s %11s  %s"
    print(fmt % ("problem", "method", "dim", "iters", "grads", "hvps", "||g||", "f", "verdict"))
    for r in rows:
        print(fmt % (r["problem"], r["method"], r["dim"], r["iterations"], r["gradients"],
                     r["hvps"], "%.3e" % r["grad_norm"], "%.4e" % r["f"], verdict(r)))
    if any(r["instance"] != "identical" for r in rows):
        print("note: quadratic and logistic instances are built with numpy's RNG; they are "
              "statistically equivalent to adanewton's, not identical.")


if __name__ == "__main__":
    main()
