#!/usr/bin/python3
"""PyTorch peer benchmark for adanewton's `bench` command.

Measures, in float32 on the CPU (or, with --device cuda, on a CUDA GPU), the
same quantities that `./adanewton bench` reports, so that the two can be
joined on (model, batch) by bench/compare.sh (CPU) or bench/gpu/run.sh (GPU).

Models (names are shared with adanewton; the two MLPs run by default, the
others when named with --model):
  mlp-784-128-10-tanh       Linear(784,128) -> tanh -> Linear(128,10)
  mlp-784-512-256-10-relu   Linear(784,512) -> relu -> Linear(512,256)
                            -> relu -> Linear(256,10)
  convnet                   input 1x28x28: Conv2d(1,20,5) -> relu ->
                            MaxPool2d(2) -> Conv2d(20,50,5) -> relu ->
                            MaxPool2d(2) -> Flatten -> Linear(800,500) ->
                            relu -> Linear(500,10); 431,080 parameters
  autoencoder               784-1000-500-250-30-250-500-1000-784, sigmoid
                            after every hidden layer except the 30-unit code,
                            linear code and output; 2,837,314 parameters
  resnet20                  input 3x32x32: ResNet-20 of bench/torch_resnet.py
                            (the cifar-resnet20 preset's network: batch norm,
                            projection shortcuts), in training mode (batch
                            statistics, as adanewton's models train);
                            272,474 parameters

Objective: softmax cross-entropy, mean over the batch, no regularization
(MLPs and convnet); for the autoencoder the squared error summed over the 784
outputs per image and averaged over the batch, ((out - x)**2).sum(1).mean(),
with the input as its own target.
Data: x ~ U[0,1) of shape (B,784) (convnet: (B,1,28,28); resnet20:
(B,3,32,32)), labels uniform in 0..9, v ~ N(0,1) per parameter; everything
from a fixed seed.

Measured (median wall time in ms over `repeats` runs, time.perf_counter):
  forward_ms     loss only, under torch.no_grad().
  gradient_ms    forward + autograd.grad(loss, params).
  hvp_ms         Hessian-vector product from scratch by double backward:
                 forward, g = grad(loss, params, create_graph=True),
                 then grad(sum_i <g_i, v_i>, params).
  hvp_cached_ms  the gradient graph (create_graph=True) is built once outside
                 the timing; timed is only <g, v> and
                 grad(<g, v>, params, retain_graph=True), i.e. what one
                 conjugate-gradient iteration costs when it reuses the graph.
  gn_ms          Gauss-Newton product J^T H_loss J v at a cached point (logits
                 graph and softmax built once outside the timing). Timed:
                 Jv by the double-vjp trick (u = zeros_like(out,
                 requires_grad=True); g = grad(out, params, u,
                 create_graph=True); Jv = grad(g, u, v)), then
                 H_loss Jv = (p*Jv - p*sum(p*Jv, dim=1)) / B (cross-entropy)
                 or 2 Jv / B (autoencoder), then
                 J^T(H_loss Jv) = grad(out, params, H_loss Jv, retain_graph=True).
  gradient_gflops  achieved GFLOP/s of the gradient, counting the matrix
                 products only: 2*B*in*out FLOPs per pass of a Linear layer,
                 2*B*(out_h*out_w*c_out)*(c_in*kh*kw) per pass of a Conv2d
                 (its im2col GEMM), and, per layer, 3 passes (forward, input
                 gradient, weight gradient) except the first layer's input
                 gradient, which is not needed (as adanewton's GEMM floor
                 counts them). Activations, pooling and the loss are not counted.

Before timing, the HVP from scratch and the cached HVP are checked to agree to
1e-4 relative, and v^T G v >= 0 is checked for the Gauss-Newton product (a
warning goes to stderr otherwise).

Run (Debian's python3-torch, CPU):
  /usr/bin/python3 bench/torch_reference.py [--threads 2] [--model NAME ...]
      [--batch 128,512,2048] [--repeats R] [--warmup W] [--json]
      [--device cpu|cuda]

--device cuda (default cpu) runs the kernel benchmark on the first CUDA
device: the model and the data (x, labels, v; drawn on the CPU from the same
seed as for --device cpu, then moved) live on the GPU, and
torch.cuda.synchronize() is called before each timer start and before each
timer stop, so that every sample covers the finished GPU work. Everything
else is as on the CPU, in full float32: TF32 is switched off for matrix
products (torch's default) and for cuDNN convolutions (where torch allows it by
default), since adanewton computes every product in FP32.
Where CUDA is not available the script says so and exits with status 3.
--tr-epoch runs on the CPU only. Each JSON row carries a `device` field: "cpu",
or the GPU's name (torch.cuda.get_device_name).

--threads sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS
before torch is imported (torch.set_num_threads alone does not bound
OpenBLAS's pool) and also calls torch.set_num_threads. OMP_WAIT_POLICY
defaults to PASSIVE (an explicit value in the environment wins): libgomp's
spinning threads otherwise compete with OpenBLAS's threads for the cores. --json prints one JSON
object per (model, batch) per line; otherwise an aligned table is printed.
Without --repeats, each measurement is repeated enough for about 1 s of
timing, and at least 5 times.

--tr-epoch mode (bench/compare_tr_epoch.sh): instead of the kernels, time whole
training epochs of the paper's stochastic trust-region method with the RMSProp
norm, written plainly in PyTorch the way the authors' code does it:
  /usr/bin/python3 bench/torch_reference.py --tr-epoch [--tr-epochs E]
      [--threads 2] [--json]
Data: Fashion-MNIST from Debian (/usr/share/datasets/fashion-mnist, read with
gzip + numpy, pixels / 255), the first 50,000 training samples. Model: MLP
784-128-10 tanh (nn.Linear init, torch.manual_seed(1)). Objective: mean
softmax cross-entropy + 1e-4 * sum over parameter tensors of ||T||_2 (not
squared). Per iteration (batch 512 from an epoch-wise random permutation; the
last batch of an epoch may be smaller):
  1. f and g = grad(f, params, create_graph=True), flattened;
  2. RMSProp norm: v = 0.8 v + 0.2 g^2 (v_0 = 0), a = sqrt(v) + 1e-10;
  3. preconditioned Steihaug-Toint CG in the A-norm, M = diag(a), at most 50
     iterations, the authors' "model decrease" stopping rule (stop when the
     last iteration's decrease 0.5 alpha r'y <= eta |m|, eta = min(sqrt(||g||),
     0.1)), boundary from the M-norm recurrences s'Ms, s'Mp, p'Mp (positive
     root), negative curvature -> boundary; each HVP is
     grad(g_flat @ p, params, retain_graph=True) on the iteration's graph;
  4. f(w + s) on the same batch (no_grad), rho = (f - f(w + s)) / pred; accept
     if rho >= 0.01; radius Delta_0 = 1e-4, max 10, x1.1 if rho >= 0.95,
     /1.75 if rho < 0.01.
Only the training loop is timed (data loading excluded). Printed: one JSON
object with --json ({"impl": "pytorch", "mode": "tr-epoch", "threads",
"epochs", "seconds", "seconds_per_epoch", "iterations", "hvps",
"final_batch_loss", ...}), otherwise a few lines; the mean batch objective per
epoch goes to stderr.
"""

