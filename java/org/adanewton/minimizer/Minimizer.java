package org.adanewton.minimizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.adanewton.api.IterationListener;
import org.adanewton.api.IterationSummary;
import org.adanewton.api.Norm;
import org.adanewton.api.RegionPolicy;
import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.api.Summary;
import org.adanewton.api.TerminationType;
import org.adanewton.backend.Backend;
import org.adanewton.backend.ExclusiveUse;
import org.adanewton.backend.Vector;
import org.adanewton.norm.DiagonalNorm;
import org.adanewton.subproblem.CauchyPoint;
import org.adanewton.subproblem.KrylovSolvers;

/**
 * The one outer loop of trust region and adaptive cubic regularization (Kohler et al., arXiv 1905.09201):
 * <ol>
 * <li>evaluate f and g (a fresh sample per iteration for stochastic problems);</li>
 * <li>check the stopping rules;</li>
 * <li>update the norm with g;</li>
 * <li>compute the step s with the method's solver in the norm's metric;</li>
 * <li>evaluate f(x + s) on the same sample; rho = (f(x) - f(x + s)) / (m(0) - m(s)), with the
 *     round-off guard;</li>
 * <li>accept if rho >= eta1; update the radius or sigma.</li>
 * </ol>
 * Non-finite values (loss, gradient, model decrease) or a non-positive model decrease make the step
 * invalid: it is rejected, the region shrinks, it is counted, and too many in a row end the run with
 * NUMERICAL_FAILURE. Never an exception. The state between iterations can be saved and restored so
 * that a resumed run continues exactly like an uninterrupted one.
 *
 * <p>Thread safety: a minimizer serves one thread at a time. {@link #next}, {@link #run},
 * {@link #saveState}, {@link #restoreState} or {@link #close} from a second thread while one of them
 * runs throws {@link IllegalStateException} and changes nothing.
 */
public final class Minimizer implements AutoCloseable {
    private final ExclusiveUse use = new ExclusiveUse(() -> "the Minimizer (" + options().method() + ")");
    private final Problem problem;
    private final MinimizerOptions options;
    private final Backend backend;
    private final Vector x, g, s, trial;
    private final DiagonalNorm norm;
    private final StepSolver solver;
    private final AutoCloseable solverResource;
    private final RegionPolicy policy;
    private final List<IterationSummary> history = new ArrayList<>();

    // state between iterations
    private double region, f = Double.NaN, gradientNorm = Double.NaN, initialValue = Double.NaN;
    private boolean needGradient = true;
    private int iteration, accepted, rejected, invalid, invalidStreak;
    private long gradients, values, products, krylovIterations;
    private double secondsBefore, solverSeconds;
    private long startNanos = System.nanoTime();

    /** A minimizer of problem from x (x is updated in place and stays the caller's). */
    public Minimizer(Problem problem, MinimizerOptions options, Vector x) {
        this.problem = problem;
        this.options = options;
        this.backend = problem.backend();
        backend.check("x", x, problem.dimension(), "the problem's dimension");
        this.x = x;
        int n = problem.dimension();
        g = backend.allocate(n);
        s = backend.allocate(n);
        trial = backend.allocate(n);
        norm = DiagonalNorm.create(backend, n, options.norm());
        switch (options.method()) {
            case TR_STEIHAUG -> solver = KrylovSolvers.steihaug(backend, n, options.krylov(), problem.curvature());
            case TR_GLTR -> solver = KrylovSolvers.gltr(backend, n, options.krylov(), problem.curvature());
            case TR_CAUCHY -> solver = new CauchyPoint(backend, n, false);
            case ARC -> solver = KrylovSolvers.arc(backend, n, options.krylov(), problem.curvature());
            case ARC_CAUCHY -> solver = new CauchyPoint(backend, n, true);
            default -> throw new IllegalArgumentException("method " + options.method());
        }
        solverResource = solver;
        policy = options.method().cubic ? options.cubic() : options.trustRegion();
        region = policy.initial();
    }

    public MinimizerOptions options() {
        return options;
    }

    public Norm norm() {
        return norm;
    }

    /** Runs until a stopping rule or a listener ends it. */
    public Summary run(IterationListener... listeners) {
        use.enter();
        try {
            TerminationType why;
            do {
                why = next(listeners);
            } while (why == null);
            return summary(why);
        } finally {
            use.exit();
        }
    }

