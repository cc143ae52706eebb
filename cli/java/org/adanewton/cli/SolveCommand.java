package org.adanewton.cli;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.adanewton.api.Summary;
import org.adanewton.backend.Vector;
import org.adanewton.minimizer.Method;
import org.adanewton.minimizer.Minimizer;
import org.adanewton.minimizer.MinimizerOptions;
import org.adanewton.minimizer.ObjectiveProblem;
import org.adanewton.norm.NormKind;
import org.adanewton.problems.TestProblems;
import org.adanewton.subproblem.KrylovOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Runs a built-in deterministic problem with a chosen method and norm, in double. */
@Command(name = "solve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Minimize a built-in test problem (rosenbrock, chained-rosenbrock, quadratic, logistic) in double.")
final class SolveCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "Problem: ${COMPLETION-CANDIDATES}.", completionCandidates = ProblemNames.class)
    String problem;

    @Option(names = "--method", defaultValue = "tr-steihaug", description = "tr-steihaug, tr-gltr, tr-cauchy, arc, arc-cauchy (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--norm", defaultValue = "uniform", description = "uniform, adagrad, rmsprop, adam (default: ${DEFAULT-VALUE}).")
    String norm;

    @Option(names = "--dim", defaultValue = "100", description = "Dimension of chained-rosenbrock, quadratic, logistic (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--negative", defaultValue = "0", description = "Negative eigenvalues of the quadratic (default: ${DEFAULT-VALUE}).")
    int negative;

    @Option(names = "--gtol", defaultValue = "1e-8", description = "Stop when ||g|| <= gtol (default: ${DEFAULT-VALUE}).")
    double gtol;

    @Option(names = "--max-iterations", defaultValue = "10000", description = "Outer iteration limit (default: ${DEFAULT-VALUE}).")
    int maxIterations;

    @Option(names = "--max-krylov", defaultValue = "0", description = "Krylov iterations per step (default: the dimension, at most 500).")
    int maxKrylov;

    @Option(names = "--krylov-rule", defaultValue = "residual", description = "residual or model-decrease (default: ${DEFAULT-VALUE}).")
    String krylovRule;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    static final class ProblemNames extends java.util.ArrayList<String> {
        private static final long serialVersionUID = 1L;

        ProblemNames() {
            super(TestProblems.NAMES);
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(new CommandLine(this), message);
    }

    @Override
    public Integer call() {
        if (!TestProblems.NAMES.contains(problem)) throw usage("problem = '" + problem + "'; must be one of " + TestProblems.NAMES);
        Method m;
        NormKind nk;
        KrylovOptions.StoppingRule rule;
        TestProblems.Instance instance;
        MinimizerOptions options;
        try {
            m = Method.parse(method);
            nk = NormKind.parse(norm);
            rule = KrylovOptions.StoppingRule.parse(krylovRule);
            if (dim < 2) throw new IllegalArgumentException("--dim = " + dim + "; must be >= 2");
            // the problem's data and the minimizer's and solver's vectors (about 24 of the dimension); logistic holds 10 dim x dim samples
            long bytes = 8L * dim * (problem.equals("logistic") ? 10L * dim + 24 : 24);
            String shortfall = org.adanewton.data.HeapBudget.shortfall(bytes);
            if (shortfall != null) throw new IllegalArgumentException("--dim = " + dim + ": " + problem + " at this dimension " + shortfall);
            if (maxKrylov < 0) throw new IllegalArgumentException("--max-krylov = " + maxKrylov + "; must be >= 0 (0: the dimension, at most 500)");
            instance = TestProblems.create(problem, dim, negative);
            int n = instance.objective().dimension();
            int krylov = maxKrylov > 0 ? maxKrylov : Math.min(Math.max(n, 2), 500);
            options = MinimizerOptions.builder().method(m).norm(nk).gradientTolerance(gtol).maxIterations(maxIterations)
                    .krylov(KrylovOptions.builder().maxIterations(krylov).tolerance(0.1).rule(rule).build()).keepHistory(false).build();
        } catch (IllegalArgumentException e) {
            throw usage(TrainOptions.withFlags(e.getMessage(), Map.of("gradientTolerance", "--gtol", "maxIterations", "--max-iterations",
                    "negative", "--negative", "rule", "--krylov-rule")));
        }
        try (ObjectiveProblem p = new ObjectiveProblem(instance.objective()); Vector x = p.backend().vector(instance.start());
                Minimizer minimizer = new Minimizer(p, options, x)) {
            Summary s = minimizer.run();
            if (json) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("problem", problem);
                row.put("method", m.cliName);
                row.put("norm", nk.name().toLowerCase(Locale.ROOT));
                row.put("dim", instance.objective().dimension());
                row.put("iterations", s.iterations());
                row.put("gradients", s.gradients());
                row.put("hvps", s.products());
                row.put("f", s.finalValue());
                row.put("grad_norm", s.finalGradientNorm());
                row.put("termination", s.termination().name());
                row.put("message", s.message());
                System.out.println(BenchCommand.toJson(row));
            } else {
                System.out.printf(Locale.ROOT, "%s (n = %d), %s, %s norm%n%s%n", problem, instance.objective().dimension(), m.cliName,
                        nk.name().toLowerCase(Locale.ROOT), s.report());
            }
            return s.isSuccess() ? 0 : 1;
        }
    }
}
