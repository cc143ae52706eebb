package org.adanewton.subproblem;

/**
 * Small dense problems on a symmetric tridiagonal T (diagonal d, off-diagonal e, e[i] between rows
 * i and i+1), solved through T's eigen-decomposition T = Z diag(lambda) Z' (implicit QL):
 * <ul>
 * <li>{@link #trustRegion}: min c'h + 1/2 h'Th s.t. ||h|| &lt;= delta (More-Sorensen optimality:
 *     (T + mu I) h = -c, T + mu I psd, mu >= 0, mu (||h|| - delta) = 0), hard case included;</li>
 * <li>{@link #cubic}: min c'h + 1/2 h'Th + sigma/3 ||h||^3 ((T + mu I) h = -c with mu = sigma ||h||,
 *     T + mu I psd; Cartis, Gould, Toint 2011), hard case included.</li>
 * </ul>
 * With w = Z'c, ||h(mu)||^2 = sum w_i^2 / (lambda_i + mu)^2, and the secular equations are solved
 * by Newton's method on 1/||h(mu)||, safeguarded by bisection. k is at most a few hundred here.
 *
 * <p>Thread safety: stateless: safe to use from any thread.
 */
public final class TridiagonalSolvers {
    private static final double ROOT_RTOL = 1e-13;
    private static final int MAX_ROOT_ITERATIONS = 300;

    private TridiagonalSolvers() {}

    /** Solution h, multiplier mu, model value m(h) and whether the hard case occurred. */
    public record Solution(double[] h, double mu, double modelValue, boolean hardCase) {
        public double norm() {
            double s = 0;
            for (double v : h) s += v * v;
            return Math.sqrt(s);
        }
    }

    /** Eigenvalues (ascending) and eigenvectors (columns of z[row][col]) of the tridiagonal (d, e). */
    public record Eigen(double[] values, double[][] vectors) {}

