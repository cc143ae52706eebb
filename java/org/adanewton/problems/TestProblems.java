package org.adanewton.problems;

import java.util.List;
import org.adanewton.api.Objective;

/**
 * The built-in deterministic problems of `./adanewton solve`, with their starting points.
 *
 * <p>Thread safety: stateless: safe to use from any thread (each call builds a new problem).
 */
public final class TestProblems {
    public static final List<String> NAMES = List.of("rosenbrock", "chained-rosenbrock", "quadratic", "logistic");

    /** An objective and where to start. */
    public record Instance(Objective objective, double[] start) {}

    private TestProblems() {}

    /**
     * rosenbrock (2-D, from (-1.2, 1)); chained-rosenbrock (dim, from (-1.2, 1, ...)); quadratic
     * (dim, spectrum geometric in [1e-2, 1e2], `negative` negative eigenvalues, from 0); logistic
     * (dim features, 10 dim samples, mu 1e-3, from 0).
     */
    public static Instance create(String name, int dim, int negative) {
        return switch (name) {
            case "rosenbrock" -> {
                ChainedRosenbrock r = new ChainedRosenbrock(2);
                yield new Instance(r, r.start());
            }
            case "chained-rosenbrock" -> {
                ChainedRosenbrock r = new ChainedRosenbrock(dim);
                yield new Instance(r, r.start());
            }
            case "quadratic" -> new Instance(new Quadratic(dim, 1e-2, 1e2, negative, 7), new double[dim]);
            case "logistic" -> new Instance(new Logistic(10 * dim, dim, 1e-3, 11), new double[dim]);
            default -> throw new IllegalArgumentException("problem = '" + name + "'; must be one of " + NAMES);
        };
    }
}
