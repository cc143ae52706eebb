#!/usr/bin/env bash
# Runs on the GPU machine, with the bundle that bench/gpu/prepare.sh built (see
# bench/gpu/README.md): from the repository root (bash bench/gpu/run.sh) or from the bundle
# directory (bash run.sh).
#
# Steps (each prints a header; a failed step is reported and the next one still runs; the exit
# status is 1 if any step failed):
#   a. nvidia-smi, one line (GPU, driver, memory, compute capability)
#   b. the gpu-tagged JUnit tests, with -Dadanewton.requireGpu=true (no GPU = failure, not skip)
#   c. adanewton's kernel benchmark on CUDA (JSON lines)
#   d. the PyTorch peer on CUDA (JSON lines)
#   e. one table joined on (model, batch): ours, torch and ours/torch for the gradient, the HVP
#      from scratch, the cached HVP and the Gauss-Newton product; then our 50-iteration Steihaug
#      solves (ms and host synchronizations per iteration)
#   f. the curvature products at fp32, tf32 and bf16 (bench --curvature-precision, once per
#      precision) on PRECISION_MODEL at PRECISION_BATCHES: cached HVP and Gauss-Newton ms, the
#      speed-up over fp32, and the products' relative error against fp32 on the same vector
# Everything is also written under $OUT when that variable is set (run.log, nvidia-smi.txt,
# gpu-tests.txt, junit-reports/, ours.jsonl, torch.jsonl, compare.txt, precision.jsonl,
# precision.txt, summary.txt); otherwise
# under a temporary directory whose name is printed.
#
# Environment: MODELS, BATCHES (comma lists; default mlp-784-512-256-10-relu,convnet,autoencoder and
# 512,4096), PYTHON (default python3), JAVA (default: the bundled runtime, bundle/jre or
# bundle/jre.tar.xz unpacked, if it runs here, else java on PATH), TESTS_TIMEOUT and
# BENCH_TIMEOUT (seconds per step; default 180 and 150, so that the whole script stays under
# the device tool's 10 minutes a command); PRECISION_MODEL, PRECISION_BATCHES (default
# mlp-784-512-256-10-relu and 512,2048) and PRECISION_TIMEOUT (seconds per precision, default 30)
# for step f.
set -uo pipefail

MODELS=${MODELS:-mlp-784-512-256-10-relu,convnet,autoencoder}
BATCHES=${BATCHES:-512,4096}
PYTHON=${PYTHON:-python3}
TESTS_TIMEOUT=${TESTS_TIMEOUT:-180}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-150}
PRECISION_MODEL=${PRECISION_MODEL:-mlp-784-512-256-10-relu}
PRECISION_BATCHES=${PRECISION_BATCHES:-512,2048}
PRECISION_TIMEOUT=${PRECISION_TIMEOUT:-30}
CONSOLE_JAR=junit-platform-console-standalone-1.14.1.jar

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---- where things are ----
bundle=""
for d in "$here" "$here/bundle" "$PWD" "$PWD/bench/gpu/bundle"; do
    if [[ -f "$d/adanewton-all.jar" ]]; then bundle=$(cd "$d" && pwd); break; fi
done
if [[ -z "$bundle" ]]; then
    echo "run.sh: no bundle (adanewton-all.jar) next to this script, in bench/gpu/bundle or in $PWD;" \
        "build it with bench/gpu/prepare.sh and carry bench/gpu/bundle" >&2
    exit 2
fi
# Work in the repository root where the bundle sits inside one (tests may look for data/ there).
work=$bundle
if [[ -f "$bundle/../../../pom.xml" ]]; then work=$(cd "$bundle/../../.." && pwd); fi
cd "$work" || exit 2

if [[ -n "${OUT:-}" ]]; then
    logdir=$OUT
else
    logdir=$(mktemp -d "${TMPDIR:-/tmp}/adanewton-gpu.XXXXXX")
fi
mkdir -p "$logdir" || exit 2
exec > >(tee -a "$logdir/run.log") 2>&1

failed=()
summary=()
header() { printf '\n==================== %s ====================\n' "$*"; }
record() {  # record NAME RC
    if [[ "$2" -eq 0 ]]; then
        summary+=("ok      $1")
    else
        failed+=("$1")
        summary+=("FAILED  $1 (exit $2$([[ "$2" -eq 124 ]] && echo ', timed out'))")
        echo "run.sh: step '$1' failed (exit $2); going on"
    fi
}