import argparse
import gzip
import json
import math
import os
import statistics
import sys
import time

MODELS = {
    "mlp-784-128-10-tanh": ([784, 128, 10], "tanh"),
    "mlp-784-512-256-10-relu": ([784, 512, 256, 10], "relu"),
    "convnet": (None, "conv"),
    "autoencoder": ([784, 1000, 500, 250, 30, 250, 500, 1000, 784], "ae"),
    "resnet20": (None, "resnet"),
}
DEFAULT_MODELS = ["mlp-784-128-10-tanh", "mlp-784-512-256-10-relu"]
# Parameter counts asserted when the big models are built (as adanewton's).
PARAM_COUNTS = {"convnet": 431080, "autoencoder": 2837314, "resnet20": 272474}
DEFAULT_BATCHES = [128, 512, 2048]
TARGET_SECONDS = 1.0  # auto repeats: about this much timing per measurement
MIN_REPEATS = 5
SEED = 1234
METRICS = ["forward_ms", "gradient_ms", "hvp_ms", "hvp_cached_ms", "gn_ms"]

# --tr-epoch: the paper's Fashion-MNIST setting.
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
TR_MODEL = "mlp-784-128-10-tanh"
TR_SEED = 1
TR_SAMPLES = 50000
TR_BATCH = 512
TR_LAMBDA = 1e-4       # weight of sum_T ||T||_2 (not squared)
TR_BETA = 0.8          # RMSProp norm decay: v = beta v + (1 - beta) g^2
TR_EPS = 1e-10         # a = sqrt(v) + eps
TR_MAX_CG = 50
TR_TOL = 0.1           # eta = min(sqrt(||g||), TR_TOL)
TR_DELTA0 = 1e-4
TR_DELTA_MAX = 10.0
TR_ETA1 = 0.01         # accept if rho >= eta1, shrink if rho < eta1
TR_ETA2 = 0.95         # grow if rho >= eta2
TR_GAMMA_INC = 1.1
TR_GAMMA_DEC = 1.75
# --train adam: torch.optim.Adam on the same network, objective and data.
ADAM_LR = 1e-3
ADAM_BATCH = 128


