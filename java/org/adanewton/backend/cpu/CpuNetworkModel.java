package org.adanewton.backend.cpu;

import org.adanewton.api.CurvatureOperator;
import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.backend.Vector;
import org.adanewton.subproblem.KrylovOptions;
import org.adanewton.subproblem.NativeKrylovOperator;
import org.adanewton.nn.Batch;
import org.adanewton.nn.Network;
import org.adanewton.nn.NetworkModel;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/** A network on the CPU backend: one JNI call per loss, gradient, HVP or Gauss-Newton product. */
final class CpuNetworkModel extends NetworkModel {
    private final Pointer net;
    private final DoublePointer scalar = new DoublePointer(2);
    private final DoublePointer solveResult = new DoublePointer(6);
    private FloatPointer work; // Krylov work space, grown on demand and kept
    private long workFloats;
    private final CachedCurvature hessian = new CachedCurvature(0), gaussNewton = new CachedCurvature(1);

    CpuNetworkModel(CpuBackend backend, Network network, int maxBatch) {
        super(backend, network, maxBatch);
        int[] spec = network.nativeSpec();
        try (IntPointer s = new IntPointer(spec)) {
            net = NativeApi.an_net_create(s, spec.length, network.loss().nativeCode,
                    network.regularization().kind().nativeCode, network.regularization().lambda(), maxBatch, backend.threads());
        }
        if (net == null || net.isNull()) NativeLibrary.check("an_net_create", -1);
        long n = NativeApi.an_net_param_count(net);
        if (n != network.parameterCount())
            throw new IllegalStateException("native parameter count " + n + " differs from " + network.parameterCount());
    }

    private static FloatPointer p(Vector v) {
        return CpuBackend.ptr(v);
    }

    @Override
    protected double[] doForward(Vector w, Batch batch) {
        CpuBatch b = (CpuBatch) batch;
        int n = b.rows() * network().outputDim();
        try (FloatPointer out = new FloatPointer(n)) {
            NativeLibrary.check("an_net_forward", NativeApi.an_net_forward(net, p(w), b.inputs, b.rows(), out));
            float[] f = new float[n];
            out.get(f);
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = f[i];
            return d;
        }
    }

    @Override
    protected double doLoss(Vector w, Batch batch) {
        CpuBatch b = (CpuBatch) batch;
        NativeLibrary.check("an_net_loss", NativeApi.an_net_loss(net, p(w), b.inputs, b.labels, b.targets, b.rows(), scalar));
        return scalar.get(0);
    }

    @Override
    protected double doGradient(Vector w, Batch batch, Vector grad) {
        CpuBatch b = (CpuBatch) batch;
        NativeLibrary.check("an_net_gradient",
                NativeApi.an_net_gradient(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(grad), scalar));
        return scalar.get(0);
    }

    @Override
    protected double doHvp(Vector w, Batch batch, Vector v, Vector out) {
        CpuBatch b = (CpuBatch) batch;
        NativeLibrary.check("an_net_hvp",
                NativeApi.an_net_hvp(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(v), p(out), scalar));
        return scalar.get(0);
    }

    @Override
    protected void doHvpCached(Vector v, Vector out) {
        NativeLibrary.check("an_net_hvp_cached", NativeApi.an_net_hvp_cached(net, p(v), p(out)));
    }

    @Override
    protected void doGaussNewtonCached(Vector v, Vector out) {
        NativeLibrary.check("an_net_gn_cached", NativeApi.an_net_gn_cached(net, p(v), p(out)));
    }

    @Override
    public CurvatureOperator hessian() {
        return hessian;
    }

    @Override
    public CurvatureOperator gaussNewton() {
        return gaussNewton;
    }

    private FloatPointer work(long floats) {
        if (floats > workFloats) {
            if (work != null) work.close();
            work = new FloatPointer(floats);
            workFloats = floats;
        }
        return work;
    }

    /**
     * The cached point's curvature (0: Hessian, 1: Gauss-Newton), offering whole native solves: the
     * Steihaug or Lanczos loop runs inside one JNI call with the products computed natively.
     */
    private final class CachedCurvature implements NativeKrylovOperator {
        private final int kind;

        CachedCurvature(int kind) {
            this.kind = kind;
        }

        @Override
        public void apply(Vector v, Vector out) {
            if (kind == 0) hvpCached(v, out);
            else gaussNewtonCached(v, out);
        }

        private void checkSolve(Vector g, Vector a, Vector s) {
            if (!hasCachedPoint()) throw new IllegalStateException("no cached point (or it changed): call gradient() before a native solve");
            int n = network().parameterCount();
            backend().check("g", g, n, "the network's parameter count");
            backend().check("metric", a, n, "the network's parameter count");
            backend().check("s", s, n, "the network's parameter count");
        }

        @Override
        public StepResult steihaug(Vector g, Vector a, double radius, KrylovOptions o, Vector s) {
            checkSolve(g, a, s);
            long n = network().parameterCount();
            NativeLibrary.check("an_net_steihaug", NativeApi.an_net_steihaug(net, kind, p(g), p(a), radius, o.maxIterations(), o.tolerance(),
                    o.rule() == KrylovOptions.StoppingRule.RESIDUAL ? 0 : 1, p(s), work(4 * n), solveResult));
            s.markWritten();
            return result();
        }

        @Override
        public StepResult lanczos(boolean cubic, Vector g, Vector a, double reg, KrylovOptions o, Vector s) {
            checkSolve(g, a, s);
            long n = network().parameterCount();
            NativeLibrary.check("an_net_lanczos", NativeApi.an_net_lanczos(net, kind, cubic ? 1 : 0, p(g), p(a), reg, o.maxIterations(),
                    o.tolerance(), o.rule() == KrylovOptions.StoppingRule.RESIDUAL ? 0 : 1, p(s), work((5L + o.maxIterations()) * n), solveResult));
            s.markWritten();
            return result();
        }

        private StepResult result() {
            SolverExit exit = switch ((int) solveResult.get(4)) {
                case 0 -> SolverExit.CONVERGED;
                case 1 -> SolverExit.BOUNDARY;
                case 2 -> SolverExit.NEGATIVE_CURVATURE;
                case 3 -> SolverExit.MAX_ITERATIONS;
                case 4 -> SolverExit.ZERO_GRADIENT;
                default -> SolverExit.NON_FINITE;
            };
            int iterations = (int) solveResult.get(2), products = (int) solveResult.get(3);
            return new StepResult(solveResult.get(0), solveResult.get(1), iterations, products, exit, solveResult.get(5));
        }
    }

    /** {ms, GFLOP} of only the sgemm calls `op` makes at this batch (plain OpenBLAS, blasThreads). */
    double[] gemmFloor(GemmFloor.Op op, int batch, int repeats, int blasThreads) {
        try (DoublePointer ms = new DoublePointer(1); DoublePointer gflop = new DoublePointer(1)) {
            NativeApi.an_set_blas_threads(blasThreads);
            try {
                NativeLibrary.check("an_net_gemm_floor", NativeApi.an_net_gemm_floor(net, op.code, batch, repeats, ms, gflop));
            } finally {
                NativeApi.an_set_blas_threads(1);
            }
            return new double[] {ms.get(0), gflop.get(0)};
        }
    }

    @Override
    protected void release() {
        NativeApi.an_net_destroy(net);
        scalar.close();
        solveResult.close();
        if (work != null) work.close();
    }
}
