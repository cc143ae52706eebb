package org.adanewton.backend.java;

import java.util.List;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Activation;
import org.adanewton.nn.Batch;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Network.Dense;
import org.adanewton.nn.NetworkModel;
import org.adanewton.nn.Regularization;

/**
 * The reference implementation of a network's loss, gradient, Hessian-vector product (R-operator)
 * and Gauss-Newton product, in double, written plainly from the textbook formulas:
 * <pre>
 * forward      z = W x + b,  a = phi(z)
 * backward     gz = phi'(z) ga,  dW = gz x',  db = gz,  gx = W' gz
 * R-forward    Rz = W Rx + V x + vb,  Ra = phi'(z) Rz
 * R-backward   R(gz) = phi''(z) Rz ga + phi'(z) R(ga),  R(dW) = R(gz) x' + gz Rx',
 *              R(db) = R(gz),  R(gx) = W' R(gz) + V' gz
 * Gauss-Newton backward of H_loss Ra_L with phi' only.
 * </pre>
 * Per-sample loops over row vectors; no attempt at speed.
 */
final class JavaNetworkModel extends NetworkModel {
    private final List<Dense> layers;
    // cached state of the last gradient/hvp: per layer (rows x width) z, a, ga
    private double[][][] z, a, ga;
    private double[][] probs;

    JavaNetworkModel(JavaBackend backend, Network network, int maxBatch) {
        super(backend, network, maxBatch);
        this.layers = network.layers();
    }

    private static double[] in(JavaBatch b, int i, int dim) {
        double[] x = new double[dim];
        System.arraycopy(b.inputs, i * dim, x, 0, dim);
        return x;
    }

    private double[] layerInput(int l, int i, JavaBatch b) {
        return l == 0 ? in(b, i, network().inputDim()) : a[l - 1][i];
    }

    private void forwardPass(double[] w, JavaBatch b) {
        int rows = b.rows(), n = layers.size();
        z = new double[n][rows][];
        a = new double[n][rows][];
        for (int l = 0; l < n; l++) {
            Dense d = layers.get(l);
            for (int i = 0; i < rows; i++) {
                double[] x = layerInput(l, i, b);
                double[] zi = new double[d.out()], ai = new double[d.out()];
                for (int j = 0; j < d.out(); j++) {
                    double s = w[d.biasOffset() + j];
                    for (int k = 0; k < d.in(); k++) s += w[d.weightOffset() + j * d.in() + k] * x[k];
                    zi[j] = s;
                    ai[j] = d.activation().value(s);
                }
                z[l][i] = zi;
                a[l][i] = ai;
            }
        }
    }

