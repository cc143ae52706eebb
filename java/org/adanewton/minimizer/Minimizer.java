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
 * <p>The solver, the region policy and the norm are interfaces: {@code new Minimizer(problem,
 * options, x)} takes the named method's ({@link Strategies#of}), and {@code new Minimizer(problem,
 * options, x, new Strategies(solver, policy, norm))} any others (options then give only the
 * stopping rules, the ratio guard and the history).
 *
 * <p>Thread safety: a minimizer serves one thread at a time. {@link #next}, {@link #run},
 * {@link #saveState}, {@link #restoreState} or {@link #close} from a second thread while one of them
 * runs throws {@link IllegalStateException} and changes nothing.
 */
public final class Minimizer implements AutoCloseable {
    private final ExclusiveUse use;
    private final Problem problem;
    private final MinimizerOptions options;
    private final Backend backend;
    private final Vector x, g, s, trial;
    private final Norm norm;
    private final StepSolver solver;
    private final RegionPolicy policy;
    /** The method's name in saved states: the named method's CLI name, or the injected solver's name. */
    private final String method;
    /** Whether the solver and the norm were made here (and are closed here). */
    private final boolean ownsStrategies;
    private final List<IterationSummary> history = new ArrayList<>();

    // state between iterations
    private Progress progress;
    private double f = Double.NaN, gradientNorm = Double.NaN;
    private boolean needGradient = true;
    private long startNanos = System.nanoTime();
    private final Stopwatch clock = new Stopwatch();

    /**
     * A minimizer of problem from x (x is updated in place and stays the caller's) with the
     * strategies of options.method() ({@link Strategies#of}), which it closes.
     */
    public Minimizer(Problem problem, MinimizerOptions options, Vector x) {
        this(problem, options, x, checked(problem, x, options), true, options.method().cliName, options.method().toString());
    }

    /**
     * A minimizer of problem from x with the given solver, policy and norm (for vectors of the
     * problem's backend and dimension; they stay the caller's, to close). Of options only the
     * stopping rules, the ratio guard and keepHistory apply; saved states name the solver.
     */
    public Minimizer(Problem problem, MinimizerOptions options, Vector x, Strategies strategies) {
        this(problem, options, x, strategies, false, strategies.solver().name(), strategies.solver().name());
    }

    /** The named method's strategies, once x is known to fit the problem (so that a refusal leaks nothing). */
    private static Strategies checked(Problem problem, Vector x, MinimizerOptions options) {
        problem.backend().check("x", x, problem.dimension(), "the problem's dimension");
        return Strategies.of(options, problem);
    }

    private Minimizer(Problem problem, MinimizerOptions options, Vector x, Strategies strategies, boolean owned, String method, String label) {
        this.problem = problem;
        this.options = options;
        this.backend = problem.backend();
        this.use = new ExclusiveUse(() -> "the Minimizer (" + label + ")");
        backend.check("x", x, problem.dimension(), "the problem's dimension");
        int n = problem.dimension();
        if (!owned) backend.check("the norm's metric", strategies.norm().metric(), n, "the problem's dimension");
        this.x = x;
        Vector g0 = null, s0 = null;
        try {
            g0 = backend.allocate(n);
            s0 = backend.allocate(n);
            trial = backend.allocate(n);
        } catch (RuntimeException | Error e) {  // nothing leaks from a refused construction
            if (g0 != null) g0.close();
            if (s0 != null) s0.close();
            if (owned) strategies.close();
            throw e;
        }
        g = g0;
        s = s0;
        norm = strategies.norm();
        solver = strategies.solver();
        policy = strategies.policy();
        this.method = method;
        this.ownsStrategies = owned;
        progress = new Progress(policy.initial());
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
            clock.iterations++;
            return go ? null : TerminationType.USER_STOP;
        } finally {
            long now = System.nanoTime();
            clock.total += now - startNanos;
            progress.seconds += (now - startNanos) * 1e-9;
            startNanos = now;
            use.exit();
        }
    }

    private double elapsed() {
        return progress.seconds + (System.nanoTime() - startNanos) * 1e-9;
    }

    private void ensureGradient() {
        if (!needGradient) return;
        long t0 = System.nanoTime();
        problem.advance();
        long t1 = System.nanoTime();
        f = problem.gradient(x, g);
        progress.gradients++;
        gradientNorm = backend.norm(g);
        clock.sample += t1 - t0;
        clock.gradient += System.nanoTime() - t1;
        if (Double.isNaN(progress.initialValue)) progress.initialValue = f;
        needGradient = problem.isStochastic();
    }

    /** The stopping rules that need no new gradient (checked before a sample is drawn). */
    private TerminationType budgetExhausted() {
        if (progress.iteration >= options.maxIterations()) return TerminationType.MAX_ITERATIONS;
        if (problem.epochs() >= options.maxEpochs()) return TerminationType.MAX_EPOCHS;
        if (elapsed() >= options.maxSeconds()) return TerminationType.TIME_LIMIT;
        if (policy.collapsed(progress.region)) return TerminationType.REGION_COLLAPSED;
        if (progress.invalidStreak >= options.maxConsecutiveInvalid()) return TerminationType.NUMERICAL_FAILURE;
        return null;
    }

    /** One outer iteration at the current (f, g). */
    private IterationSummary iterate() {
        Progress p = progress;
        double used = p.region;
        if (!Double.isFinite(f) || !Double.isFinite(gradientNorm)) {
            p.region = policy.shrink(p.region);
            return record(used, Double.NaN, 0, Double.NaN, Double.NaN, 0, SolverExit.NON_FINITE, false, false);
        }
        long t0 = System.nanoTime();
        norm.update(g);
        long t1 = System.nanoTime();
        StepResult step = solver.solve(g, problem.curvature(), norm.metric(), p.region, s);
        long t2 = System.nanoTime();
        p.solverSeconds += (t2 - t1) * 1e-9;
        p.products += step.products();
        p.krylovIterations += step.iterations();
        backend.copy(x, trial);
        backend.axpy(1.0, s, trial);
        double fTrial = problem.value(trial);
        p.values++;
        clock.normUpdate += t1 - t0;
        clock.solve += t2 - t1;
        clock.trial += System.nanoTime() - t2;
        clock.products += step.products();
        clock.productTime += step.productSeconds(); // NaN from then on once a solve did not time its products
        double pred = step.modelDecrease(), ared = f - fTrial;
        boolean valid = step.isFinite() && Double.isFinite(fTrial) && pred > 0;
        double rho = valid ? ratio(ared, pred) : Double.NaN;
        boolean accept = valid && policy.accept(rho);
        p.region = valid ? policy.update(p.region, rho) : policy.shrink(p.region);
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
        Progress p = progress;
        if (!valid) {
            p.invalid++;
            p.invalidStreak++;
        } else {
            p.invalidStreak = 0;
            if (accept) p.accepted++;
            else p.rejected++;
        }
        IterationSummary it = new IterationSummary(p.iteration, f, gradientNorm, rho, used, stepNorm, pred, ared, krylov, exit, accept, valid,
                elapsed(), problem.isStochastic());
        if (options.keepHistory()) history.add(it);
        p.iteration++;
        return it;
    }

    /** The summary of the run so far, ended for the given reason. */
    public Summary summary(TerminationType why) {
        Progress p = progress;
        int iteration = p.iteration;
        String what = policy.isCubic() ? "sigma" : "radius";
        String message = switch (why) {
            case CONVERGENCE -> String.format(Locale.ROOT, "||g|| = %.3e <= gradientTolerance = %.3e after %d iterations", gradientNorm,
                    options.gradientTolerance(), iteration);
            case MAX_ITERATIONS -> String.format(Locale.ROOT, "reached maxIterations = %d with ||g|| = %.3e", options.maxIterations(), gradientNorm);
            case MAX_EPOCHS -> String.format(Locale.ROOT, "reached maxEpochs = %s after %d iterations", fmt(options.maxEpochs()), iteration);
            case TIME_LIMIT -> String.format(Locale.ROOT, "reached maxSeconds = %s after %d iterations", fmt(options.maxSeconds()), iteration);
            case REGION_COLLAPSED -> String.format(Locale.ROOT, "%s = %.3e is beyond its limit (%s) after %d iterations: no further progress",
                    what, p.region, limit(), iteration);
            case NUMERICAL_FAILURE -> String.format(Locale.ROOT,
                    "%d consecutive invalid steps (non-finite loss, gradient or model decrease) >= maxConsecutiveInvalid = %d", p.invalidStreak,
                    options.maxConsecutiveInvalid());
            case USER_STOP -> "stopped by the caller after " + iteration + " iterations";
        };
        return new Summary(why, message, iteration, p.gradients, p.values, p.products, p.krylovIterations, p.accepted, p.rejected, p.invalid,
                p.initialValue, f, gradientNorm, p.seconds, p.solverSeconds, List.copyOf(history), problem.isStochastic());
    }

    /** The policy's limit, for the REGION_COLLAPSED message. */
    private String limit() {
        if (policy == options.cubic()) return "maxSigma = " + fmt(options.cubic().maxSigma());
        if (policy == options.trustRegion()) return "minRadius = " + fmt(options.trustRegion().minRadius());
        return "the policy's limit: " + policy;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }

    /** Where the iterations since construction (or {@link #restoreState}) spent their time. */
    public IterationTimes times() {
        Stopwatch c = clock;
        return new IterationTimes(c.iterations, c.products, c.sample * 1e-9, c.gradient * 1e-9, c.normUpdate * 1e-9, c.solve * 1e-9, c.productTime,
                c.trial * 1e-9, c.total * 1e-9);
    }

    /** The running sums behind {@link #times()} (nanoseconds; product time in seconds as the solvers report it). */
    private static final class Stopwatch {
        long iterations, products, sample, gradient, normUpdate, solve, trial, total;
        double productTime;

        void reset() {
            iterations = products = sample = gradient = normUpdate = solve = trial = total = 0;
            productTime = 0;
        }
    }

    /** Gradient evaluations so far. */
    public long gradients() {
        return progress.gradients;
    }

    /** Curvature products (HVPs) so far. */
    public long products() {
        return progress.products;
    }

    /** Trial function values so far. */
    public long functionValues() {
        return progress.values;
    }

    /** Outer iterations so far. */
    public int iterations() {
        return progress.iteration;
    }

    /** The current radius (TR) or sigma (ARC). */
    public double regularization() {
        return progress.region;
    }

    /** The complete state between iterations (x, norm, region, counters). */
    public MinimizerState saveState() {
        use.enter();
        try {
            return progress.save(method, x.toArray(), norm.saveState());
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
            state.check(method, problem.dimension(), policy);
            norm.restoreState(state.norm());
            backend.set(x, state.x());
            progress = new Progress(state);
            needGradient = true;
            history.clear();
            clock.reset();
        } finally {
            use.exit();
        }
    }

    /** The region and the counters between iterations: what a {@link MinimizerState} holds besides x and the norm. */
    private static final class Progress {
        double region, seconds, solverSeconds, initialValue = Double.NaN;
        int iteration, accepted, rejected, invalid, invalidStreak;
        long gradients, values, products, krylovIterations;

        Progress(double region) {
            this.region = region;
        }

        Progress(MinimizerState s) {
            region = s.region();
            iteration = s.iteration();
            accepted = s.accepted();
            rejected = s.rejected();
            invalid = s.invalid();
            invalidStreak = s.invalidStreak();
            gradients = s.gradients();
            values = s.values();
            products = s.products();
            krylovIterations = s.krylovIterations();
            seconds = s.seconds();
            solverSeconds = s.solverSeconds();
            initialValue = s.initialValue();
        }

        MinimizerState save(String method, double[] x, Norm.NormState norm) {
            return new MinimizerState(method, x, norm, region, iteration, accepted, rejected, invalid, invalidStreak, gradients, values, products,
                    krylovIterations, seconds, solverSeconds, initialValue);
        }
    }

    @Override
    public void close() {
        use.enter();
        try {
            g.close();
            s.close();
            trial.close();
            if (ownsStrategies) {
                norm.close();
                solver.close();
            }
        } finally {
            use.exit();
        }
    }
}
