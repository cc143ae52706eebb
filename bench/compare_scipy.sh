#!/usr/bin/env bash
# Compare adanewton's Hessian-free solvers with SciPy's on the built-in problems.
#
# Runs `./adanewton solve PROBLEM --method M --norm uniform --gtol 1e-8 --json`
# for M in tr-steihaug, tr-gltr, arc, and bench/scipy_reference.py --json
# (minimize with trust-ncg and trust-krylov, gtol 1e-8, maxiter 10000), on
# rosenbrock (n = 2), chained-rosenbrock, quadratic and logistic (n = --dim).
# Prints, per problem, our rows then SciPy's: iterations, gradient evaluations,
# Hessian-vector products, the final ||g||_2 (both sides stop on ||g||_2 <=
# gtol) and f, and each solver's own verdict (CONVERGENCE / SciPy's success or
# message); then one line
#   HVPs ours (best of tr-steihaug, tr-gltr) / scipy (best of trust-ncg,
#   trust-krylov) = ours / scipy = ratio
# where "best" is the fewest HVPs among the runs that converged on that side
# (among all its runs, flagged, when none did). ARC is shown, not in the ratio.
# Ratios below 1 mean adanewton needed fewer HVPs.
#
# The quadratic and logistic instances are random: SciPy's are built with
# numpy's RNG by the same construction, so they are statistically equivalent
# to ours, not identical (f differs); the Rosenbrock problems are identical.
# See bench/scipy_reference.py for how SciPy is run (single-threaded BLAS;
# trust-krylov with zeroed workspace, as it reads some uninitialized).
#
# Usage (from anywhere; it works in the repository root):
#   bench/compare_scipy.sh [--dim N]
# --dim defaults to 100. Exit status 3: SciPy is not installed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=/usr/bin/python3
dim=100
problems=(rosenbrock chained-rosenbrock quadratic logistic)
methods=(tr-steihaug tr-gltr arc)

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --dim) dim="${2:?--dim needs a value}"; shift 2 ;;
        --dim=*) dim="${1#*=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare_scipy.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
if ! [[ "$dim" =~ ^[1-9][0-9]*$ ]] || (( dim < 2 )); then
    echo "compare_scipy.sh: --dim must be an integer >= 2" >&2
    exit 2
fi

if ! "$PY" -c 'import scipy' >/dev/null 2>&1; then
    echo "SciPy peer not found: install it with 'apt-get install python3-scipy'" >&2
    exit 3
fi
if [[ ! -x ./adanewton ]]; then
    echo "compare_scipy.sh: ./adanewton not found (run from a checkout of the project)" >&2
    exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "# running ./adanewton solve (${methods[*]}) on ${problems[*]}, dim $dim" >&2
for p in "${problems[@]}"; do
    for m in "${methods[@]}"; do
        ./adanewton solve "$p" --method "$m" --norm uniform --gtol 1e-8 --json --dim "$dim" >>"$tmp/ours.txt"
    done
done

echo "# running bench/scipy_reference.py (trust-ncg, trust-krylov), dim $dim" >&2
"$PY" bench/scipy_reference.py --json --dim "$dim" >"$tmp/scipy.txt"

"$PY" - "$tmp/ours.txt" "$tmp/scipy.txt" "${problems[@]}" <<'EOF'
"""Group our and SciPy's JSON lines by problem and print the table."""
import json
import sys

ours_file, scipy_file, problems = sys.argv[1], sys.argv[2], sys.argv[3:]
RATIO_OURS = ("tr-steihaug", "tr-gltr")
RATIO_SCIPY = ("scipy-trust-ncg", "scipy-trust-krylov")


def load(path):
    """JSON rows of a file; lines not starting with '{' are ignored."""
    rows = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def converged(r):
    return r.get("termination") == "CONVERGENCE" if "termination" in r else bool(r.get("success"))


def verdict(r):
    if "termination" in r:
        return r["termination"]
    if r.get("success"):
        return "success"
    nan = " (%d NaN trial steps)" % r["nan_trials"] if r.get("nan_trials") else ""
    return "failed: " + r.get("message", "?") + nan


def best(rows, methods):
    """(row with fewest HVPs among the converged ones, or among all; whether any converged)."""
    rows = [r for r in rows if r["method"] in methods]
    ok = [r for r in rows if converged(r)]
    pool = ok or rows
    return (min(pool, key=lambda r: r["hvps"]) if pool else None), bool(ok)


ours, scipy = load(ours_file), load(scipy_file)
fmt = "%-26s %-5s %-18s %6s %6s %6s %10s %12s  %s"
head = fmt % ("problem", "side", "method", "iters", "grads", "hvps", "final ||g||", "f", "verdict")
print("# adanewton (--norm uniform) vs SciPy minimize; gtol 1e-8 on ||g||_2 both sides")
print("# quadratic/logistic: SciPy's instances are statistically equivalent to ours "
      "(same construction, numpy RNG), not identical, so f differs")
print(head)
print("-" * len(head))
for p in problems:
    side_rows = [("ours", [r for r in ours if r["problem"] == p]),
                 ("scipy", [r for r in scipy if r["problem"] == p])]
    for side, rows in side_rows:
        for r in rows:
            print(fmt % ("%s (n=%d)" % (p, r["dim"]), side, r["method"], r["iterations"],
                         r["gradients"], r["hvps"], "%.3e" % r["grad_norm"], "%.5g" % r["f"],
                         verdict(r)))
    (o, o_ok), (s, s_ok) = best(side_rows[0][1], RATIO_OURS), best(side_rows[1][1], RATIO_SCIPY)
    line = ("HVPs ours (best of tr-steihaug, tr-gltr) / scipy (best of trust-ncg, trust-krylov) = ")
    if o is None or s is None or s["hvps"] == 0:
        line += "n/a (missing rows)"
    else:
        line += "%d (%s) / %d (%s) = %.2f" % (o["hvps"], o["method"], s["hvps"],
                                             s["method"].removeprefix("scipy-"), o["hvps"] / s["hvps"])
        flags = [name for name, ok in (("ours", o_ok), ("scipy", s_ok)) if not ok]
        if flags:
            line += "  [no %s run converged; best of all runs]" % " or ".join(flags)
    print("  " + line)
    print("-" * len(head))
EOF