    /**
     * One step of the run: checks the budgets, evaluates the gradient when needed, checks
     * convergence and performs one outer iteration. Returns null to continue, or why the run ended.
     * A caller that drives the loop itself (a trainer evaluating between epochs) uses this and
     * {@link #summary(TerminationType)}.
     */
    public TerminationType next(IterationListener... listeners) {
        use.enter();
        startNanos = System.nanoTime();
        try {
            TerminationType why = budgetExhausted();
            if (why != null) return why;
            ensureGradient(); // draws this iteration's sample only once the budget allows the iteration
            if (Double.isFinite(gradientNorm) && gradientNorm <= options.gradientTolerance()) return TerminationType.CONVERGENCE;
            IterationSummary it = iterate();
            boolean go = true;
            for (IterationListener l : listeners) go &= l.onIteration(it);
            return go ? null : TerminationType.USER_STOP;
        } finally {
            secondsBefore += (System.nanoTime() - startNanos) * 1e-9;
            startNanos = System.nanoTime();
            use.exit();
        }
    }

    private double elapsed() {
        return secondsBefore + (System.nanoTime() - startNanos) * 1e-9;
    }

    private void ensureGradient() {
        if (!needGradient) return;
        problem.advance();
        f = problem.gradient(x, g);
        gradients++;
        gradientNorm = backend.norm(g);
        if (Double.isNaN(initialValue)) initialValue = f;
        needGradient = problem.isStochastic();
    }

    /** The stopping rules that need no new gradient (checked before a sample is drawn). */
    private TerminationType budgetExhausted() {
        if (iteration >= options.maxIterations()) return TerminationType.MAX_ITERATIONS;
        if (problem.epochs() >= options.maxEpochs()) return TerminationType.MAX_EPOCHS;
        if (elapsed() >= options.maxSeconds()) return TerminationType.TIME_LIMIT;
        if (policy.collapsed(region)) return TerminationType.REGION_COLLAPSED;
        if (invalidStreak >= options.maxConsecutiveInvalid()) return TerminationType.NUMERICAL_FAILURE;
        return null;
    }

    /** One outer iteration at the current (f, g). */
    private IterationSummary iterate() {
        double used = region;
        if (!Double.isFinite(f) || !Double.isFinite(gradientNorm)) {
            region = policy.shrink(region);
            return record(used, Double.NaN, 0, Double.NaN, Double.NaN, 0, SolverExit.NON_FINITE, false, false);
        }
        norm.update(g);
        long t0 = System.nanoTime();
        StepResult step = solver.solve(g, problem.curvature(), norm.metric(), region, s);
        solverSeconds += (System.nanoTime() - t0) * 1e-9;
        products += step.products();
        krylovIterations += step.iterations();
        backend.copy(x, trial);
        backend.axpy(1.0, s, trial);
        double fTrial = problem.value(trial);
        values++;
        double pred = step.modelDecrease(), ared = f - fTrial;
        boolean valid = step.isFinite() && Double.isFinite(fTrial) && pred > 0;
        double rho = valid ? ratio(ared, pred) : Double.NaN;
        boolean accept = valid && policy.accept(rho);
        region = valid ? policy.update(region, rho) : policy.shrink(region);
        if (accept) {
            backend.copy(trial, x);
            f = fTrial;
            needGradient = true;
        }
        return record(used, rho, step.stepNorm(), pred, ared, step.iterations(), step.exit(), accept, valid);
    }

    private double ratio(double ared, double pred) {
        double tiny = options.ratioGuard() * Math.max(1.0, Math.abs(f));
        if (pred <= tiny && Math.abs(ared) <= tiny) return 1.0;
        return ared / pred;
    }

    private IterationSummary record(double used, double rho, double stepNorm, double pred, double ared, int krylov, SolverExit exit,
            boolean accept, boolean valid) {
        if (!valid) {
            invalid++;
            invalidStreak++;
        } else {
            invalidStreak = 0;
            if (accept) accepted++;
            else rejected++;
        }
        IterationSummary it = new IterationSummary(iteration, f, gradientNorm, rho, used, stepNorm, pred, ared, krylov, exit, accept, valid,
                elapsed());
        if (options.keepHistory()) history.add(it);
        iteration++;
        return it;
    }

