package org.adanewton.subproblem;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The tridiagonal eigen-solver against dense Jacobi, and the TR/ARC solutions against their optimality conditions. */
class TridiagonalSolversTest {
    private static final double KKT_TOL = 1e-9;

    private static double[][] dense(double[] d, double[] e) {
        int n = d.length;
        double[][] t = new double[n][n];
        for (int i = 0; i < n; i++) {
            t[i][i] = d[i];
            if (i + 1 < n) t[i][i + 1] = t[i + 1][i] = e[i];
        }
        return t;
    }

    /** Cyclic Jacobi eigenvalues of a dense symmetric matrix (the independent oracle). */
    private static double[] jacobiEigenvalues(double[][] a0) {
        int n = a0.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = a0[i].clone();
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (Math.abs(a[p][q]) < 1e-300) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                }
            }
        }
        double[] ev = new double[n];
        for (int i = 0; i < n; i++) ev[i] = a[i][i];
        java.util.Arrays.sort(ev);
        return ev;
    }

    private static double[][] random(int n, long seed, double shift) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] d = new double[n], e = new double[Math.max(0, n - 1)];
        for (int i = 0; i < n; i++) d[i] = r.nextGaussian() + shift;
        for (int i = 0; i < n - 1; i++) e[i] = r.nextGaussian();
        return new double[][] {d, e};
    }

    @Test
    void eigenMatchesDenseJacobi() {
        for (int n : new int[] {1, 2, 5, 17, 50}) {
            double[][] t = random(n, n, 0);
            TridiagonalSolvers.Eigen eig = TridiagonalSolvers.eigen(t[0], t[1]);
            assertClose("eigenvalues n=" + n, eig.values(), jacobiEigenvalues(dense(t[0], t[1])), 1e-12, 1e-10);
            // T z = lambda z
            double[][] a = dense(t[0], t[1]);
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < n; i++) {
                    double s = 0;
                    for (int k = 0; k < n; k++) s += a[i][k] * eig.vectors()[k][j];
                    assertEquals(eig.values()[j] * eig.vectors()[i][j], s, 1e-10);
                }
            }
        }
    }

    /** (T + mu I) h = -c, mu >= 0, T + mu I psd, and the constraint or the cubic relation. */
    private static void assertOptimal(double[] d, double[] e, double[] c, TridiagonalSolvers.Solution s, double delta, double sigma) {
        double[][] a = dense(d, e);
        int n = d.length;
        double scale = 1 + TridiagonalSolvers.norm(c);
        for (int i = 0; i < n; i++) {
            double r = c[i] + s.mu() * s.h()[i];
            for (int k = 0; k < n; k++) r += a[i][k] * s.h()[k];
            assertEquals(0.0, r, KKT_TOL * scale, "residual of (T + mu I)h + c");
        }
        assertTrue(s.mu() >= 0);
        double lmin = jacobiEigenvalues(a)[0];
        assertTrue(lmin + s.mu() >= -1e-9 * (1 + Math.abs(lmin)), "T + mu I not psd: lmin " + lmin + " mu " + s.mu());
        if (sigma > 0) {
            assertEquals(s.mu(), sigma * s.norm(), 1e-9 * (1 + s.mu()), "mu = sigma ||h||");
        } else {
            assertTrue(s.norm() <= delta * (1 + 1e-10));
            if (s.mu() > 1e-12) assertEquals(delta, s.norm(), 1e-9 * delta, "mu > 0 needs ||h|| = delta");
        }
    }

    @Test
    void trustRegionSolutionsAreOptimal() {
        for (long seed = 1; seed <= 30; seed++) {
            int n = 1 + (int) (seed % 12);
            for (double shift : new double[] {3, 0, -2}) {
                double[][] t = random(n, seed, shift);
                double[] c = new double[n];
                c[0] = 1.0 + seed % 3;
                for (double delta : new double[] {0.01, 0.5, 10}) {
                    TridiagonalSolvers.Solution s = TridiagonalSolvers.trustRegion(t[0], t[1], c, delta);
                    assertOptimal(t[0], t[1], c, s, delta, 0);
                }
            }
        }
    }

    @Test
    void trustRegionHardCase() {
        // T = diag(-1, 2, 3) with c orthogonal to the eigenvector of -1: the hard case
        double[] d = {-1, 2, 3}, e = {0, 0}, c = {0, 1, 1};
        TridiagonalSolvers.Solution s = TridiagonalSolvers.trustRegion(d, e, c, 2.0);
        assertTrue(s.hardCase());
        assertEquals(1.0, s.mu(), 1e-12);
        assertEquals(2.0, s.norm(), 1e-12);
        assertOptimal(d, e, c, s, 2.0, 0);
    }

    @Test
    void cubicSolutionsAreOptimal() {
        for (long seed = 1; seed <= 30; seed++) {
            int n = 1 + (int) (seed % 12);
            for (double shift : new double[] {3, 0, -2}) {
                double[][] t = random(n, seed + 100, shift);
                double[] c = new double[n];
                c[0] = 0.5 + seed % 4;
                for (double sigma : new double[] {0.01, 1, 100}) {
                    TridiagonalSolvers.Solution s = TridiagonalSolvers.cubic(t[0], t[1], c, sigma);
                    assertOptimal(t[0], t[1], c, s, 0, sigma);
                }
            }
        }
    }

    @Test
    void cubicHardCaseAndZeroGradient() {
        double[] d = {-2, 1}, e = {0};
        TridiagonalSolvers.Solution s = TridiagonalSolvers.cubic(d, e, new double[] {0, 0.1}, 1.0);
        assertTrue(s.hardCase());
        assertEquals(2.0, s.mu(), 1e-12);
        assertOptimal(d, e, new double[] {0, 0.1}, s, 0, 1.0);
        TridiagonalSolvers.Solution zero = TridiagonalSolvers.cubic(new double[] {1, 2}, e, new double[] {0, 0}, 1.0);
        assertEquals(0.0, zero.norm());
    }

    @Test
    void solutionBeatsRandomFeasiblePoints() {
        SplittableRandom r = new SplittableRandom(5);
        double[][] t = random(6, 77, -0.5);
        double[] c = {1, 0, 0, 0, 0, 0};
        TridiagonalSolvers.Solution s = TridiagonalSolvers.trustRegion(t[0], t[1], c, 1.0);
        double[][] a = dense(t[0], t[1]);
        for (int k = 0; k < 2000; k++) {
            double[] h = new double[6];
            for (int i = 0; i < 6; i++) h[i] = r.nextGaussian();
            double nh = TridiagonalSolvers.norm(h), rad = Math.pow(r.nextDouble(), 1.0 / 6);
            for (int i = 0; i < 6; i++) h[i] *= rad / nh;
            double m = 0;
            for (int i = 0; i < 6; i++) {
                m += c[i] * h[i];
                for (int j = 0; j < 6; j++) m += 0.5 * h[i] * a[i][j] * h[j];
            }
            assertTrue(s.modelValue() <= m + 1e-12, "random point beats the solution: " + m + " < " + s.modelValue());
        }
    }
}
