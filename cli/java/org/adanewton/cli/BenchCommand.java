package org.adanewton.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.Batch;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.nn.Network;
import org.adanewton.select.Backends;
import org.adanewton.subproblem.KrylovOptions;
import org.adanewton.subproblem.KrylovSolvers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Kernel benchmark: median times of forward (loss), gradient, HVP from scratch, HVP at a cached
 * point and Gauss-Newton product, with achieved GFLOP/s and the GEMM-only floor measured in the
 * same run (CPU), or a full 50-iteration Steihaug solve with its host synchronizations (CUDA).
 * bench/compare.sh and bench/gpu/run.sh run it next to PyTorch. With --curvature-precision tf32 or
 * bf16 the model's curvature products (HVPs, Gauss-Newton products, the solves' products) run at
 * that precision, and each row adds the relative error of the cached HVP and Gauss-Newton product
 * against fp32 on the same vector; a backend that does not run the precision is refused with its
 * reason.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Time forward, gradient, HVP (scratch and cached) and Gauss-Newton products.")
final class BenchCommand implements Callable<Integer> {

    /** The benchmark networks (softmax cross-entropy, no regularization). */
    static final Map<String, Network> MODELS = new LinkedHashMap<>();

    static {
        MODELS.put("mlp-784-128-10-tanh", Network.builder(784).dense(128).tanh().dense(10).build());
        MODELS.put("mlp-784-512-256-10-relu", Network.builder(784).dense(512).relu().dense(256).relu().dense(10).build());
        // the paper's (F)MNIST ConvNet and autoencoder, without regularization like the MLPs (and the PyTorch peer)
        MODELS.put("convnet", org.adanewton.train.Preset.get("fmnist-conv").network().with(org.adanewton.nn.Loss.SOFTMAX_CROSS_ENTROPY,
                org.adanewton.nn.Regularization.NONE));
        MODELS.put("autoencoder", org.adanewton.train.Preset.get("fmnist-ae").network());
        // ResNet-20 (the cifar-resnet20 preset's network, without its L2 like the others), in training mode (batch statistics) as PyTorch's peer
        MODELS.put("resnet20", org.adanewton.train.Preset.get("cifar-resnet20").network().with(org.adanewton.nn.Loss.SOFTMAX_CROSS_ENTROPY,
                org.adanewton.nn.Regularization.NONE));
    }

    @Option(names = "--model", split = ",", description = "Models to run (default: all): ${COMPLETION-CANDIDATES}.",
            completionCandidates = ModelNames.class)
    List<String> models;

    @Option(names = "--batch", split = ",", description = "Batch sizes (default: 128,512,2048).")
    List<Integer> batches;

    @picocli.CommandLine.Mixin
    ExecutionOptions.Bench execution;

    @Option(names = "--seconds", defaultValue = "0.5", description = "Minimum time per measurement (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Option(names = "--tr-iteration", description = "Instead of the kernels: where a TR iteration's time goes in real training (train --profile "
            + "on --preset, --epochs epochs, no warm start or pivot, evaluation only at the end).")
    boolean trIteration;