    /** Eigen-decomposition by the implicit QL algorithm with Wilkinson shifts. */
    public static Eigen eigen(double[] diagonal, double[] offDiagonal) {
        int n = diagonal.length;
        if (offDiagonal.length < Math.max(0, n - 1))
            throw new IllegalArgumentException("off-diagonal has length " + offDiagonal.length + "; need " + (n - 1));
        double[] d = diagonal.clone();
        double[] e = new double[n];
        for (int i = 0; i + 1 < n; i++) e[i] = offDiagonal[i];
        double[][] z = new double[n][n];
        for (int i = 0; i < n; i++) z[i][i] = 1.0;
        for (int l = 0; l < n; l++) {
            int iter = 0;
            int m;
            do {
                for (m = l; m < n - 1; m++) {
                    double dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
                    if (Math.abs(e[m]) <= 1e-16 * dd) break;
                }
                if (m != l) {
                    if (iter++ == 60) throw new ArithmeticException("tridiagonal eigen-decomposition did not converge");
                    double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                    double r = Math.hypot(g, 1.0);
                    g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                    double s = 1.0, c = 1.0, p = 0.0;
                    int i;
                    for (i = m - 1; i >= l; i--) {
                        double f = s * e[i], b = c * e[i];
                        r = Math.hypot(f, g);
                        e[i + 1] = r;
                        if (r == 0.0) {
                            d[i + 1] -= p;
                            e[m] = 0.0;
                            break;
                        }
                        s = f / r;
                        c = g / r;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2.0 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                        for (int k = 0; k < n; k++) {
                            f = z[k][i + 1];
                            z[k][i + 1] = s * z[k][i] + c * f;
                            z[k][i] = c * z[k][i] - s * f;
                        }
                    }
                    if (r == 0.0 && i >= l) continue;
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0.0;
                }
            } while (m != l);
        }
        // sort ascending
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(d[a], d[b]));
        double[] values = new double[n];
        double[][] vectors = new double[n][n];
        for (int j = 0; j < n; j++) {
            values[j] = d[order[j]];
            for (int i = 0; i < n; i++) vectors[i][j] = z[i][order[j]];
        }
        return new Eigen(values, vectors);
    }

    /** min c'h + 1/2 h'Th s.t. ||h|| &lt;= delta. */
    public static Solution trustRegion(double[] d, double[] e, double[] c, double delta) {
        if (!(delta > 0)) throw new IllegalArgumentException("delta = " + delta + "; must be > 0");
        Eigen eig = eigen(d, e);
        double[] lam = eig.values();
        double[] w = project(eig, c);
        int n = lam.length;
        double lmin = lam[0];
        double wnorm = norm(w);
        double tiny = 1e-14 * Math.max(1.0, maxAbs(lam));
        // interior Newton step
        if (lmin > tiny) {
            double[] h = solveShifted(eig, w, 0.0, -1);
            if (norm(h) <= delta) return finish(d, e, c, h, 0.0, false, 0.0);
        }
        double lo = Math.max(0.0, -lmin);
        // hard case: c has (almost) no component along the eigenvectors of lambda_min
        double along = 0;
        int first = 0;
        while (first < n && lam[first] - lmin <= tiny) along += w[first] * w[first++];
        if (Math.sqrt(along) <= 1e-12 * Math.max(wnorm, 1e-300) && lmin <= tiny) {
            double[] h = hardCase(eig, w, first, lmin, delta);
            if (h != null) return finish(d, e, c, h, -lmin, true, 0.0);
        }
        double hi = Math.max(lo, wnorm / delta - lmin) + tiny + 1e-300;
        double mu = secular(eig, w, lo, hi, 0.0, delta);
        double[] h = solveShifted(eig, w, mu, -1);
        alongFirstEigenvector(eig, h, delta, mu, d, e, c);
        return finish(d, e, c, h, mu, false, 0.0);
    }

    /** min c'h + 1/2 h'Th + sigma/3 ||h||^3. */
    public static Solution cubic(double[] d, double[] e, double[] c, double sigma) {
        if (!(sigma > 0)) throw new IllegalArgumentException("sigma = " + sigma + "; must be > 0");
        Eigen eig = eigen(d, e);
        double[] lam = eig.values();
        double[] w = project(eig, c);
        int n = lam.length;
        double lmin = lam[0];
        double wnorm = norm(w);
        double tiny = 1e-14 * Math.max(1.0, maxAbs(lam));
        double lo = Math.max(0.0, -lmin);
        double along = 0;
        int first = 0;
        while (first < n && lam[first] - lmin <= tiny) along += w[first] * w[first++];
        if (Math.sqrt(along) <= 1e-12 * Math.max(wnorm, 1e-300)) {
            if (lmin >= -tiny && wnorm == 0) return finish(d, e, c, new double[n], 0.0, false, sigma);
            if (lmin < -tiny) {
                double[] h = hardCase(eig, w, first, lmin, -lmin / sigma);
                if (h != null) return finish(d, e, c, h, -lmin, true, sigma);
            }
        }
        // ||h(mu)|| <= wnorm / (lmin + mu) <= mu / sigma once mu (mu + lmin) >= sigma wnorm
        double hi = Math.max(lo, 0.5 * (-lmin + Math.sqrt(lmin * lmin + 4 * sigma * wnorm))) + tiny + 1e-300;
        double mu = secular(eig, w, lo, hi, sigma, 0.0);
        double[] h = solveShifted(eig, w, mu, -1);
        alongFirstEigenvector(eig, h, mu / sigma, mu, d, e, c);
        return finish(d, e, c, h, mu, false, sigma);
    }

    /**
     * The hard case at mu = -lambda_min: the solution without the first `first` eigen-directions, plus
     * the multiple of z_1 that brings its norm to target; null when that part is already longer.
     */
    private static double[] hardCase(Eigen eig, double[] w, int first, double lmin, double target) {
        double[] h = solveShifted(eig, w, -lmin, first);
        double np = norm(h);
        if (np > target) return null;
        double tau = Math.sqrt(Math.max(0.0, target * target - np * np));
        for (int i = 0; i < h.length; i++) h[i] += tau * eig.vectors()[i][0];
        return h;
    }

    /**
     * Root on (lo, hi] of phi(mu) = 1/||h(mu)|| - t(mu), increasing in mu, with t = 1/delta (trust
     * region, sigma = 0) or t = sigma/mu (cubic): safeguarded Newton with bisection.
     */
    private static double secular(Eigen eig, double[] w, double lo, double hi, double sigma, double delta) {
        double[] lam = eig.values();
        double a = lo, b = hi;
        double mu = hi;
        for (int it = 0; it < MAX_ROOT_ITERATIONS; it++) {
            double s2 = 0, s3 = 0;
            boolean pole = false;
            for (int i = 0; i < lam.length; i++) {
                double den = lam[i] + mu;
                if (den <= 0) {
                    pole = true;
                    break;
                }
                s2 += w[i] * w[i] / (den * den);
                s3 += w[i] * w[i] / (den * den * den);
            }
            if (pole) {
                a = mu;
                mu = 0.5 * (a + b);
                continue;
            }
            double hn = Math.sqrt(s2);
            double phi = 1.0 / hn - (sigma > 0 ? sigma / mu : 1.0 / delta);
            if (Math.abs(phi) <= ROOT_RTOL / hn || b - a <= 4 * Math.ulp(mu)) return mu;
            if (phi < 0) a = mu;
            else b = mu;
            double dphi = s3 / (hn * hn * hn) + (sigma > 0 ? sigma / (mu * mu) : 0.0);
            double next = mu - phi / dphi;
            mu = next > a && next < b ? next : 0.5 * (a + b);
        }
        return mu;
    }

    /**
     * The nearly-hard case: when mu sits within rounding of -lambda_min, ||h(mu)|| cannot be resolved
     * to full precision by mu alone. Moving h along z_1 (whose residual term (lambda_1 + mu) tau z_1
     * is negligible there) to ||h|| = target restores it; of the two roots the smaller model wins.
     */
    private static void alongFirstEigenvector(Eigen eig, double[] h, double target, double mu, double[] d, double[] e, double[] c) {
        double norm = norm(h);
        if (Math.abs(norm - target) <= 1e-14 * target) return;
        int n = h.length;
        double hz = 0;
        for (int i = 0; i < n; i++) hz += h[i] * eig.vectors()[i][0];
        double disc = hz * hz - (norm * norm - target * target);
        if (disc < 0) return;
        double root = Math.sqrt(disc);
        double best = Double.NaN, bestModel = Double.POSITIVE_INFINITY;
        for (double tau : new double[] {-hz + root, -hz - root}) {
            // only a rounding-sized correction whose residual (lambda_1 + mu) tau stays negligible
            if (Math.abs(tau) > 1e-3 * Math.max(target, 1e-300) || Math.abs((eig.values()[0] + mu) * tau) > 1e-11 * (1 + norm(c))) continue;
            double[] trial = h.clone();
            for (int i = 0; i < n; i++) trial[i] += tau * eig.vectors()[i][0];
            double m = finish(d, e, c, trial, 0, false, 0).modelValue();
            if (m < bestModel) {
                bestModel = m;
                best = tau;
            }
        }
        if (Double.isNaN(best)) return;
        for (int i = 0; i < n; i++) h[i] += best * eig.vectors()[i][0];
    }

    private static double[] project(Eigen eig, double[] c) {
        int n = c.length;
        double[] w = new double[n];
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += eig.vectors()[i][j] * c[i];
            w[j] = s;
        }
        return w;
    }

    /** h = -Z (Lambda + mu)^-1 w, skipping the first `skip` eigenpairs when skip >= 0. */
    private static double[] solveShifted(Eigen eig, double[] w, double mu, int skip) {
        int n = w.length;
        double[] coef = new double[n];
        for (int j = Math.max(0, skip); j < n; j++) {
            double den = eig.values()[j] + mu;
            coef[j] = den == 0 ? 0 : -w[j] / den;
        }
        double[] h = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += eig.vectors()[i][j] * coef[j];
            h[i] = s;
        }
        return h;
    }

    private static Solution finish(double[] d, double[] e, double[] c, double[] h, double mu, boolean hard, double sigma) {
        double m = 0;
        for (int i = 0; i < h.length; i++) {
            double th = d[i] * h[i];
            if (i > 0) th += e[i - 1] * h[i - 1];
            if (i + 1 < h.length) th += e[i] * h[i + 1];
            m += c[i] * h[i] + 0.5 * h[i] * th;
        }
        if (sigma > 0) {
            double n = norm(h);
            m += sigma / 3.0 * n * n * n;
        }
        return new Solution(h, mu, m, hard);
    }

    static double norm(double[] x) {
        double s = 0;
        for (double v : x) s += v * v;
        return Math.sqrt(s);
    }

    private static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        return m;
    }
}
