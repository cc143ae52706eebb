package org.adanewton.minimizer;

import org.adanewton.api.IterationListener;
import org.adanewton.api.IterationSummary;
import org.adanewton.api.MiniBatchObjective;
import org.adanewton.api.Norm;
import org.adanewton.api.Summary;
import org.adanewton.api.TerminationType;
import org.adanewton.api.VectorObjective;
import org.adanewton.backend.Vector;

/**
 * A step-style optimizer, like torch.optim's {@code step(closure)}, for callers who drive their own
 * loop: each {@link #step} call runs one TR or ARC iteration of the one {@link Minimizer} outer loop
 * (not a second implementation of it), with the closure evaluating the loss, gradient and
 * Hessian-vector products on the caller's current batch. The iteration takes the gradient at the
 * parameters, updates the norm, solves the subproblem with the closure's products, evaluates the
 * trial point with the closure and accepts or rejects it (moving the parameters in place) and
 * updates the radius or sigma, exactly as {@code Minimizer.next()} on a stochastic problem whose
 * batch is whatever the closure evaluates.
 *
 * <pre>{@code
 * try (SecondOrderStep opt = new SecondOrderStep(w, options)) {
 *     for (Batch b : myBatches) {
 *         SecondOrderStep.Outcome o = opt.step(myLossOn(b));     // a VectorObjective on batch b
 *         if (o.stopped()) break;                                   // a stopping rule of options
 *     }
 * }
 * }</pre>
 *
 * <p>The options' method, norm, Krylov and policy settings apply, and so do their stopping rules
 * (maxIterations, maxSeconds, gradientTolerance on the batch gradient, the region's collapse,
 * maxConsecutiveInvalid): when one holds, a step does no iteration, leaves the parameters as they are
 * and says why; set maxIterations to Integer.MAX_VALUE for an open-ended loop. Values are batch
 * losses ({@link IterationSummary#batchLoss()}).
 *
 * <p>Thread safety: not thread-safe: like its Minimizer it serves one thread at a time (a step from
 * a second thread while one runs throws IllegalStateException).
 */
public final class SecondOrderStep implements AutoCloseable {
    private final Closure current;
    private final VectorObjectiveProblem problem;
    private final Minimizer minimizer;
    private final int n;
    private IterationSummary last;
    /** Records the iteration next() ran (made once: a step allocates no listener array). */
    private final IterationListener[] listeners = {it -> {
        last = it;
        return true;
    }};

    /**
     * An optimizer of the parameters x (any backend; updated in place and still the caller's, to
     * close after this) with the named method's strategies of options. It keeps no per-iteration
     * history (an open-ended loop would grow it without bound): {@link #lastIteration} is the last
     * step's summary.
     */
    /** Set while a step runs: a second step (another thread, or the closure itself) is refused before it touches anything. */
    private final java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean();

    public SecondOrderStep(Vector x, MinimizerOptions options) {
        if (x == null) throw new IllegalArgumentException("x is null");
        if (options == null) throw new IllegalArgumentException("options is null");
        x.backend().check("x", x);
        if (x.length() < 1) throw new IllegalArgumentException("x has length 0; must be >= 1");
        n = x.length();
        current = new Closure(n);
        problem = new VectorObjectiveProblem(x.backend(), current);
        minimizer = new Minimizer(problem, options.toBuilder().keepHistory(false).build(), x);
    }

    /**
     * One outer iteration on the closure's batch: the closure's gradient (once), its products and
     * one trial value; every vector it gets is the optimizer's own or x. Returns the iteration's
     * summary, or the stopping rule that held (then nothing ran past the gradient and x is unchanged).
     *
     * @param closure the loss on the current batch, of dimension x.length()
     */
    public Outcome step(VectorObjective closure) {
        if (closure == null) throw new IllegalArgumentException("closure is null");
        if (closure.dimension() != n)
            throw new IllegalArgumentException("closure dimension = " + closure.dimension() + "; must be " + n + " (the parameters' length)");
        if (!running.compareAndSet(false, true))
            throw new IllegalStateException("step is already running (from another thread, or called from inside its closure); one step at a time");
        try {
            current.closure = closure;
            TerminationType why = minimizer.next(listeners);
            return why != null ? new Outcome(null, why) : new Outcome(last, null);
        } finally {
            current.closure = null;
            running.set(false);
        }
    }

    /** The last iteration's summary, or null before the first. */
    public IterationSummary lastIteration() {
        return last;
    }

    /** The summary of the steps so far (its values are batch losses), ended for the given reason. */
    public Summary summary(TerminationType why) {
        return minimizer.summary(why);
    }

    /** The current radius (TR) or sigma (ARC). */
    public double regularization() {
        return minimizer.regularization();
    }

    /** Outer iterations so far. */
    public int iterations() {
        return minimizer.iterations();
    }

    /** The norm (its metric is the region's shape). */
    public Norm norm() {
        return minimizer.norm();
    }

    /** The underlying minimizer, e.g. for saveState and restoreState. */
    public Minimizer minimizer() {
        return minimizer;
    }

    @Override
    public void close() {
        minimizer.close();
    }

    /**
     * What one {@link #step} did: the iteration's summary when it ran (termination null), or the
     * stopping rule that held instead (iteration null).
     *
     * <p>Thread safety: immutable: safe to share between threads.
     *
     * @param iteration   the iteration's summary, or null when a stopping rule held
     * @param termination the rule that held, or null when the iteration ran
     */
    public record Outcome(IterationSummary iteration, TerminationType termination) {
        /** True when no iteration ran because a stopping rule held. */
        public boolean stopped() {
            return termination != null;
        }

        /** The loss on the step's batch after the step: at the new parameters when the step was accepted, else at the old ones (NaN when stopped). */
        public double batchLoss() {
            return iteration == null ? Double.NaN : iteration.value();
        }
    }

    /** The stochastic problem's objective: the closure of the step in progress. */
    private static final class Closure implements MiniBatchObjective {
        private final int n;
        VectorObjective closure;

        Closure(int n) {
            this.n = n;
        }

        private VectorObjective closure() {
            if (closure == null) throw new IllegalStateException("no step in progress: the closure is given to SecondOrderStep.step");
            return closure;
        }

        @Override
        public void nextBatch() {} // the batch is whatever the closure evaluates

        @Override
        public int dimension() {
            return n;
        }

        @Override
        public double value(Vector x) {
            return closure().value(x);
        }

        @Override
        public double gradient(Vector x, Vector g) {
            return closure().gradient(x, g);
        }

        @Override
        public void hessianVector(Vector x, Vector v, Vector hv) {
            closure().hessianVector(x, v, hv);
        }

        @Override
        public String name() {
            return closure == null ? "step closure" : closure.name();
        }
    }
}