def split_list(values):
    """Flatten repeatable, comma-separated option values."""
    out = []
    for v in values or []:
        out.extend(s.strip() for s in v.split(",") if s.strip())
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="PyTorch peer benchmark (forward, gradient, HVP, "
        "Gauss-Newton products) for adanewton's bench.")
    p.add_argument("--threads", type=int, default=2,
                   help="intra-op / BLAS threads (default 2)")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="model name, repeatable or comma list (default: "
                   + ", ".join(DEFAULT_MODELS) + "; known: "
                   + ", ".join(MODELS) + ")")
    p.add_argument("--batch", action="append", metavar="B",
                   help="batch size, repeatable or comma list "
                   "(default 128,512,2048)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed runs per measurement (default: auto, ~1 s, "
                   "at least %d)" % MIN_REPEATS)
    p.add_argument("--warmup", type=int, default=3,
                   help="untimed runs before each measurement (default 3)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per (model, batch) per line")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="where the kernel benchmark runs (default cpu); "
                   "cuda: the first CUDA device, exit status 3 if none")
    p.add_argument("--tr-epoch", action="store_true",
                   help="time training epochs of the stochastic trust-region "
                   "method with the RMSProp norm on Fashion-MNIST instead of "
                   "the kernels")
    p.add_argument("--tr-epochs", type=int, default=1, metavar="E",
                   help="epochs for --tr-epoch (default 1)")
    p.add_argument("--train", choices=("adam", "tr"), default=None,
                   help="train on Fashion-MNIST until the full-training-set "
                   "log loss reaches every --target (timer paused for the "
                   "evaluation after each epoch): adam (lr %g, batch %d) or "
                   "tr (the TR-RMSProp loop of --tr-epoch)"
                   % (ADAM_LR, ADAM_BATCH))
    p.add_argument("--max-epochs", type=int, default=150, metavar="E",
                   help="epochs at most for --train (default 150)")
    p.add_argument("--target", action="append", metavar="LOG",
                   help="log-loss targets for --train, repeatable or comma "
                   "list (default -2.5,-3.2)")
    p.add_argument("--data-dir", default=FMNIST_DIR, metavar="DIR",
                   help="Fashion-MNIST idx .gz files for --tr-epoch "
                   "(default %s)" % FMNIST_DIR)
    a = p.parse_args(argv)
    if a.tr_epochs < 1:
        p.error("--tr-epochs must be >= 1")
    if a.max_epochs < 1:
        p.error("--max-epochs must be >= 1")
    try:
        a.targets = [float(t) for t in split_list(a.target)] or [-2.5, -3.2]
    except ValueError:
        p.error("--target takes numbers (natural-log losses, e.g. -3.2)")
    if a.threads < 1:
        p.error("--threads must be >= 1")
    a.models = split_list(a.model) or list(DEFAULT_MODELS)
    for m in a.models:
        if m not in MODELS:
            p.error("unknown model %r (known: %s)" % (m, ", ".join(MODELS)))
    try:
        a.batches = [int(b) for b in split_list(a.batch)] or DEFAULT_BATCHES
    except ValueError:
        p.error("--batch takes integers")
    if any(b < 1 for b in a.batches):
        p.error("--batch must be >= 1")
    if a.repeats is not None and a.repeats < 1:
        p.error("--repeats must be >= 1")
    if a.warmup < 0:
        p.error("--warmup must be >= 0")
    if a.tr_epoch and a.device != "cpu":
        p.error("--tr-epoch runs on the CPU only (no --device cuda)")
    return a


