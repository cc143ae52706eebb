#!/usr/bin/env bash
# Compare whole training epochs of the stochastic trust-region method with the
# RMSProp norm (Fashion-MNIST, MLP 784-128-10 tanh, batch 512): adanewton
# against the same method written plainly in PyTorch
# (bench/torch_reference.py --tr-epoch, Debian's python3-torch, CPU).
#
# Ours: ./adanewton train --preset fmnist-mlp --method tr-rmsprop --epochs E
#   --warm-epochs 0 --pivot-every 0 --eval-every 1 --threads N --progress lines;
#   its training time (evaluation excluded) and HVP count are the last row of
#   metrics.csv. Torch: --tr-epoch --tr-epochs E --threads N --json; only the
#   training loop is timed. Prints seconds per epoch on each side, the ratio
#   torch/ours ("ours is Nx faster") and the HVPs per iteration on each side.
# The progress of both runs goes to stderr; the table to stdout.
#
# Usage (from anywhere; it works in the repository root):
#   bench/compare_tr_epoch.sh [--threads N] [--epochs E]
# --threads defaults to 2, --epochs to 2. Exit status 3: PyTorch is not
# installed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=/usr/bin/python3
threads=2
epochs=2

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
        --threads=*) threads="${1#*=}"; shift ;;
        --epochs) epochs="${2:?--epochs needs a value}"; shift 2 ;;
        --epochs=*) epochs="${1#*=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare_tr_epoch.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
for v in "$threads" "$epochs"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "compare_tr_epoch.sh: --threads and --epochs must be positive integers" >&2
        exit 2
    fi
done

if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
    echo "PyTorch peer not found: install it with 'apt-get install python3-torch'" >&2
    exit 3
fi
if [[ ! -x ./adanewton ]]; then
    echo "compare_tr_epoch.sh: ./adanewton not found" >&2
    exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "# running ./adanewton train (tr-rmsprop, $epochs epochs, threads $threads)" >&2
./adanewton train --preset fmnist-mlp --method tr-rmsprop --epochs "$epochs" \
    --warm-epochs 0 --pivot-every 0 --eval-every 1 --threads "$threads" \
    --progress lines --out "$tmp/ours" >&2

echo "# running bench/torch_reference.py --tr-epoch --tr-epochs $epochs --threads $threads" >&2
"$PY" bench/torch_reference.py --tr-epoch --tr-epochs "$epochs" --threads "$threads" \
    --json >"$tmp/torch.txt"

"$PY" - "$tmp/ours/metrics.csv" "$tmp/torch.txt" "$threads" "$epochs" <<'EOF'
"""Read our metrics.csv (last row) and torch's JSON line; print a table."""
import csv
import json
import sys

metrics, torch_file, threads, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

with open(metrics, newline="") as f:
    rows = list(csv.DictReader(f))
if not rows:
    sys.exit("compare_tr_epoch.sh: %s has no rows" % metrics)
last = rows[-1]
ours_epochs = float(last["epoch"])
if abs(ours_epochs - epochs) > 1e-6:
    print("# note: our last row is at epoch %g, not %d" % (ours_epochs, epochs),
          file=sys.stderr)
ours = {"seconds": float(last["seconds"]), "iterations": int(last["iteration"]),
        "hvps": int(last["hvps"]), "loss": float(last["train_loss"])}
ours["per_epoch"] = ours["seconds"] / ours_epochs

torch = None
with open(torch_file, errors="replace") as f:
    for line in f:
        line = line.strip()
        if line.startswith("{"):
            torch = json.loads(line)
if torch is None:
    sys.exit("compare_tr_epoch.sh: no JSON line from bench/torch_reference.py")
t = {"seconds": float(torch["seconds"]), "iterations": int(torch["iterations"]),
     "hvps": int(torch["hvps"]), "per_epoch": float(torch["seconds_per_epoch"])}


def per_it(d):
    return "%.2f" % (d["hvps"] / d["iterations"]) if d["iterations"] else "-"


table = [
    ["", "ours", "torch"],
    ["seconds/epoch", "%.3f" % ours["per_epoch"], "%.3f" % t["per_epoch"]],
    ["seconds", "%.3f" % ours["seconds"], "%.3f" % t["seconds"]],
    ["iterations", str(ours["iterations"]), str(t["iterations"])],
    ["hvps", str(ours["hvps"]), str(t["hvps"])],
    ["hvps/iteration", per_it(ours), per_it(t)],
]
widths = [max(len(r[i]) for r in table) for i in range(3)]
print("# tr-rmsprop on Fashion-MNIST, MLP 784-128-10 tanh, batch 512: "
      "adanewton vs pytorch %s, threads=%s, epochs=%d; training time only"
      % (torch.get("torch", "?"), threads, epochs))
for r in table:
    print("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]))
if ours["per_epoch"] > 0:
    ratio = t["per_epoch"] / ours["per_epoch"]
    print("ratio torch/ours: %.2f (ours is %.2fx %s)"
          % (ratio, ratio if ratio >= 1 else 1 / ratio,
             "faster" if ratio >= 1 else "slower"))
print("# final loss: ours %.6f (train set, end of run), torch %.6f (last batch)"
      % (ours["loss"], float(torch["final_batch_loss"])))
EOF