    /** The summary of the run so far, ended for the given reason. */
    public Summary summary(TerminationType why) {
        String what = policy.isCubic() ? "sigma" : "radius";
        String message = switch (why) {
            case CONVERGENCE -> String.format(Locale.ROOT, "||g|| = %.3e <= gradientTolerance = %.3e after %d iterations", gradientNorm,
                    options.gradientTolerance(), iteration);
            case MAX_ITERATIONS -> String.format(Locale.ROOT, "reached maxIterations = %d with ||g|| = %.3e", options.maxIterations(), gradientNorm);
            case MAX_EPOCHS -> String.format(Locale.ROOT, "reached maxEpochs = %s after %d iterations", fmt(options.maxEpochs()), iteration);
            case TIME_LIMIT -> String.format(Locale.ROOT, "reached maxSeconds = %s after %d iterations", fmt(options.maxSeconds()), iteration);
            case REGION_COLLAPSED -> String.format(Locale.ROOT, "%s = %.3e is beyond its limit (%s) after %d iterations: no further progress",
                    what, region, policy.isCubic() ? "maxSigma = " + fmt(options.cubic().maxSigma()) : "minRadius = " + fmt(options.trustRegion().minRadius()),
                    iteration);
            case NUMERICAL_FAILURE -> String.format(Locale.ROOT,
                    "%d consecutive invalid steps (non-finite loss, gradient or model decrease) >= maxConsecutiveInvalid = %d", invalidStreak,
                    options.maxConsecutiveInvalid());
            case USER_STOP -> "stopped by the caller after " + iteration + " iterations";
        };
        return new Summary(why, message, iteration, gradients, values, products, krylovIterations, accepted, rejected, invalid, initialValue, f,
                gradientNorm, secondsBefore, solverSeconds, List.copyOf(history));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    /** Gradient evaluations so far. */
    public long gradients() {
        return gradients;
    }

    /** Curvature products (HVPs) so far. */
    public long products() {
        return products;
    }

    /** Trial function values so far. */
    public long functionValues() {
        return values;
    }

    /** Outer iterations so far. */
    public int iterations() {
        return iteration;
    }

    /** The current radius (TR) or sigma (ARC). */
    public double regularization() {
        return region;
    }

    /** The complete state between iterations (x, norm, region, counters). */
    public MinimizerState saveState() {
        use.enter();
        try {
            return new MinimizerState(options.method().cliName, x.toArray(), norm.saveState(), region, iteration, accepted, rejected, invalid,
                    invalidStreak, gradients, values, products, krylovIterations, secondsBefore, solverSeconds, initialValue);
        } finally {
            use.exit();
        }
    }

    /**
     * Restores a saved state: x, the norm, the region and the counters. The gradient is recomputed
     * at x before the next iteration (for a stochastic problem, on the problem's next sample).
     */
    public void restoreState(MinimizerState state) {
        use.enter();
        try {
            if (!state.method().equals(options.method().cliName))
                throw new IllegalArgumentException("state of method '" + state.method() + "' cannot resume a " + options.method().cliName + " run");
            if (state.x().length != problem.dimension())
                throw new IllegalArgumentException("state has dimension " + state.x().length + "; the problem has " + problem.dimension());
            for (int i = 0; i < state.x().length; i++)
                if (!Double.isFinite(state.x()[i])) throw new IllegalArgumentException("state x[" + i + "] = " + state.x()[i] + "; must be finite");
            if (!policy.admits(state.region()))
                throw new IllegalArgumentException((policy.isCubic() ? "state sigma = " : "state radius = ") + state.region() + "; outside what the "
                        + (policy.isCubic() ? "cubic" : "trust-region") + " policy allows (" + policy + ")");
            long[] counters = {state.iteration(), state.accepted(), state.rejected(), state.invalid(), state.invalidStreak(), state.gradients(),
                    state.values(), state.products(), state.krylovIterations()};
            for (long c : counters) if (c < 0) throw new IllegalArgumentException("state has a negative counter (" + c + ")");
            if (!(state.seconds() >= 0 && state.solverSeconds() >= 0 && state.seconds() < Double.POSITIVE_INFINITY
                    && state.solverSeconds() < Double.POSITIVE_INFINITY))
                throw new IllegalArgumentException("state seconds = " + state.seconds() + ", solver seconds = " + state.solverSeconds() + "; must be finite, >= 0");
            norm.restoreState(state.norm());
            backend.set(x, state.x());
            region = state.region();
            iteration = state.iteration();
            accepted = state.accepted();
            rejected = state.rejected();
            invalid = state.invalid();
            invalidStreak = state.invalidStreak();
            gradients = state.gradients();
            values = state.values();
            products = state.products();
            krylovIterations = state.krylovIterations();
            secondsBefore = state.seconds();
            solverSeconds = state.solverSeconds();
            initialValue = state.initialValue();
            needGradient = true;
            history.clear();
        } finally {
            use.exit();
        }
    }

    @Override
    public void close() {
        use.enter();
        try {
            g.close();
            s.close();
            trial.close();
            norm.close();
            try {
                solverResource.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        } finally {
            use.exit();
        }
    }
}