ARGS = parse_args()
# Must happen before torch (and its OpenBLAS / OpenMP runtime) is loaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)
# Debian's torch runs elementwise ops on a libgomp pool and GEMMs on
# OpenBLAS's own pthread pool. With libgomp's default spin-waiting, its idle
# threads steal the cores from OpenBLAS and slow torch down by up to 2.5x on
# a 2-core machine; passive waiting is the fair setting for the peer.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit("PyTorch not importable (%s): install it with "
             "'apt-get install python3-torch'" % e)

torch.set_num_threads(ARGS.threads)
grad = torch.autograd.grad

if ARGS.device == "cuda":
    if not torch.cuda.is_available():
        print("torch_reference.py: --device cuda, but CUDA is not available "
              "to this PyTorch (torch %s, built with CUDA %s): no GPU, no "
              "driver, or a CPU-only build" % (torch.__version__,
                                               torch.version.cuda or "none"),
              file=sys.stderr)
        sys.exit(3)
    DEVICE = torch.device("cuda", 0)
    DEVICE_NAME = torch.cuda.get_device_name(DEVICE)
    # full float32 on both sides: matmuls default to no TF32, but cuDNN convolutions allow it by
    # default; adanewton computes every product in FP32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    def sync():
        torch.cuda.synchronize(DEVICE)
else:
    DEVICE = torch.device("cpu")
    DEVICE_NAME = "cpu"

    def sync():
        pass


def build_model(name):
    sizes, act = MODELS[name]
    nn = torch.nn
    layers = []
    if act == "resnet":
        import torch_resnet  # beside this script; needs torch, imported above
        return torch_resnet.resnet20().float().train()
    if act == "conv":
        layers = [nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(800, 500), nn.ReLU(),
                  nn.Linear(500, 10)]
    elif act == "ae":
        code = sizes.index(30)  # the linear code layer's output
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 1 != code and i < len(sizes) - 2:
                layers.append(nn.Sigmoid())
    else:
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
    model = nn.Sequential(*layers).float()
    if name in PARAM_COUNTS:
        count = sum(p.numel() for p in model.parameters())
        assert count == PARAM_COUNTS[name], (name, count, PARAM_COUNTS[name])
    return model


def input_shape(name):
    """Per-sample input shape."""
    act = MODELS[name][1]
    return (1, 28, 28) if act == "conv" else (3, 32, 32) if act == "resnet" else (784,)