header "setup"
echo "bundle:  $bundle"
echo "workdir: $work"
echo "output:  $logdir"
[[ -f "$bundle/MANIFEST.txt" ]] && sed -n '1,2p' "$bundle/MANIFEST.txt"

# Java: the bundled runtime if it runs here, else the one on PATH. The bundle carries it as
# jre.tar.xz, unpacked on first use into $TMPDIR/adanewton-jre-<checksum>/jre (not into the
# bundle, which must stay small enough to carry); a bundle/jre directory is used as it is.
if [[ -z "${JAVA:-}" ]]; then
    JAVA=java
    jre_java="$bundle/jre/bin/java"
    if [[ ! -f "$jre_java" && -f "$bundle/jre.tar.xz" ]]; then
        dest="${TMPDIR:-/tmp}/adanewton-jre-$(cksum <"$bundle/jre.tar.xz" | cut -d' ' -f1)"
        if [[ ! -f "$dest/jre/bin/java" ]]; then
            part="$dest.part.$$"
            rm -rf "$part" && mkdir -p "$part"
            if tar -C "$part" -xJf "$bundle/jre.tar.xz" 2>/dev/null \
                || { rm -rf "$part" && mkdir -p "$part" && "$PYTHON" -c '
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2])' "$bundle/jre.tar.xz" "$part"; }; then
                mkdir -p "$dest" && rm -rf "$dest/jre" && mv "$part/jre" "$dest/jre"
                echo "jre:     unpacked jre.tar.xz into $dest/jre"
            else
                echo "run.sh: could not unpack $bundle/jre.tar.xz (no xz, no python lzma?)"
            fi
            rm -rf "$part"
        fi
        jre_java="$dest/jre/bin/java"
    fi
    if [[ -f "$jre_java" ]]; then
        [[ -x "$jre_java" ]] || chmod +x "$(dirname "$jre_java")"/* 2>/dev/null || true
        if "$jre_java" -version >/dev/null 2>&1; then
            JAVA=$jre_java
        else
            echo "run.sh: the bundled JRE does not run here; trying java on PATH"
        fi
    fi
fi
if "$JAVA" -version >/dev/null 2>&1; then
    echo "java:    $JAVA ($("$JAVA" -version 2>&1 | head -1))"
else
    echo "java:    NOT FOUND ($JAVA): steps b and c will fail"
fi
JAVA_OPTS=(--enable-native-access=ALL-UNNAMED -Djava.awt.headless=true -Xmx4g)

# cuBLAS: the JNI library dlopens libcublas.so.13; where the loader does not know it, find it
# (CUDA toolkit, or the nvidia-* wheels next to PyTorch) and put its directory on
# LD_LIBRARY_PATH for the Java steps only (PyTorch keeps its own).
java_ld=${LD_LIBRARY_PATH:-}
if ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.13 '; then
    echo "cuBLAS:  libcublas.so.13 known to the loader"
else
    cublas=""
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
             /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/targets/x86_64-linux/lib \
             /usr/lib/x86_64-linux-gnu /usr/lib64; do
        if [[ -e "$d/libcublas.so.13" ]]; then cublas=$d; break; fi
    done
    if [[ -z "$cublas" ]]; then
        while IFS= read -r sp; do
            [[ -d "$sp/nvidia" ]] || continue
            f=$(find "$sp/nvidia" -maxdepth 4 -name 'libcublas.so.13*' -print -quit 2>/dev/null)
            if [[ -n "$f" ]]; then cublas=$(dirname "$f"); break; fi
        done < <("$PYTHON" -c 'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null)
    fi
    if [[ -n "$cublas" ]]; then
        java_ld="$cublas${java_ld:+:$java_ld}"
        echo "cuBLAS:  libcublas.so.13 in $cublas (added to LD_LIBRARY_PATH for Java)"
    else
        echo "cuBLAS:  libcublas.so.13 NOT FOUND (the CUDA backend will report it)"
    fi
fi
jrun() { LD_LIBRARY_PATH="$java_ld" timeout "$@"; }

# ---- a. the GPU ----
header "a. nvidia-smi"
smi_rc=0
if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "nvidia-smi not found" >"$logdir/nvidia-smi.txt"
    smi_rc=127
else
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader \
        >"$logdir/nvidia-smi.txt" 2>&1 \
        || nvidia-smi -L >"$logdir/nvidia-smi.txt" 2>&1 || smi_rc=$?
    cuda_line=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: *[0-9.]*' | head -1)
    if [[ -n "$cuda_line" ]]; then echo "$cuda_line" >>"$logdir/nvidia-smi.txt"; fi
fi
cat "$logdir/nvidia-smi.txt"
record "a. nvidia-smi" "$smi_rc"

# ---- b. gpu-tagged tests ----
header "b. gpu-tagged tests (-Dadanewton.requireGpu=true)"
cp_tests="$bundle/adanewton-all.jar:$bundle/test-classes"
for j in "$bundle"/test-lib/*.jar; do [[ -f "$j" ]] && cp_tests+=":$j"; done
jrun "$TESTS_TIMEOUT" "$JAVA" "${JAVA_OPTS[@]}" -Dadanewton.requireGpu=true \
    -jar "$bundle/$CONSOLE_JAR" execute \
    --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
    --class-path "$cp_tests" \
    --scan-class-path="$bundle/test-classes" \
    --include-tag gpu \
    --reports-dir "$logdir/junit-reports" \
    2>&1 | tee "$logdir/gpu-tests.txt"
record "b. gpu-tagged tests" "${PIPESTATUS[0]}"

# ---- c. our benchmark ----
header "c. adanewton bench --backend cuda --model $MODELS --batch $BATCHES"
jrun "$BENCH_TIMEOUT" "$JAVA" "${JAVA_OPTS[@]}" -jar "$bundle/adanewton-all.jar" \
    bench --backend cuda --json --model "$MODELS" --batch "$BATCHES" \
    | tee "$logdir/ours.jsonl"
record "c. adanewton bench (cuda)" "${PIPESTATUS[0]}"

# ---- d. the PyTorch peer ----
header "d. torch_reference.py --device cuda --model $MODELS --batch $BATCHES"
peer="$bundle/torch_reference.py"
[[ -f "$peer" ]] || peer="$work/bench/torch_reference.py"
timeout "$BENCH_TIMEOUT" "$PYTHON" "$peer" --device cuda --json --model "$MODELS" --batch "$BATCHES" \
    | tee "$logdir/torch.jsonl"
record "d. torch_reference.py (cuda)" "${PIPESTATUS[0]}"

# ---- e. the joined table ----
header "e. ours vs torch on CUDA (ratio = ours/torch, < 1: adanewton faster)"
"$PYTHON" - "$logdir/ours.jsonl" "$logdir/torch.jsonl" "$logdir/nvidia-smi.txt" <<'EOF' \
    | tee "$logdir/compare.txt"
import json
import sys

ours_file, torch_file, smi_file = sys.argv[1:4]
METRICS = [("gradient_ms", "grad"), ("hvp_ms", "hvp"),
           ("hvp_cached_ms", "hvp_cached"), ("gn_ms", "gn")]


def load(path):
    rows, order = {}, []
    try:
        f = open(path, errors="replace")
    except OSError:
        return rows, order
    with f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
                key = (str(r["model"]), int(r["batch"]))
            except (ValueError, KeyError, TypeError):
                continue
            if key not in rows:
                order.append(key)
            rows[key] = r
    return rows, order


def num(r, k):
    v = (r or {}).get(k)
    return float(v) if isinstance(v, (int, float)) and v > 0 else None


ours, ours_order = load(ours_file)
torch, torch_order = load(torch_file)
keys = ours_order + [k for k in torch_order if k not in ours]
try:
    gpu = open(smi_file).readline().strip()
except OSError:
    gpu = "?"
tver = next((r.get("torch") for r in torch.values() if r.get("torch")), "?")
tdev = next((r.get("device") for r in torch.values() if r.get("device")), "?")
print("# GPU: %s; pytorch %s on %s; times in ms (median)" % (gpu, tver, tdev))
header = ["model", "batch"]
for _, short in METRICS:
    header += [short + " ours", "torch", "ratio"]
cells = []
for k in keys:
    o, t = ours.get(k), torch.get(k)
    row = [k[0], str(k[1])]
    for m, _ in METRICS:
        a, b = num(o, m), num(t, m)
        row += ["-" if a is None else "%.3f" % a,
                "-" if b is None else "%.3f" % b,
                "-" if a is None or b is None else "%.2f" % (a / b)]
    cells.append(row)
widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]


def line(r):
    return "  ".join(s.ljust(w) if i == 0 else s.rjust(w)
                     for i, (s, w) in enumerate(zip(r, widths)))


print(line(header))
for r in cells:
    print(line(r))
print()
print("# adanewton: full Steihaug solve (Gauss-Newton, 50 iterations) on the device")
for k in ours_order:
    o = ours[k]
    if "solve50_iterations" in o:
        print("%s B=%d: %s iterations, %.3f ms/iteration (%.2fx the cached GN product), %.2f host synchronizations/iteration"
              % (k[0], k[1], o["solve50_iterations"], float(o["solve50_ms_per_iteration"]),
                 float(o["solve50_ms_per_iteration"]) / max(1e-12, float(o.get("gn_ms", 0) or 1e-12)),
                 float(o["solve50_syncs_per_iteration"])))
missing = [k for k in keys if k not in ours or k not in torch]
for k in missing:
    print("# %s B=%d: only in %s" % (k[0], k[1], "ours" if k in ours else "torch"))
if not ours or not torch:
    print("run.sh: no rows from %s" % " and ".join(
        n for n, rows in (("ours", ours), ("torch", torch)) if not rows), file=sys.stderr)
    sys.exit(1)
sys.exit(1 if missing else 0)
EOF
record "e. joined table" "${PIPESTATUS[0]}"

# ---- f. curvature precisions ----
header "f. curvature products at fp32, tf32, bf16 ($PRECISION_MODEL, batch $PRECISION_BATCHES)"
: >"$logdir/precision.jsonl"
precision_rc=0
for p in fp32 tf32 bf16; do
    jrun "$PRECISION_TIMEOUT" "$JAVA" "${JAVA_OPTS[@]}" -jar "$bundle/adanewton-all.jar" \
        bench --backend cuda --json --model "$PRECISION_MODEL" --batch "$PRECISION_BATCHES" --curvature-precision "$p" \
        | tee -a "$logdir/precision.jsonl"
    rc=${PIPESTATUS[0]}
    if [[ "$rc" -ne 0 ]]; then echo "run.sh: bench --curvature-precision $p failed (exit $rc)"; precision_rc=$rc; fi
done
"$PYTHON" - "$logdir/precision.jsonl" <<'EOF' | tee "$logdir/precision.txt"
import json
import sys

rows = []
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if line.startswith("{"):
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
base = {(r["model"], r["batch"]): r for r in rows if r.get("curvature_precision") == "fp32"}
print("# cached HVP and Gauss-Newton product per curvature precision (ms, median); speed-up = fp32 ms / ms;")
print("# error = ||product - fp32 product|| / ||fp32 product|| on the same point and vector")
fmt = "%-24s %6s %5s %9s %7s %9s %7s %11s %11s %12s"
print(fmt % ("model", "batch", "prec", "hvpc ms", "speedup", "gn ms", "speedup", "hvp error", "gn error", "solve ms/it"))
for r in rows:
    b = base.get((r["model"], r["batch"]), {})

    def speedup(k):
        return "%.2f" % (b[k] / r[k]) if b.get(k) and r.get(k) else "-"

    def err(k):
        return "%.3g" % r[k] if k in r else ("0" if r.get("curvature_precision") == "fp32" else "-")

    print(fmt % (r["model"], r["batch"], r.get("curvature_precision", "?"), "%.3f" % r["hvp_cached_ms"], speedup("hvp_cached_ms"),
                 "%.3f" % r["gn_ms"], speedup("gn_ms"), err("hvp_rel_error_vs_fp32"), err("gn_rel_error_vs_fp32"),
                 "%.3f" % r["solve50_ms_per_iteration"] if "solve50_ms_per_iteration" in r else "-"))
sys.exit(0 if rows else 1)
EOF
table_rc=${PIPESTATUS[0]}
[[ "$table_rc" -ne 0 && "$precision_rc" -eq 0 ]] && precision_rc=$table_rc
record "f. curvature precisions" "$precision_rc"

header "summary"
printf '%s\n' "${summary[@]}" | tee "$logdir/summary.txt"
if (( ${#failed[@]} > 0 )); then
    echo "run.sh: ${#failed[@]} step(s) failed"
    exit 1
fi
echo "run.sh: all steps passed"
