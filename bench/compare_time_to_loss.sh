#!/usr/bin/env bash
# Seconds to a target training loss on Fashion-MNIST (MLP 784-128-10 tanh,
# the paper's objective: cross-entropy + 1e-4 sum ||T||), measured in one go
# on the same machine and threads for:
#   ours TR-RMSProp       ./adanewton train --preset fmnist-mlp (the paper's preset)
#   ours TR-RMSProp fast  ./adanewton train --preset fmnist-mlp-fast (at most 4 CG iterations)
#   ours Adam             ./adanewton train --preset fmnist-mlp --method adam
#   PyTorch Adam          bench/torch_reference.py --train adam (lr 1e-3, batch 128)
#   PyTorch TR-RMSProp    bench/torch_reference.py --train tr (the plain loop)
# Every run evaluates the full training loss after every epoch with its timer
# paused and stops once the loss is at or below the last target; the table
# gives, per target (natural-log losses), the first epoch at or below it and
# the training seconds up to it (evaluation excluded; our warm start, where a
# preset has one, included), and the seconds per epoch.
#
# Usage (from anywhere; it works in the repository root):
#   bench/compare_time_to_loss.sh [--threads N] [--max-epochs E] [--only LIST]
# --threads defaults to 2, --max-epochs to 150; --only takes a comma list of
# tr, tr-fast, adam, torch-adam, torch-tr (default: all). The targets are
# -2.5 and -3.2. Progress goes to stderr, the table to stdout. Exit status 3:
# PyTorch is not installed (the runs of ours still go).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=/usr/bin/python3
threads=2
max_epochs=150
only="tr,tr-fast,adam,torch-adam,torch-tr"
targets="-2.5,-3.2"

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
        --threads=*) threads="${1#*=}"; shift ;;
        --max-epochs) max_epochs="${2:?--max-epochs needs a value}"; shift 2 ;;
        --max-epochs=*) max_epochs="${1#*=}"; shift ;;
        --only) only="${2:?--only needs a value}"; shift 2 ;;
        --only=*) only="${1#*=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare_time_to_loss.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
for v in "$threads" "$max_epochs"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "compare_time_to_loss.sh: --threads and --max-epochs must be positive integers" >&2
        exit 2
    fi
done
IFS=, read -ra runs <<<"$only"
for r in "${runs[@]}"; do
    case "$r" in
        tr|tr-fast|adam|torch-adam|torch-tr) ;;
        *) echo "compare_time_to_loss.sh: --only: unknown run '$r' (known: tr, tr-fast, adam, torch-adam, torch-tr)" >&2; exit 2 ;;
    esac
done

have_torch=1
if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
    echo "PyTorch peer not found: install it with 'apt-get install python3-torch'; its runs are left out" >&2
    have_torch=0
fi
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
if [[ $have_torch == 1 && "$blas" != *openblas* ]]; then
    echo "warning: the system BLAS PyTorch uses is $blas, not OpenBLAS: its times are not representative" \
         "(install libopenblas0-pthread)" >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# the loss at or below which our runs stop: e^(last target)
last_target="${targets##*,}"
stop_loss="$("$PY" -c "import math; print(repr(math.exp($last_target)))")"

ours() { # name, train arguments...
    local name="$1"; shift
    echo "# running ./adanewton train $* (threads $threads)" >&2
    ./adanewton train "$@" --epochs "$max_epochs" --eval-every 1 --threads "$threads" \
        --target-loss "$stop_loss" --progress lines --out "$tmp/$name" >&2
}
torch_run() { # name, method
    echo "# running bench/torch_reference.py --train $2 (threads $threads)" >&2
    "$PY" bench/torch_reference.py --train "$2" --max-epochs "$max_epochs" --threads "$threads" \
        --target="$targets" >"$tmp/$1.json"
}

for r in "${runs[@]}"; do
    case "$r" in
        tr) ours tr --preset fmnist-mlp --method tr-rmsprop ;;
        tr-fast) ours tr-fast --preset fmnist-mlp-fast --method tr-rmsprop ;;
        adam) ours adam --preset fmnist-mlp --method adam ;;
        torch-adam) [[ $have_torch == 1 ]] && torch_run torch-adam adam ;;
        torch-tr) [[ $have_torch == 1 ]] && torch_run torch-tr tr ;;
    esac
done

"$PY" - "$tmp" "$targets" "$threads" "$only" <<'PYEOF'
"""Read our metrics.csv files and torch's JSON lines; print the table."""
import csv
import json
import math
import os
import sys

tmp, targets, threads, only = sys.argv[1], [float(t) for t in sys.argv[2].split(",")], sys.argv[3], sys.argv[4].split(",")
names = {"tr": "ours TR-RMSProp (fmnist-mlp)", "tr-fast": "ours TR-RMSProp (fmnist-mlp-fast)", "adam": "ours Adam (fmnist-mlp)",
         "torch-adam": "PyTorch Adam (lr 1e-3, batch 128)", "torch-tr": "PyTorch TR-RMSProp loop"}
rows = []
for r in only:
    metrics, js = os.path.join(tmp, r, "metrics.csv"), os.path.join(tmp, r + ".json")
    if os.path.exists(metrics):
        with open(metrics, newline="") as f:
            evals = [(float(e["epoch"]), float(e["seconds"]), float(e["train_loss"])) for e in csv.DictReader(f)]
        reached = {}
        for t in targets:
            hit = next(((e, s) for e, s, l in evals if l > 0 and math.log(l) <= t), None)
            reached[t] = hit
        epochs, seconds, loss = evals[-1]
    elif os.path.exists(js):
        with open(js) as f:
            row = json.loads([l for l in f if l.startswith("{")][-1])
        reached = {}
        for t in targets:
            v = row["reached"].get("%g" % t)
            reached[t] = (v["epoch"], v["seconds"]) if v else None
        epochs, seconds, loss = row["epochs"], row["seconds"], row["final_loss"]
    else:
        continue
    cells = [names[r]]
    for t in targets:
        hit = reached[t]
        cells += ["%g" % hit[0], "%.1f" % hit[1]] if hit else ["not reached", "-"]
    cells += ["%.3f" % (seconds / epochs if epochs else float("nan")), "%g" % epochs, "%.4f" % (math.log(loss) if loss > 0 else float("nan"))]
    rows.append(cells)
header = ["run"]
for t in targets:
    header += ["epoch to %g" % t, "s to %g" % t]
header += ["s/epoch", "epochs run", "final log loss"]
print("# Fashion-MNIST MLP 784-128-10 tanh, full training set (50,000); threads=%s; training seconds only "
      "(full training loss after every epoch, timer paused)" % threads)
widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
for r in [header] + rows:
    print("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]))
PYEOF
[[ $have_torch == 1 ]] || exit 3