def gradient_flops(name, batch):
    """Matrix-product FLOPs of one gradient: per Linear / Conv2d layer,
    2*B*(MACs per sample) per pass; 3 passes per layer minus layer 1's dX."""
    model = build_model(name)
    per_pass = []

    def hook(mod, inputs, out):
        if isinstance(mod, torch.nn.Linear):
            macs = mod.in_features * mod.out_features
        else:  # Conv2d: the im2col GEMM, (c_out*oh*ow) x (c_in*kh*kw)
            kh, kw = mod.kernel_size
            macs = out[0].numel() * (mod.in_channels // mod.groups) * kh * kw
        per_pass.append(2 * batch * macs)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    with torch.no_grad():
        model(torch.zeros((1,) + input_shape(name)))
    for h in handles:
        h.remove()
    return 3 * sum(per_pass) - per_pass[0]


def dot(xs, ys):
    return sum((x * y).sum() for x, y in zip(xs, ys))


def timed(fn, repeats, warmup):
    """Median wall time of fn() in ms; repeats=None picks ~TARGET_SECONDS."""
    for _ in range(warmup):
        fn()
    if repeats is None:
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        once = time.perf_counter() - t0
        repeats = max(MIN_REPEATS, math.ceil(TARGET_SECONDS / max(once, 1e-6)))
    samples = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(samples), repeats


def bench_one(name, batch, repeats, warmup):
    torch.manual_seed(SEED)
    model = build_model(name)
    params = [p for p in model.parameters()]
    x = torch.rand((batch,) + input_shape(name), dtype=torch.float32)
    y = torch.randint(0, 10, (batch,))
    v = [torch.randn_like(p) for p in params]
    if DEVICE.type != "cpu":  # same values as on the CPU, then moved
        model.to(DEVICE)
        params = [p for p in model.parameters()]
        x, y = x.to(DEVICE), y.to(DEVICE)
        v = [t.to(DEVICE) for t in v]
        sync()
    autoencoder = MODELS[name][1] == "ae"
    if autoencoder:
        def loss_of(out):  # squared error summed per image, batch mean
            return ((out - x) ** 2).sum(dim=1).mean()
    else:
        def loss_of(out):  # softmax cross-entropy, mean reduction
            return torch.nn.functional.cross_entropy(out, y)

    def forward():
        with torch.no_grad():
            return loss_of(model(x))

    def gradient():
        return grad(loss_of(model(x)), params)

    def hvp():
        g = grad(loss_of(model(x)), params, create_graph=True)
        return grad(dot(g, v), params)

    # Cached gradient graph, reused by every HVP as in a CG loop.
    g_cached = grad(loss_of(model(x)), params, create_graph=True)

    def hvp_cached():
        return grad(dot(g_cached, v), params, retain_graph=True)

    # Cached output graph (and softmax) for the Gauss-Newton product.
    out = model(x)
    p_soft = None if autoencoder else torch.softmax(out.detach(), dim=1)

    def h_loss(jv):
        if autoencoder:  # Hessian of ((out - x)**2).sum(1).mean(): 2 I / B
            return jv * (2.0 / batch)
        pjv = p_soft * jv
        return (pjv - p_soft * pjv.sum(dim=1, keepdim=True)) / batch

    def gn():
        u = torch.zeros_like(out, requires_grad=True)
        gu = grad(out, params, u, create_graph=True)
        jv = grad(gu, u, v)[0]
        return grad(out, params, h_loss(jv), retain_graph=True)

    # Correctness check (untimed): both HVP variants must agree.
    h1, h2 = hvp(), hvp_cached()
    diff = math.sqrt(sum(float(((a - b) ** 2).sum()) for a, b in zip(h1, h2)))
    norm = math.sqrt(sum(float((a ** 2).sum()) for a in h1))
    if not diff <= 1e-4 * max(norm, 1e-30):
        print("warning: %s B=%d: hvp from scratch and cached differ, "
              "relative %.3g" % (name, batch, diff / max(norm, 1e-30)),
              file=sys.stderr)

    # Sanity check (untimed): the Gauss-Newton matrix is positive semidefinite.
    vgv = float(dot(v, gn()))
    if vgv < -1e-5 * float(dot(v, v)):
        print("warning: %s B=%d: v^T G v = %.3g < 0" % (name, batch, vgv),
              file=sys.stderr)

    row = {"impl": "pytorch", "torch": torch.__version__, "model": name,
           "batch": batch, "threads": ARGS.threads, "device": DEVICE_NAME}
    used = []
    for key, fn in zip(METRICS, (forward, gradient, hvp, hvp_cached, gn)):
        ms, n = timed(fn, repeats, warmup)
        row[key] = round(ms, 4)
        used.append(n)
    row["gradient_gflops"] = round(
        gradient_flops(name, batch) / (row["gradient_ms"] * 1e6), 3)
    row["repeats"] = min(used)
    return row


def print_table(rows):
    cols = ["model", "batch", "threads"] + METRICS + ["gradient_gflops"]
    cells = [[str(r[c]) if not isinstance(r[c], float) else "%.3f" % r[c]
              for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells))
              for i, c in enumerate(cols)]
    print("# pytorch %s, threads=%d, device=%s" % (torch.__version__,
                                                  ARGS.threads, DEVICE_NAME))
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(cols, widths))))
    for row in cells:
        print("  ".join(s.ljust(w) if i == 0 else s.rjust(w)
                        for i, (s, w) in enumerate(zip(row, widths))))


