// The tridiagonal trust-region and cubic subproblems, in double: the C++ twin of
// java/org/adanewton/subproblem/TridiagonalSolvers.java (same algorithm, same constants; the tests
// compare the native Lanczos solves with the Java ones).
#ifndef ADANEWTON_TRIDIAGONAL_H
#define ADANEWTON_TRIDIAGONAL_H

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace an {

// sqrt(a^2 + b^2) without overflow or underflow. Not std::hypot: glibc 2.35 gave hypot a new symbol
// version, which would keep the library off glibc 2.34 systems (RHEL 9, Amazon Linux 2023).
inline double pythag(double a, double b) {
    a = std::fabs(a);
    b = std::fabs(b);
    if (std::isinf(a) || std::isinf(b)) return INFINITY;
    if (std::isnan(a) || std::isnan(b)) return NAN;
    const double big = std::max(a, b), small = std::min(a, b);
    if (big == 0.0) return 0.0;
    const double t = small / big;
    return big * std::sqrt(1.0 + t * t);
}

struct TriSolution {
    std::vector<double> h;
    double mu = 0, model = 0;
    bool hard = false;
};

class Tridiagonal {
    // the secular equation's root: relative tolerance and iteration limit (TridiagonalSolvers.java's twins)
    static constexpr double ROOT_RTOL = 1e-13;
    static constexpr int MAX_ROOT_ITERATIONS = 300;

public:
    // Eigen-decomposition by implicit QL (ascending values; z column-major: z[row + n * col]).
    static void eigen(const std::vector<double>& diag, const std::vector<double>& off, std::vector<double>& values, std::vector<double>& z) {
        const int n = static_cast<int>(diag.size());
        std::vector<double> d(diag), e(n, 0.0);
        for (int i = 0; i + 1 < n; ++i) e[i] = off[i];
        std::vector<double> zz(static_cast<size_t>(n) * n, 0.0);
        for (int i = 0; i < n; ++i) zz[i + n * i] = 1.0;
        for (int l = 0; l < n; ++l) {
            int iter = 0, m;
            do {
                for (m = l; m < n - 1; ++m) {
                    const double dd = std::fabs(d[m]) + std::fabs(d[m + 1]);
                    if (std::fabs(e[m]) <= 1e-16 * dd) break;
                }
                if (m != l) {
                    if (iter++ == 60) throw std::runtime_error("tridiagonal eigen-decomposition did not converge");
                    double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                    double r = pythag(g, 1.0);
                    g = d[m] - d[l] + e[l] / (g + std::copysign(r, g));
                    double s = 1.0, c = 1.0, p = 0.0;
                    int i;
                    bool early = false;
                    for (i = m - 1; i >= l; --i) {
                        double f = s * e[i], b = c * e[i];
                        r = pythag(f, g);
                        e[i + 1] = r;
                        if (r == 0.0) {
                            d[i + 1] -= p;
                            e[m] = 0.0;
                            early = true;
                            break;
                        }
                        s = f / r;
                        c = g / r;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2.0 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                        for (int k = 0; k < n; ++k) {
                            f = zz[k + n * (i + 1)];
                            zz[k + n * (i + 1)] = s * zz[k + n * i] + c * f;
                            zz[k + n * i] = c * zz[k + n * i] - s * f;
                        }
                    }
                    if (early && i >= l) continue;
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0.0;
                }
            } while (m != l);
        }
        std::vector<int> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return d[a] < d[b]; });
        values.assign(n, 0.0);
        z.assign(static_cast<size_t>(n) * n, 0.0);
        for (int j = 0; j < n; ++j) {
            values[j] = d[order[j]];
            for (int i = 0; i < n; ++i) z[i + n * j] = zz[i + n * order[j]];
        }
    }

    // min c'h + 1/2 h'Th (+ sigma/3 ||h||^3 when sigma > 0) s.t. ||h|| <= delta (trust region, sigma = 0).
    static TriSolution solve(const std::vector<double>& d, const std::vector<double>& e, const std::vector<double>& c, double delta, double sigma) {
        const int n = static_cast<int>(d.size());
        std::vector<double> lam, z;
        eigen(d, e, lam, z);
        std::vector<double> w(n, 0.0);
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < n; ++i) w[j] += z[i + n * j] * c[i];
        const double lmin = lam[0], wnorm = norm(w);
        double maxabs = 0;
        for (double v : lam) maxabs = std::max(maxabs, std::fabs(v));
        const double tiny = 1e-14 * std::max(1.0, maxabs);
        const bool cubic = sigma > 0;
        const double lo = std::max(0.0, -lmin);
        double along = 0;
        int first = 0;
        while (first < n && lam[first] - lmin <= tiny) {
            along += w[first] * w[first];
            ++first;
        }
        const bool orthogonal = std::sqrt(along) <= 1e-12 * std::max(wnorm, 1e-300);
        if (!cubic) {
            if (lmin > tiny) {
                std::vector<double> h = shifted(lam, z, w, 0.0, -1);
                if (norm(h) <= delta) return finish(d, e, c, h, 0.0, false, 0.0);
            }
            if (orthogonal && lmin <= tiny) {
                std::vector<double> h;
                if (hard_case(lam, z, w, first, lmin, delta, h)) return finish(d, e, c, h, -lmin, true, 0.0);
            }
            const double hi = std::max(lo, wnorm / delta - lmin) + tiny + 1e-300;
            const double mu = secular(lam, w, lo, hi, 0.0, delta);
            std::vector<double> h = shifted(lam, z, w, mu, -1);
            correct(lam, z, h, delta, mu, d, e, c);
            return finish(d, e, c, h, mu, false, 0.0);
        }
        if (orthogonal) {
            if (lmin >= -tiny && wnorm == 0) return finish(d, e, c, std::vector<double>(n, 0.0), 0.0, false, sigma);
            if (lmin < -tiny) {
                std::vector<double> h;
                if (hard_case(lam, z, w, first, lmin, -lmin / sigma, h)) return finish(d, e, c, h, -lmin, true, sigma);
            }
        }
        const double hi = std::max(lo, 0.5 * (-lmin + std::sqrt(lmin * lmin + 4 * sigma * wnorm))) + tiny + 1e-300;
        const double mu = secular(lam, w, lo, hi, sigma, 0.0);
        std::vector<double> h = shifted(lam, z, w, mu, -1);
        correct(lam, z, h, mu / sigma, mu, d, e, c);
        return finish(d, e, c, h, mu, false, sigma);
    }

    static double norm(const std::vector<double>& x) {
        double s = 0;
        for (double v : x) s += v * v;
        return std::sqrt(s);
    }