    @Option(names = "--preset", defaultValue = "fmnist-mlp", description = "The preset --tr-iteration trains (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--epochs", defaultValue = "2", description = "Epochs --tr-iteration trains (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--train-option", paramLabel = "OPTION", description = "A further option of train for --tr-iteration, as train takes it "
            + "(repeatable), e.g. --train-option=--hessian-batch=128.")
    List<String> trainOptions;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--curvature-precision", paramLabel = "P", defaultValue = "fp32",
            description = "GEMM precision of the curvature products: fp32, tf32 or bf16 (default: ${DEFAULT-VALUE}; tf32 and bf16 on CUDA devices of "
                    + "compute capability 8.0+); rows then add the relative error of the cached HVP and Gauss-Newton product vs fp32.")
    String curvaturePrecision;

    static final class ModelNames extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        ModelNames() {
            super(MODELS.keySet());
        }
    }

    @Override
    public Integer call() throws java.io.IOException {
        var parsed = spec.commandLine().getParseResult();
        if (!trIteration) {
            for (String o : List.of("--preset", "--epochs", "--train-option"))
                if (parsed.hasMatchedOption(o))
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(), o + " applies only with --tr-iteration; leave it out");
        } else {
            return trIteration(parsed);
        }
        List<String> names = models == null ? new ArrayList<>(MODELS.keySet()) : models;
        for (String n : names) {
            if (!MODELS.containsKey(n))
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--model = '" + n + "'; must be one of " + MODELS.keySet());
        }
        List<Integer> bs = batches == null ? List.of(128, 512, 2048) : batches;
        if (models == null) { // by default the MLPs; the big networks when named: --model convnet,autoencoder,resnet20
            names.remove("convnet");
            names.remove("autoencoder");
            names.remove("resnet20");
        }
        for (int b : bs) {
            if (b < 1) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--batch = " + b + "; must be >= 1");
        }
        if (!(seconds > 0)) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--seconds = " + seconds + "; must be > 0");
        CurvaturePrecision precision;
        try {
            precision = CurvaturePrecision.parse(curvaturePrecision);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    e.getMessage().replaceFirst("^curvature precision", "--curvature-precision"));
        }
        Backends.Selection sel = execution.select();
        Backend backend = sel.backend();
        String refused = backend.unsupported(precision);
        if (refused != null)
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--curvature-precision = " + precision.cliName()
                    + " is not supported on the " + backend.kind().name().toLowerCase(Locale.ROOT) + " backend: " + refused);
        if (!json) sel.notes().forEach(System.out::println);
        if (!json) {
            System.out.printf(Locale.ROOT, "%-24s %5s %3s %8s %8s %8s %8s %8s %8s %7s %7s %8s %8s %8s%n", "model", "batch", "thr",
                    "fwd ms", "grad ms", "hvp ms", "hvpc ms", "gn ms", "grad GF/s", "hvpc/g", "hvp/g", "g/floor", "hvpc/fl", "cgit/hvpc");
        }
        for (String name : names) {
            for (int b : bs) {
                Map<String, Object> row = measure(backend, name, MODELS.get(name), b, precision);
                if (json) System.out.println(toJson(row));
                else printRow(row);
            }
        }
        return 0;
    }

    /** --tr-iteration: train --profile on the preset, into a temporary directory (removed after). */
    private int trIteration(picocli.CommandLine.ParseResult parsed) throws java.io.IOException {
        for (String o : List.of("--model", "--batch", "--seconds", "--json"))
            if (parsed.hasMatchedOption(o))
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), o + " does not apply to --tr-iteration (it times training, "
                        + "not the kernels); leave it out, or give train options with --train-option");
        if (epochs < 1)
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--epochs = " + epochs + "; must be >= 1");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("adanewton-tr-iteration");
        try {
            List<String> args = new ArrayList<>(List.of("--preset", preset, "--epochs", Integer.toString(epochs), "--warm-epochs", "0",
                    "--pivot-every", "0", "--eval-every", Integer.toString(epochs), "--progress", "lines", "--profile", "--out", dir.toString(),
                    "--threads", Integer.toString(execution.threads()), "--backend", spec.findOption("--backend").getValue().toString(),
                    "--curvature-precision", curvaturePrecision));
            if (trainOptions != null) args.addAll(trainOptions);
            picocli.CommandLine train = new picocli.CommandLine(new TrainCommand());
            train.setExecutionExceptionHandler(spec.commandLine().getExecutionExceptionHandler());
            train.setParameterExceptionHandler(spec.commandLine().getParameterExceptionHandler());
            int code = train.execute(args.toArray(String[]::new));
            System.out.println("bench --tr-iteration: the training run's directory above is removed now (it keeps nothing; train --profile keeps a run)");
            return code;
        } finally {
            try (var files = java.nio.file.Files.walk(dir)) {
                for (java.nio.file.Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(f);
            }
        }
    }

    private Map<String, Object> measure(Backend backend, String name, Network net, int batch, CurvaturePrecision precision) {
        SplittableRandom random = new SplittableRandom(42);
        float[] x = new float[batch * net.inputDim()];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble();
        int[] y = new int[batch];
        for (int i = 0; i < batch; i++) y[i] = random.nextInt(net.outputDim());
        float[] targets = net.loss().usesLabels() ? null : java.util.Arrays.copyOf(x, x.length); // autoencoder: inputs as targets
        double[] v0 = new double[net.parameterCount()];
        for (int i = 0; i < v0.length; i++) v0[i] = random.nextGaussian();
        Map<String, Object> row = new LinkedHashMap<>();
        try (NetworkModel model = backend.model(net, batch); Batch b = backend.batch(net, batch);
                Vector w = backend.vector(net.initialize(1)); Vector g = backend.allocate(net.parameterCount());
                Vector v = backend.vector(v0); Vector out = backend.allocate(net.parameterCount())) {
            if (targets == null) b.set(x, y, batch);
            else b.set(x, targets, batch);
            row.put("model", name);
            row.put("backend", backend.kind().name().toLowerCase());
            row.put("batch", batch);
            row.put("threads", backend.threads());
            row.put("curvature_precision", precision.cliName());
            if (precision != CurvaturePrecision.FP32) productErrors(model, w, b, g, v, precision, row);
            model.setCurvaturePrecision(precision);
            double fwd = time(backend, () -> model.loss(w, b));
            double grad = time(backend, () -> model.gradient(w, b, g));
            double hvp = time(backend, () -> model.hvp(w, b, v, out));
            model.gradient(w, b, g);
            double hvpc = time(backend, () -> model.hvpCached(v, out));
            double gn = time(backend, () -> model.gaussNewtonCached(v, out));
            // one native Steihaug CG iteration (per-solve time / iterations, at most 10 per solve)
            double[] cg = new double[2];
            try (StepSolver solver = KrylovSolvers.steihaug(backend, net.parameterCount(), new KrylovOptions(10, 1e-12, KrylovOptions.StoppingRule.RESIDUAL));
                    Vector metric = backend.allocate(net.parameterCount())) {
                backend.fill(metric, 1.0);
                double solve = time(backend, () -> cg[0] = solver.solve(g, model.hessian(), metric, 1e30, out).iterations());
                cg[1] = solve / Math.max(1, cg[0]);
            }
            row.put("cg_iteration_ms", cg[1]);
            row.put("forward_ms", fwd);
            row.put("gradient_ms", grad);
            row.put("hvp_ms", hvp);
            row.put("hvp_cached_ms", hvpc);
            row.put("gn_ms", gn);
            if (backend.kind() == BackendKind.CPU) {
                int reps = Math.max(5, (int) Math.min(200, seconds * 1000 / Math.max(0.05, grad)));
                Backends.GemmFloors floors = Backends.gemmFloors(model, batch, reps);
                var ff = floors.forward();
                var fg = floors.gradient();
                var fh = floors.hvp();
                var fc = floors.hvpCached();
                var fn = floors.gaussNewtonCached();
                row.put("gemm_floor_forward_ms", ff.ms());
                row.put("gemm_floor_gradient_ms", fg.ms());
                row.put("gemm_floor_hvp_ms", fh.ms());
                row.put("gemm_floor_hvp_cached_ms", fc.ms());
                row.put("gemm_floor_gn_ms", fn.ms());
                row.put("gradient_gflops", fg.gflop() / (grad * 1e-3));
                row.put("hvp_cached_gflops", fc.gflop() / (hvpc * 1e-3));
                row.put("floor_gradient_gflops", fg.gflop() / (fg.ms() * 1e-3));
            }
            if (backend instanceof CudaBackend cuda) solve50(cuda, model, g, out, row);
        }
        return row;
    }

    /**
     * The relative errors (2-norm) of the cached HVP and Gauss-Newton product at precision p
     * against fp32, on the same point and vector: hvp_rel_error_vs_fp32, gn_rel_error_vs_fp32.
     */
    private static void productErrors(NetworkModel model, Vector w, Batch b, Vector g, Vector v, CurvaturePrecision p, Map<String, Object> row) {
        Backend be = model.backend();
        int n = model.network().parameterCount();
        try (Vector ref = be.allocate(n); Vector low = be.allocate(n)) {
            model.gradient(w, b, g);
            for (int curvature = 0; curvature < 2; curvature++) {
                model.setCurvaturePrecision(CurvaturePrecision.FP32);
                if (curvature == 0) model.hvpCached(v, ref);
                else model.gaussNewtonCached(v, ref);
                model.setCurvaturePrecision(p);
                if (curvature == 0) model.hvpCached(v, low);
                else model.gaussNewtonCached(v, low);
                double norm = be.norm(ref);
                be.axpy(-1, ref, low);
                row.put(curvature == 0 ? "hvp_rel_error_vs_fp32" : "gn_rel_error_vs_fp32", be.norm(low) / Math.max(norm, Double.MIN_NORMAL));
            }
        }
    }

    /**
     * A full Steihaug solve of 50 iterations on the device (Gauss-Newton curvature: no negative
     * curvature; no boundary; a tolerance out of reach), after one warm-up solve: wall time per
     * iteration and the host synchronizations it made per iteration.
     */
    private static void solve50(CudaBackend cuda, NetworkModel model, Vector g, Vector out, Map<String, Object> row) {
        int n = model.network().parameterCount();
        try (StepSolver solver = KrylovSolvers.steihaug(cuda, n, new KrylovOptions(50, 1e-12, KrylovOptions.StoppingRule.RESIDUAL));
                Vector metric = cuda.allocate(n)) {
            cuda.fill(metric, 1.0);
            solver.solve(g, model.gaussNewton(), metric, 1e30, out);
            cuda.synchronize();
            long syncs0 = cuda.hostSynchronizations(), t0 = System.nanoTime();
            StepResult r = solver.solve(g, model.gaussNewton(), metric, 1e30, out);
            long syncs = cuda.hostSynchronizations() - syncs0;
            cuda.synchronize(); // the step's last kernels
            double ms = (System.nanoTime() - t0) * 1e-6;
            int k = Math.max(1, r.iterations());
            row.put("solve50_iterations", r.iterations());
            row.put("solve50_ms_per_iteration", ms / k);
            row.put("solve50_syncs_per_iteration", (double) syncs / k);
        }
    }

    /**
     * Median wall time in ms over enough repeats to fill `seconds` (at least 5, after 3 warm-ups),
     * each ended by backend.synchronize() so that device work is timed finished, not queued.
     */
    private double time(Backend backend, Runnable op) {
        for (int i = 0; i < 3; i++) op.run();
        backend.synchronize();
        long budget = (long) (seconds * 1e9);
        List<Double> times = new ArrayList<>();
        long start = System.nanoTime();
        while (times.size() < 5 || (System.nanoTime() - start < budget && times.size() < 2000)) {
            long t0 = System.nanoTime();
            op.run();
            backend.synchronize();
            times.add((System.nanoTime() - t0) * 1e-6);
        }
        double[] a = times.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }

    private static void printRow(Map<String, Object> r) {
        double grad = (double) r.get("gradient_ms"), hvpc = (double) r.get("hvp_cached_ms"), hvp = (double) r.get("hvp_ms");
        Object floorG = r.get("gemm_floor_gradient_ms"), floorC = r.get("gemm_floor_hvp_cached_ms");
        System.out.printf(Locale.ROOT, "%-24s %5d %3d %8.3f %8.3f %8.3f %8.3f %8.3f %8s %7.2f %7.2f %8s %8s %8.2f%n", r.get("model"),
                r.get("batch"), r.get("threads"), r.get("forward_ms"), grad, hvp, hvpc, r.get("gn_ms"),
                r.containsKey("gradient_gflops") ? String.format(Locale.ROOT, "%.1f", r.get("gradient_gflops")) : "-",
                hvpc / grad, hvp / grad,
                floorG == null ? "-" : String.format(Locale.ROOT, "%.2f", grad / (double) floorG),
                floorC == null ? "-" : String.format(Locale.ROOT, "%.2f", hvpc / (double) floorC), (double) r.get("cg_iteration_ms") / hvpc);
        if (r.containsKey("hvp_rel_error_vs_fp32"))
            System.out.printf(Locale.ROOT, "%-24s curvature precision %s: cached HVP relative error vs fp32 %.3g, Gauss-Newton %.3g%n", "",
                    r.get("curvature_precision"), r.get("hvp_rel_error_vs_fp32"), r.get("gn_rel_error_vs_fp32"));
        if (r.containsKey("solve50_iterations"))
            System.out.printf(Locale.ROOT, "%-24s Steihaug (Gauss-Newton) solve: %d iterations, %.3f ms and %.2f host synchronizations per iteration%n", "",
                    r.get("solve50_iterations"), r.get("solve50_ms_per_iteration"), r.get("solve50_syncs_per_iteration"));
    }

    static String toJson(Map<String, Object> row) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : row.entrySet()) {
            if (sb.length() > 1) sb.append(", ");
            sb.append('"').append(e.getKey()).append("\": ");
            Object v = e.getValue();
            if (v instanceof String s) sb.append('"').append(s.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            else if (v instanceof Double d) sb.append(String.format(Locale.ROOT, "%.5g", d));
            else sb.append(v);
        }
        return sb.append('}').toString();
    }
}