def load_fmnist(data_dir, n):
    """First n Fashion-MNIST training samples: (float32 (n, 784) in [0, 1], int64 labels)."""
    import numpy as np

    def read(name, offset):
        path = os.path.join(data_dir, name)
        try:
            with gzip.open(path, "rb") as f:
                return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
        except OSError as e:
            sys.exit("cannot read %s (%s): install Debian's Fashion-MNIST "
                     "or pass --data-dir" % (path, e))

    images = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    labels = read("train-labels-idx1-ubyte.gz", 8)
    if images.shape[0] != labels.shape[0] or images.shape[0] < n:
        sys.exit("%s: unexpected Fashion-MNIST sizes %d images, %d labels"
                 % (data_dir, images.shape[0], labels.shape[0]))
    x = torch.from_numpy(images[:n].astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[:n].astype(np.int64))
    return x, y


def boundary_root(ss, sp, pp, delta2):
    """Positive tau with ||s + tau p||_M^2 = delta2 from s'Ms, s'Mp, p'Mp."""
    disc = math.sqrt(max(0.0, sp * sp + pp * (delta2 - ss)))
    if sp >= 0:
        return max(0.0, delta2 - ss) / (sp + disc)
    return (-sp + disc) / pp


def steihaug(g, gd, a, delta, params):
    """Preconditioned Steihaug-Toint CG, M = diag(a), on the graph of g.

    g: the flat gradient with its graph (for the HVPs), gd: g detached.
    Returns (s, pred = m(0) - m(s), HVPs used)."""
    s = torch.zeros_like(gd)
    gnorm = float(gd.norm())
    if gnorm == 0 or not math.isfinite(gnorm):
        return s, 0.0, 0
    eta = min(math.sqrt(gnorm), TR_TOL)
    r = gd.clone()
    y = r / a
    ry = float(r @ y)
    p = -y
    ss, sp, pp, delta2, m = 0.0, 0.0, ry, delta * delta, 0.0
    for k in range(TR_MAX_CG):
        hv = grad(g @ p, params, retain_graph=True)
        bp = torch.cat([h.reshape(-1) for h in hv])
        kappa = float(p @ bp)
        if not math.isfinite(kappa):
            return s, float("nan"), k + 1
        alpha = ry / kappa if kappa != 0 else math.inf
        if kappa <= 0 or ss + 2 * alpha * sp + alpha * alpha * pp >= delta2:
            tau = boundary_root(ss, sp, pp, delta2)
            s.add_(p, alpha=tau)
            m += -tau * ry + 0.5 * tau * tau * kappa  # r'p = -r'y
            return s, -m, k + 1
        s.add_(p, alpha=alpha)
        decrease = 0.5 * alpha * ry
        m -= decrease
        ss += 2 * alpha * sp + alpha * alpha * pp
        r.add_(bp, alpha=alpha)
        y = r / a
        ry_next = float(r @ y)
        if decrease <= eta * abs(m):
            return s, -m, k + 1
        beta = ry_next / ry
        p = beta * p - y
        sp = beta * (sp + alpha * pp)
        pp = ry_next + beta * beta * pp
        ry = ry_next
    return s, -m, TR_MAX_CG