    /** Data loss (no regularization) at the last forward pass; fills probs for cross-entropy. */
    private double dataLoss(JavaBatch b) {
        int rows = b.rows(), last = layers.size() - 1, d = network().outputDim();
        double total = 0;
        if (network().loss() == Loss.SOFTMAX_CROSS_ENTROPY) {
            probs = new double[rows][d];
            for (int i = 0; i < rows; i++) {
                double[] o = a[last][i];
                double max = Double.NEGATIVE_INFINITY;
                for (double v : o) max = Math.max(max, v);
                double s = 0;
                for (double v : o) s += Math.exp(v - max);
                for (int j = 0; j < d; j++) probs[i][j] = Math.exp(o[j] - max) / s;
                total += Math.log(s) + max - o[b.labels[i]];
            }
            return total / rows;
        }
        if (network().loss() == Loss.BINARY_CROSS_ENTROPY) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < d; j++) {
                    double z = a[last][i][j];
                    total += Activation.SOFTPLUS.value(z) - b.targets[i * d + j] * z;
                }
            }
            return total / rows;
        }
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < d; j++) {
                double e = a[last][i][j] - b.targets[i * d + j];
                total += e * e;
            }
        }
        return total / squaredDenominator(rows);
    }

    private double squaredDenominator(int rows) {
        return network().loss() == Loss.SQUARED_ERROR_MEAN ? (double) rows * network().outputDim() : rows;
    }

    /** dL/da of the network output. */
    private double[][] outputGradient(JavaBatch b) {
        int rows = b.rows(), last = layers.size() - 1, d = network().outputDim();
        double[][] g = new double[rows][d];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < d; j++) {
                if (network().loss() == Loss.SOFTMAX_CROSS_ENTROPY) {
                    g[i][j] = (probs[i][j] - (j == b.labels[i] ? 1 : 0)) / rows;
                } else if (network().loss() == Loss.BINARY_CROSS_ENTROPY) {
                    g[i][j] = (Activation.SIGMOID.value(a[last][i][j]) - b.targets[i * d + j]) / rows;
                } else {
                    g[i][j] = 2 * (a[last][i][j] - b.targets[i * d + j]) / squaredDenominator(rows);
                }
            }
        }
        return g;
    }

    /** H_loss r for the loss on the network output (r: rows x d). */
    private double[][] lossHessianTimes(double[][] r, int rows) {
        int d = network().outputDim();
        double[][] outputs = a[layers.size() - 1];
        double[][] out = new double[rows][d];
        for (int i = 0; i < rows; i++) {
            if (network().loss() == Loss.SOFTMAX_CROSS_ENTROPY) {
                double pr = 0;
                for (int j = 0; j < d; j++) pr += probs[i][j] * r[i][j];
                for (int j = 0; j < d; j++) out[i][j] = probs[i][j] * (r[i][j] - pr) / rows;
            } else if (network().loss() == Loss.BINARY_CROSS_ENTROPY) {
                for (int j = 0; j < d; j++) out[i][j] = Activation.SIGMOID.derivative(outputs[i][j]) * r[i][j] / rows;
            } else {
                for (int j = 0; j < d; j++) out[i][j] = 2 * r[i][j] / squaredDenominator(rows);
            }
        }
        return out;
    }

    /** Backward pass from dL/da of the output; stores ga per layer; writes dL/dw into grad if non-null. */
    private void backwardPass(double[] w, JavaBatch b, double[][] gOut, double[] grad) {
        int n = layers.size(), rows = b.rows();
        ga = new double[n][][];
        ga[n - 1] = gOut;
        for (int l = n - 1; l >= 0; l--) {
            Dense d = layers.get(l);
            if (l > 0) ga[l - 1] = new double[rows][d.in()];
            for (int i = 0; i < rows; i++) {
                double[] x = layerInput(l, i, b);
                for (int j = 0; j < d.out(); j++) {
                    double gz = d.activation().derivative(z[l][i][j]) * ga[l][i][j];
                    if (grad != null) {
                        grad[d.biasOffset() + j] += gz;
                        for (int k = 0; k < d.in(); k++) grad[d.weightOffset() + j * d.in() + k] += gz * x[k];
                    }
                    if (l > 0) {
                        for (int k = 0; k < d.in(); k++) ga[l - 1][i][k] += w[d.weightOffset() + j * d.in() + k] * gz;
                    }
                }
            }
        }
    }

    /** R-forward: Ra of every layer for direction v. */
    private double[][][] rForward(double[] w, double[] v, JavaBatch b, double[][][] rz) {
        int n = layers.size(), rows = b.rows();
        double[][][] ra = new double[n][rows][];
        for (int l = 0; l < n; l++) {
            Dense d = layers.get(l);
            for (int i = 0; i < rows; i++) {
                double[] x = layerInput(l, i, b);
                double[] rx = l == 0 ? null : ra[l - 1][i];
                double[] rzi = new double[d.out()], rai = new double[d.out()];
                for (int j = 0; j < d.out(); j++) {
                    double s = v[d.biasOffset() + j];
                    for (int k = 0; k < d.in(); k++) {
                        s += v[d.weightOffset() + j * d.in() + k] * x[k];
                        if (rx != null) s += w[d.weightOffset() + j * d.in() + k] * rx[k];
                    }
                    rzi[j] = s;
                    rai[j] = d.activation().derivative(z[l][i][j]) * s;
                }
                rz[l][i] = rzi;
                ra[l][i] = rai;
            }
        }
        return ra;
    }

    /** R-backward from R(ga) of the output; writes R(dL/dw) = H v into out. */
    private void rBackward(double[] w, double[] v, JavaBatch b, double[][][] rz, double[][][] ra, double[][] rgOut, double[] out) {
        int n = layers.size(), rows = b.rows();
        double[][] rga = rgOut;
        for (int l = n - 1; l >= 0; l--) {
            Dense d = layers.get(l);
            double[][] rgaPrev = l > 0 ? new double[rows][d.in()] : null;
            for (int i = 0; i < rows; i++) {
                double[] x = layerInput(l, i, b);
                double[] rx = l == 0 ? null : ra[l - 1][i];
                for (int j = 0; j < d.out(); j++) {
                    double zz = z[l][i][j];
                    double gz = d.activation().derivative(zz) * ga[l][i][j];
                    double rgz = d.activation().secondDerivative(zz) * rz[l][i][j] * ga[l][i][j]
                            + d.activation().derivative(zz) * rga[i][j];
                    out[d.biasOffset() + j] += rgz;
                    for (int k = 0; k < d.in(); k++) {
                        int wi = d.weightOffset() + j * d.in() + k;
                        out[wi] += rgz * x[k] + (rx != null ? gz * rx[k] : 0);
                        if (rgaPrev != null) rgaPrev[i][k] += w[wi] * rgz + v[wi] * gz;
                    }
                }
            }
            rga = rgaPrev;
        }
    }

    private double regularization(double[] w, double[] grad, double[] v, double[] hv) {
        Regularization reg = network().regularization();
        if (!reg.isActive()) return 0;
        double value = 0, lambda = reg.lambda();
        for (Dense d : layers) {
            for (int[] t : new int[][] {{d.weightOffset(), d.in() * d.out()}, {d.biasOffset(), d.out()}}) {
                int off = t[0], len = t[1];
                double sq = 0, wv = 0;
                for (int i = off; i < off + len; i++) {
                    sq += w[i] * w[i];
                    if (v != null) wv += w[i] * v[i];
                }
                double norm = Math.sqrt(sq);
                if (reg.kind() == Regularization.Kind.SQUARED) {
                    value += 0.5 * lambda * sq;
                    for (int i = off; i < off + len; i++) {
                        if (grad != null) grad[i] += lambda * w[i];
                        if (hv != null) hv[i] += lambda * v[i];
                    }
                } else {
                    value += lambda * norm;
                    if (norm == 0) continue;
                    for (int i = off; i < off + len; i++) {
                        if (grad != null) grad[i] += lambda * w[i] / norm;
                        if (hv != null) hv[i] += lambda * (v[i] / norm - w[i] * wv / (norm * norm * norm));
                    }
                }
            }
        }
        return value;
    }

    @Override
    protected double[] doForward(Vector w, Batch batch) {
        JavaBatch b = (JavaBatch) batch;
        forwardPass(JavaBackend.data(w), b);
        int d = network().outputDim(), last = layers.size() - 1;
        double[] out = new double[b.rows() * d];
        for (int i = 0; i < b.rows(); i++) System.arraycopy(a[last][i], 0, out, i * d, d);
        return out;
    }

    @Override
    protected double doLoss(Vector w, Batch batch) {
        JavaBatch b = (JavaBatch) batch;
        double[] wd = JavaBackend.data(w);
        forwardPass(wd, b);
        return dataLoss(b) + regularization(wd, null, null, null);
    }

    @Override
    protected double doGradient(Vector w, Batch batch, Vector grad) {
        JavaBatch b = (JavaBatch) batch;
        double[] wd = JavaBackend.data(w), g = JavaBackend.data(grad);
        java.util.Arrays.fill(g, 0.0);
        forwardPass(wd, b);
        double loss = dataLoss(b);
        backwardPass(wd, b, outputGradient(b), g);
        return loss + regularization(wd, g, null, null);
    }

    @Override
    protected double doHvp(Vector w, Batch batch, Vector v, Vector out) {
        JavaBatch b = (JavaBatch) batch;
        double[] wd = JavaBackend.data(w);
        forwardPass(wd, b);
        double loss = dataLoss(b);
        backwardPass(wd, b, outputGradient(b), null);
        hvpAtCache(wd, b, JavaBackend.data(v), JavaBackend.data(out));
        return loss + regularization(wd, null, null, null);
    }

    @Override
    protected void doHvpCached(Vector v, Vector out) {
        hvpAtCache(JavaBackend.data(cachedW()), (JavaBatch) cachedBatch(), JavaBackend.data(v), JavaBackend.data(out));
    }

    private void hvpAtCache(double[] w, JavaBatch b, double[] v, double[] out) {
        java.util.Arrays.fill(out, 0.0);
        int n = layers.size();
        double[][][] rz = new double[n][b.rows()][];
        double[][][] ra = rForward(w, v, b, rz);
        rBackward(w, v, b, rz, ra, lossHessianTimes(ra[n - 1], b.rows()), out);
        regularization(w, null, v, out);
    }

    @Override
    protected void doGaussNewtonCached(Vector v, Vector out) {
        double[] w = JavaBackend.data(cachedW()), vd = JavaBackend.data(v), o = JavaBackend.data(out);
        JavaBatch b = (JavaBatch) cachedBatch();
        java.util.Arrays.fill(o, 0.0);
        int n = layers.size();
        double[][][] ra = rForward(w, vd, b, new double[n][b.rows()][]);
        // J' (H_loss J v): a plain backward pass of H_loss Ra_L, keeping the cached ga intact
        double[][][] saved = ga;
        backwardPass(w, b, lossHessianTimes(ra[n - 1], b.rows()), o);
        ga = saved;
        regularization(w, null, vd, o);
    }

    @Override
    protected void release() {
        z = a = ga = null;
        probs = null;
    }
}