private:
    // The hard case at mu = -lambda_min (see TridiagonalSolvers.hardCase): false when the part
    // without the first eigen-directions is already longer than target.
    static bool hard_case(const std::vector<double>& lam, const std::vector<double>& z, const std::vector<double>& w, int first, double lmin,
                          double target, std::vector<double>& h) {
        h = shifted(lam, z, w, -lmin, first);
        const double np = norm(h);
        if (np > target) return false;
        const double tau = std::sqrt(std::max(0.0, target * target - np * np));
        for (size_t i = 0; i < h.size(); ++i) h[i] += tau * z[i];
        return true;
    }

    static double secular(const std::vector<double>& lam, const std::vector<double>& w, double lo, double hi, double sigma, double delta) {
        double a = lo, b = hi, mu = hi;
        for (int it = 0; it < MAX_ROOT_ITERATIONS; ++it) {
            double s2 = 0, s3 = 0;
            bool pole = false;
            for (size_t i = 0; i < lam.size(); ++i) {
                const double den = lam[i] + mu;
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
            const double hn = std::sqrt(s2);
            const double phi = 1.0 / hn - (sigma > 0 ? sigma / mu : 1.0 / delta);
            if (std::fabs(phi) <= ROOT_RTOL / hn || b - a <= 4 * ulp(mu)) return mu;
            if (phi < 0) a = mu;
            else b = mu;
            const double dphi = s3 / (hn * hn * hn) + (sigma > 0 ? sigma / (mu * mu) : 0.0);
            const double next = mu - phi / dphi;
            mu = next > a && next < b ? next : 0.5 * (a + b);
        }
        return mu;
    }

    static double ulp(double x) { return std::nextafter(std::fabs(x), INFINITY) - std::fabs(x); }

    static std::vector<double> shifted(const std::vector<double>& lam, const std::vector<double>& z, const std::vector<double>& w, double mu, int skip) {
        const int n = static_cast<int>(w.size());
        std::vector<double> coef(n, 0.0), h(n, 0.0);
        for (int j = std::max(0, skip); j < n; ++j) {
            const double den = lam[j] + mu;
            coef[j] = den == 0 ? 0 : -w[j] / den;
        }
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < n; ++i) h[i] += z[i + n * j] * coef[j];
        return h;
    }

    static void correct(const std::vector<double>& lam, const std::vector<double>& z, std::vector<double>& h, double target, double mu,
                        const std::vector<double>& d, const std::vector<double>& e, const std::vector<double>& c) {
        const double nh = norm(h);
        if (std::fabs(nh - target) <= 1e-14 * target) return;
        const int n = static_cast<int>(h.size());
        double hz = 0;
        for (int i = 0; i < n; ++i) hz += h[i] * z[i];
        const double disc = hz * hz - (nh * nh - target * target);
        if (disc < 0) return;
        const double root = std::sqrt(disc);
        double best = NAN, bestModel = INFINITY;
        for (double tau : {-hz + root, -hz - root}) {
            if (std::fabs(tau) > 1e-3 * std::max(target, 1e-300) || std::fabs((lam[0] + mu) * tau) > 1e-11 * (1 + norm(c))) continue;
            std::vector<double> trial(h);
            for (int i = 0; i < n; ++i) trial[i] += tau * z[i];
            const double m = finish(d, e, c, trial, 0, false, 0).model;
            if (m < bestModel) {
                bestModel = m;
                best = tau;
            }
        }
        if (std::isnan(best)) return;
        for (int i = 0; i < n; ++i) h[i] += best * z[i];
    }

    static TriSolution finish(const std::vector<double>& d, const std::vector<double>& e, const std::vector<double>& c, std::vector<double> h,
                              double mu, bool hard, double sigma) {
        const size_t n = h.size();
        double m = 0;
        for (size_t i = 0; i < n; ++i) {
            double th = d[i] * h[i];
            if (i > 0) th += e[i - 1] * h[i - 1];
            if (i + 1 < n) th += e[i] * h[i + 1];
            m += c[i] * h[i] + 0.5 * h[i] * th;
        }
        if (sigma > 0) {
            const double nh = norm(h);
            m += sigma / 3.0 * nh * nh * nh;
        }
        TriSolution s;
        s.h = std::move(h);
        s.mu = mu;
        s.model = m;
        s.hard = hard;
        return s;
    }
};

}  // namespace an
#endif