class TrState:
    """The stochastic TR-RMSProp method of the paper, one iteration per batch."""

    def __init__(self, model):
        self.model = model
        self.params = [p for p in model.parameters()]
        dim = sum(p.numel() for p in self.params)
        self.v = torch.zeros(dim)
        self.delta = TR_DELTA0
        self.iterations = self.hvps = self.accepted = 0

    def objective(self, xb, yb):
        ce = torch.nn.functional.cross_entropy  # mean reduction
        return ce(self.model(xb), yb) + TR_LAMBDA * sum(p.norm() for p in self.params)

    def step(self, xb, yb):
        """One iteration on the batch; returns (f at the iterate, f after the step)."""
        params = self.params
        # 1. objective and gradient, keeping the graph for the HVPs
        f_t = self.objective(xb, yb)
        gs = grad(f_t, params, create_graph=True)
        g = torch.cat([t.reshape(-1) for t in gs])
        gd = g.detach()
        f = float(f_t)
        # 2. RMSProp norm
        self.v.mul_(TR_BETA).addcmul_(gd, gd, value=1 - TR_BETA)
        a = self.v.sqrt().add_(TR_EPS)
        # 3. the step
        s, pred, used = steihaug(g, gd, a, self.delta, params)
        self.hvps += used
        del f_t, gs, g
        # 4. trial point on the same batch; accept or restore
        with torch.no_grad():
            saved = [p.detach().clone() for p in params]
            offset = 0
            for p in params:
                p.add_(s[offset:offset + p.numel()].view_as(p))
                offset += p.numel()
            f_trial = float(self.objective(xb, yb))
            rho = ((f - f_trial) / pred
                   if pred > 0 and math.isfinite(f_trial) else -math.inf)
            if rho >= TR_ETA1:
                self.accepted += 1
                after = f_trial
            else:
                for p, w in zip(params, saved):
                    p.copy_(w)
                after = f
        if rho >= TR_ETA2:
            self.delta = min(TR_GAMMA_INC * self.delta, TR_DELTA_MAX)
        elif rho < TR_ETA1:
            self.delta /= TR_GAMMA_DEC
        self.iterations += 1
        return f, after


def tr_epoch(epochs, data_dir):
    """Train the TR-RMSProp method for `epochs` epochs; returns the result row."""
    x_all, y_all = load_fmnist(data_dir, TR_SAMPLES)
    torch.manual_seed(TR_SEED)
    tr = TrState(build_model(TR_MODEL))
    n = x_all.shape[0]
    first_loss = final_loss = None
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = torch.randperm(n)
        epoch_sum, epoch_count = 0.0, 0
        for start in range(0, n, TR_BATCH):
            idx = perm[start:start + TR_BATCH]
            f, final_loss = tr.step(x_all[idx], y_all[idx])
            if first_loss is None:
                first_loss = f
            epoch_sum += f * len(idx)
            epoch_count += len(idx)
        print("# tr-epoch: epoch %d: mean batch objective %.6f, radius %.3g"
              % (epoch + 1, epoch_sum / epoch_count, tr.delta), file=sys.stderr,
              flush=True)
    seconds = time.perf_counter() - t0
    if not final_loss < first_loss:
        print("warning: tr-epoch: the batch objective did not go down "
              "(first %.6f, final %.6f)" % (first_loss, final_loss),
              file=sys.stderr)
    return {"impl": "pytorch", "mode": "tr-epoch", "threads": ARGS.threads,
            "epochs": epochs, "seconds": round(seconds, 4),
            "seconds_per_epoch": round(seconds / epochs, 4),
            "iterations": tr.iterations, "hvps": tr.hvps,
            "final_batch_loss": round(final_loss, 8),
            "first_batch_loss": round(first_loss, 8),
            "accepted": tr.accepted, "torch": torch.__version__}


