#!/usr/bin/env bash
# Compare adanewton's kernels with the PyTorch peer on the same models and
# batch sizes.
#
# Runs `./adanewton bench --json` and bench/torch_reference.py --json (Debian's
# python3-torch, CPU) with the same thread count, joins their JSON lines on
# (model, batch) and prints, per row: our ms, torch ms and ours/torch for the
# gradient, the HVP from scratch, the cached HVP (one CG iteration) and the
# Gauss-Newton product; then our hvp_cached/gradient ratio and, when our bench
# reports GEMM floors, our gradient/floor and hvp_cached/floor ratios.
# Ratios below 1 mean adanewton is faster.
#
# Usage (from anywhere; it works in the repository root):
#   bench/compare.sh [--threads N] [--model NAME]... [--batch B]...
# --threads defaults to 2; --model and --batch (repeatable, or comma lists)
# are passed to both benchmarks. Exit status 3: PyTorch is not installed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=/usr/bin/python3
threads=2
ours_json=""   # undocumented: a file of our JSON lines instead of running ./adanewton
pass=()

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --threads) threads="${2:?--threads needs a value}"; shift 2 ;;
        --threads=*) threads="${1#*=}"; shift ;;
        --model|--batch) pass+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        --model=*|--batch=*) pass+=("${1%%=*}" "${1#*=}"); shift ;;
        --ours-json) ours_json="${2:?--ours-json needs a file}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
if ! [[ "$threads" =~ ^[1-9][0-9]*$ ]]; then
    echo "compare.sh: --threads must be a positive integer" >&2
    exit 2
fi

if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
    echo "PyTorch peer not found: install it with 'apt-get install python3-torch'" >&2
    exit 3
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ -n "$ours_json" ]]; then
    cp -- "$ours_json" "$tmp/ours.txt"
else
    if [[ ! -x ./adanewton ]]; then
        echo "compare.sh: ./adanewton not found (build the project first)" >&2
        exit 2
    fi
    echo "# running ./adanewton bench --threads $threads ${pass[*]-}" >&2
    ./adanewton bench --json --threads "$threads" "${pass[@]}" >"$tmp/ours.txt"
fi

echo "# running bench/torch_reference.py --threads $threads ${pass[*]-}" >&2
"$PY" bench/torch_reference.py --json --threads "$threads" "${pass[@]}" >"$tmp/torch.txt"

"$PY" - "$tmp/ours.txt" "$tmp/torch.txt" "$threads" <<'EOF'
"""Join our and torch's JSON lines on (model, batch) and print a table."""
import json
import sys

ours_file, torch_file, threads = sys.argv[1], sys.argv[2], sys.argv[3]


def load(path):
    """Rows keyed by (model, batch); lines not starting with '{' are ignored."""
    rows, order = {}, []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
                key = (str(r["model"]), int(r["batch"]))
            except (ValueError, KeyError, TypeError):
                print("compare.sh: skipping bad line: " + line[:120],
                      file=sys.stderr)
                continue
            if key not in rows:
                order.append(key)
            rows[key] = r
    return rows, order


def num(r, k):
    v = (r or {}).get(k)
    return float(v) if isinstance(v, (int, float)) and v > 0 else None


def ms(v):
    return "-" if v is None else "%.3f" % v


def ratio(a, b):
    return "-" if a is None or b is None else "%.2f" % (a / b)


ours, ours_order = load(ours_file)
torch, torch_order = load(torch_file)
keys = ours_order + [k for k in torch_order if k not in ours]
models = list(dict.fromkeys(m for m, _ in keys))
keys.sort(key=lambda k: (models.index(k[0]), k[1]))
if not keys:
    sys.exit("compare.sh: no benchmark rows to compare")

version = next((r.get("torch") for r in torch.values() if r.get("torch")), "?")
print("# adanewton vs pytorch %s, threads=%s; times in ms (median); "
      "ratio = ours/torch, < 1 means adanewton is faster" % (version, threads))

groups = [("gradient", "gradient_ms"), ("hvp", "hvp_ms"),
          ("hvp_cached", "hvp_cached_ms"), ("gn", "gn_ms")]
head1 = ["", ""]
head2 = ["model", "batch"]
for g, _ in groups:
    head1 += [g, "", ""]
    head2 += ["ours", "torch", "ratio"]
head1 += ["ours", "", ""]
head2 += ["hvpc/grad", "grad/floor", "hvpc/floor"]

table = []
for model, batch in keys:
    o, t = ours.get((model, batch)), torch.get((model, batch))
    row = [model, str(batch)]
    for _, k in groups:
        a, b = num(o, k), num(t, k)
        row += [ms(a), ms(b), ratio(a, b)]
    grad, hvpc = num(o, "gradient_ms"), num(o, "hvp_cached_ms")
    row += [ratio(hvpc, grad),
            ratio(grad, num(o, "gemm_floor_gradient_ms")),
            ratio(hvpc, num(o, "gemm_floor_hvp_cached_ms"))]
    table.append(row)

widths = [max(len(r[i]) for r in [head2] + table) for i in range(len(head2))]
# Group titles sit over their three columns.
for i in range(2, len(head1), 3):
    span = sum(widths[i:i + 3]) + 4
    title = head1[i]
    head1[i:i + 3] = [title.center(span, "-")[:span] if title else ""] + ["", ""]


def fmt(cells, titles=False):
    out, i = [], 0
    while i < len(cells):
        if titles and i >= 2:
            out.append(cells[i])
            i += 3
            continue
        w = widths[i]
        out.append(cells[i].ljust(w) if i == 0 else cells[i].rjust(w))
        i += 1
    return "  ".join(out).rstrip()


print(fmt(head1, titles=True))
print(fmt(head2))
for r in table:
    print(fmt(r))

missing = [k for k in keys if k not in ours or k not in torch]
for model, batch in missing:
    side = "adanewton" if (model, batch) not in ours else "pytorch"
    print("# note: %s B=%d has no %s result" % (model, batch, side),
          file=sys.stderr)
EOF