def full_objective(model, x_all, y_all):
    """The training objective on the whole training set: mean cross-entropy
    plus the preset's TR_LAMBDA * sum_T ||T||_2 (as adanewton's train loss)."""
    ce = torch.nn.functional.cross_entropy
    total = 0.0
    with torch.no_grad():
        for start in range(0, x_all.shape[0], 10000):
            total += float(ce(model(x_all[start:start + 10000]),
                              y_all[start:start + 10000], reduction="sum"))
        reg = float(sum(p.norm() for p in model.parameters()))
    return total / x_all.shape[0] + TR_LAMBDA * reg


def train_to_loss(method, max_epochs, targets, data_dir):
    """Train `method` (adam: torch.optim.Adam, lr ADAM_LR, batch ADAM_BATCH, on
    the same objective; tr: the TR-RMSProp loop above, batch TR_BATCH) until the
    full-training-set log loss reaches every target (or max_epochs); the loss is
    evaluated after every epoch with the timer paused. Prints a JSON line per
    epoch to stderr; returns the summary row."""
    x_all, y_all = load_fmnist(data_dir, TR_SAMPLES)
    torch.manual_seed(TR_SEED)
    model = build_model(TR_MODEL)
    n = x_all.shape[0]
    if method == "adam":
        params = list(model.parameters())
        opt = torch.optim.Adam(params, lr=ADAM_LR)
        ce = torch.nn.functional.cross_entropy
        batch = ADAM_BATCH

        def step(xb, yb):
            opt.zero_grad(set_to_none=True)
            loss = ce(model(xb), yb) + TR_LAMBDA * sum(p.norm() for p in params)
            loss.backward()
            opt.step()
    else:
        tr = TrState(model)
        batch = TR_BATCH

        def step(xb, yb):
            tr.step(xb, yb)
    reached = {t: None for t in targets}
    seconds, loss, epoch = 0.0, float("nan"), 0
    for epoch in range(1, max_epochs + 1):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            idx = perm[start:start + batch]
            step(x_all[idx], y_all[idx])
        seconds += time.perf_counter() - t0
        loss = full_objective(model, x_all, y_all)  # timer paused
        log = math.log(loss) if loss > 0 else -math.inf
        print(json.dumps({"epoch": epoch, "seconds": round(seconds, 3),
                          "train_loss": loss, "log": round(log, 4)}),
              file=sys.stderr, flush=True)
        for t in targets:
            if reached[t] is None and log <= t:
                reached[t] = {"epoch": epoch, "seconds": round(seconds, 3)}
        if not math.isfinite(loss) or all(v is not None for v in reached.values()):
            break
    return {"impl": "pytorch", "mode": "train", "method": method,
            "batch": batch, "threads": ARGS.threads, "epochs": epoch,
            "seconds": round(seconds, 3), "final_loss": loss,
            "reached": {"%g" % t: v for t, v in reached.items()},
            "torch": torch.__version__}


def main():
    if ARGS.train:
        row = train_to_loss(ARGS.train, ARGS.max_epochs, ARGS.targets,
                            ARGS.data_dir)
        print(json.dumps(row), flush=True)
        return
    if ARGS.tr_epoch:
        row = tr_epoch(ARGS.tr_epochs, ARGS.data_dir)
        if ARGS.json:
            print(json.dumps(row), flush=True)
        else:
            print("# pytorch %s, threads=%d, tr-epoch" % (torch.__version__,
                                                          ARGS.threads))
            for k in ("epochs", "seconds", "seconds_per_epoch", "iterations",
                      "hvps", "accepted", "first_batch_loss",
                      "final_batch_loss"):
                print("%-18s %s" % (k, row[k]))
        return
    rows = []
    for name in ARGS.models:
        for batch in ARGS.batches:
            row = bench_one(name, batch, ARGS.repeats, ARGS.warmup)
            if ARGS.json:
                print(json.dumps(row), flush=True)
            rows.append(row)
    if not ARGS.json:
        print_table(rows)


if __name__ == "__main__":
    main()
