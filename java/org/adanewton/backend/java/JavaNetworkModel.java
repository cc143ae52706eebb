package org.adanewton.backend.java;

import java.util.List;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Activation;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network.Conv2d;
import org.adanewton.nn.Network.Dense;
import org.adanewton.nn.Network.Layer;
import org.adanewton.nn.Network.Pool2d;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;

/**
 * The reference implementation of a network's loss, gradient, Hessian-vector product (R-operator)
 * and Gauss-Newton product, in double, per sample, written plainly from the textbook formulas. A
 * dense or conv layer is z = L_W(x) + b, a = phi(z), with L_W linear in W and in x:
 * <pre>
 * backward     gz = phi'(z) ga,  dW = outer(gz, x),  db = sum gz,  gx = L_W^T(gz)
 * R-forward    Rz = L_W(Rx) + L_V(x) + vb,  Ra = phi'(z) Rz
 * R-backward   R(gz) = phi''(z) Rz ga + phi'(z) R(ga),  R(dW) = outer(R(gz), x) + outer(gz, Rx),
 *              R(db) = sum R(gz),  R(gx) = L_W^T(R(gz)) + L_V^T(gz)
 * </pre>
 * Pooling is linear in its input with a fixed pattern (max pooling: the argmax of the forward pass,
 * first maximum in scan order), so its R-forward and backward apply that pattern. Flatten is the
 * identity. Gauss-Newton: backward of H_loss Ra_L with phi' only. No attempt at speed.
 */
final class JavaNetworkModel extends NetworkModel {
    private final List<Layer> layers;
    // cached state of the last gradient/hvp, per layer and sample: z, a, ga, and max-pool argmax
    private double[][][] z, a, ga;
    private int[][][] argmax;
    private double[][] probs;

    JavaNetworkModel(JavaBackend backend, Network network, int maxBatch) {
        super(backend, network, maxBatch);
        this.layers = network.layers();
    }

    // ---- the linear maps of dense and conv layers ----

    /** z = L_W(x) (no bias); W starts at w[off]. */
    private static double[] apply(Layer layer, double[] w, int off, double[] x) {
        double[] z = new double[layer.outputSize()];
        if (layer instanceof Dense d) {
            for (int j = 0; j < d.out(); j++) {
                double s = 0;
                for (int k = 0; k < d.in(); k++) s += w[off + j * d.in() + k] * x[k];
                z[j] = s;
            }
        } else {
            Conv2d c = (Conv2d) layer;
            forEachTap(c, (o, wi, xi) -> z[o] += w[off + wi] * x[xi]);
        }
        return z;
    }

    /** gx += L_W^T(g). */
    private static void applyTransposed(Layer layer, double[] w, int off, double[] g, double[] gx) {
        if (layer instanceof Dense d) {
            for (int j = 0; j < d.out(); j++)
                for (int k = 0; k < d.in(); k++) gx[k] += w[off + j * d.in() + k] * g[j];
        } else {
            forEachTap((Conv2d) layer, (o, wi, xi) -> gx[xi] += w[off + wi] * g[o]);
        }
    }

    /** dW[off..] += outer(g, x): the derivative of g . L_W(x) with respect to W. */
    private static void outer(Layer layer, double[] g, double[] x, double[] dW, int off) {
        if (layer instanceof Dense d) {
            for (int j = 0; j < d.out(); j++)
                for (int k = 0; k < d.in(); k++) dW[off + j * d.in() + k] += g[j] * x[k];
        } else {
            forEachTap((Conv2d) layer, (o, wi, xi) -> dW[off + wi] += g[o] * x[xi]);
        }
    }

    private interface Tap {
        void at(int output, int weight, int input);
    }

    /** Every (output, weight, input) triple of a convolution with zero padding (padded taps skipped). */
    private static void forEachTap(Conv2d c, Tap tap) {
        int oh = c.outHeight(), ow = c.outWidth(), k = c.kernel();
        for (int co = 0; co < c.outChannels(); co++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    for (int ci = 0; ci < c.inChannels(); ci++)
                        for (int i = 0; i < k; i++) {
                            int ih = y * c.stride() - c.padding() + i;
                            if (ih < 0 || ih >= c.inHeight()) continue;
                            for (int j = 0; j < k; j++) {
                                int iw = x * c.stride() - c.padding() + j;
                                if (iw < 0 || iw >= c.inWidth()) continue;
                                tap.at((co * oh + y) * ow + x, ((co * c.inChannels() + ci) * k + i) * k + j, (ci * c.inHeight() + ih) * c.inWidth() + iw);
                            }
                        }
    }

    private static double bias(Layer layer, double[] w, int o) {
        if (layer instanceof Conv2d c) return w[layer.biasOffset() + o / (c.outHeight() * c.outWidth())];
        return w[layer.biasOffset() + o];
    }

    private static void addBiasGradient(Layer layer, double[] g, double[] out) {
        for (int o = 0; o < g.length; o++) {
            int b = layer instanceof Conv2d c ? o / (c.outHeight() * c.outWidth()) : o;
            out[layer.biasOffset() + b] += g[o];
        }
    }

    // ---- pooling ----

    private static double[] pool(Pool2d p, double[] x, int[] argmaxOut) {
        double[] y = new double[p.outputSize()];
        int oh = p.outHeight(), ow = p.outWidth(), k = p.kernel();
        for (int c = 0; c < p.channels(); c++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    double best = Double.NEGATIVE_INFINITY, sum = 0;
                    int where = -1;
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++) {
                            int idx = (c * p.inHeight() + i * p.stride() + u) * p.inWidth() + j * p.stride() + v;
                            sum += x[idx];
                            if (where < 0 || x[idx] > best) { // the first maximum in scan order wins ties
                                best = x[idx];
                                where = idx;
                            }
                        }
                    int o = (c * oh + i) * ow + j;
                    if (p.max()) {
                        y[o] = best;
                        argmaxOut[o] = where;
                    } else {
                        y[o] = sum / (k * k);
                    }
                }
        return y;
    }

    /** y = P x with the fixed pooling pattern (max: the cached argmax). */
    private static double[] poolLinear(Pool2d p, double[] x, int[] arg) {
        if (p.max()) {
            double[] y = new double[p.outputSize()];
            for (int o = 0; o < y.length; o++) y[o] = x[arg[o]];
            return y;
        }
        return pool(p, x, null);
    }

    /** gx += P^T gy. */
    private static void poolTransposed(Pool2d p, double[] gy, int[] arg, double[] gx) {
        if (p.max()) {
            for (int o = 0; o < gy.length; o++) gx[arg[o]] += gy[o];
            return;
        }
        int oh = p.outHeight(), ow = p.outWidth(), k = p.kernel();
        for (int c = 0; c < p.channels(); c++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++)
                            gx[(c * p.inHeight() + i * p.stride() + u) * p.inWidth() + j * p.stride() + v] += gy[(c * oh + i) * ow + j] / (k * k);
    }

    // ---- the passes ----

    private double[] input(JavaBatch b, int i) {
        int dim = network().inputDim();
        double[] x = new double[dim];
        System.arraycopy(b.inputs, i * dim, x, 0, dim);
        return x;
    }

    private double[] layerInput(int l, int i, JavaBatch b) {
        return l == 0 ? input(b, i) : a[l - 1][i];
    }

    private void forwardPass(double[] w, JavaBatch b) {
        int rows = b.rows(), n = layers.size();
        z = new double[n][rows][];
        a = new double[n][rows][];
        argmax = new int[n][rows][];
        for (int l = 0; l < n; l++) {
            Layer layer = layers.get(l);
            for (int i = 0; i < rows; i++) {
                double[] x = layerInput(l, i, b);
                if (layer instanceof Pool2d p) {
                    argmax[l][i] = new int[p.outputSize()];
                    z[l][i] = a[l][i] = pool(p, x, argmax[l][i]);
                } else if (!layer.hasParameters()) { // flatten
                    z[l][i] = a[l][i] = x;
                } else {
                    double[] zi = apply(layer, w, layer.weightOffset(), x), ai = new double[zi.length];
                    for (int o = 0; o < zi.length; o++) {
                        zi[o] += bias(layer, w, o);
                        ai[o] = layer.activation().value(zi[o]);
                    }
                    z[l][i] = zi;
                    a[l][i] = ai;
                }
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
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < d; j++) total += Activation.SOFTPLUS.value(a[last][i][j]) - b.targets[i * d + j] * a[last][i][j];
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
                g[i][j] = switch (network().loss()) {
                    case SOFTMAX_CROSS_ENTROPY -> (probs[i][j] - (j == b.labels[i] ? 1 : 0)) / rows;
                    case BINARY_CROSS_ENTROPY -> (Activation.SIGMOID.value(a[last][i][j]) - b.targets[i * d + j]) / rows;
                    default -> 2 * (a[last][i][j] - b.targets[i * d + j]) / squaredDenominator(rows);
                };
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

    /** Backward pass from dL/da of the output; stores ga per layer; adds dL/dw into grad if non-null. */
    private void backwardPass(double[] w, JavaBatch b, double[][] gOut, double[] grad) {
        int n = layers.size(), rows = b.rows();
        ga = new double[n][][];
        ga[n - 1] = gOut;
        for (int l = n - 1; l >= 0; l--) {
            Layer layer = layers.get(l);
            if (l > 0) ga[l - 1] = new double[rows][layer.inputSize()];
            for (int i = 0; i < rows; i++) {
                if (layer instanceof Pool2d p) {
                    if (l > 0) poolTransposed(p, ga[l][i], argmax[l][i], ga[l - 1][i]);
                    continue;
                }
                if (!layer.hasParameters()) {
                    if (l > 0) System.arraycopy(ga[l][i], 0, ga[l - 1][i], 0, ga[l][i].length);
                    continue;
                }
                double[] gz = new double[layer.outputSize()];
                for (int o = 0; o < gz.length; o++) gz[o] = layer.activation().derivative(z[l][i][o]) * ga[l][i][o];
                if (grad != null) {
                    addBiasGradient(layer, gz, grad);
                    outer(layer, gz, layerInput(l, i, b), grad, layer.weightOffset());
                }
                if (l > 0) applyTransposed(layer, w, layer.weightOffset(), gz, ga[l - 1][i]);
            }
        }
    }

    /** R-forward: Ra of every layer for direction v (rz gets Rz). */
    private double[][][] rForward(double[] w, double[] v, JavaBatch b, double[][][] rz) {
        int n = layers.size(), rows = b.rows();
        double[][][] ra = new double[n][rows][];
        for (int l = 0; l < n; l++) {
            Layer layer = layers.get(l);
            for (int i = 0; i < rows; i++) {
                double[] rx = l == 0 ? new double[layer.inputSize()] : ra[l - 1][i];
                if (layer instanceof Pool2d p) {
                    rz[l][i] = ra[l][i] = poolLinear(p, rx, argmax[l][i]);
                    continue;
                }
                if (!layer.hasParameters()) {
                    rz[l][i] = ra[l][i] = rx;
                    continue;
                }
                double[] r = apply(layer, v, layer.weightOffset(), layerInput(l, i, b));
                if (l > 0) {
                    double[] wr = apply(layer, w, layer.weightOffset(), rx);
                    for (int o = 0; o < r.length; o++) r[o] += wr[o];
                }
                double[] rai = new double[r.length];
                for (int o = 0; o < r.length; o++) {
                    r[o] += bias(layer, v, o);
                    rai[o] = layer.activation().derivative(z[l][i][o]) * r[o];
                }
                rz[l][i] = r;
                ra[l][i] = rai;
            }
        }
        return ra;
    }

    /** R-backward from R(ga) of the output; adds R(dL/dw) = H v into out. */
    private void rBackward(double[] w, double[] v, JavaBatch b, double[][][] rz, double[][][] ra, double[][] rgOut, double[] out) {
        int n = layers.size(), rows = b.rows();
        double[][] rga = rgOut;
        for (int l = n - 1; l >= 0; l--) {
            Layer layer = layers.get(l);
            double[][] prev = l > 0 ? new double[rows][layer.inputSize()] : null;
            for (int i = 0; i < rows; i++) {
                if (layer instanceof Pool2d p) {
                    if (prev != null) poolTransposed(p, rga[i], argmax[l][i], prev[i]);
                    continue;
                }
                if (!layer.hasParameters()) {
                    if (prev != null) System.arraycopy(rga[i], 0, prev[i], 0, rga[i].length);
                    continue;
                }
                int size = layer.outputSize();
                double[] gz = new double[size], rgz = new double[size];
                for (int o = 0; o < size; o++) {
                    double zz = z[l][i][o];
                    gz[o] = layer.activation().derivative(zz) * ga[l][i][o];
                    rgz[o] = layer.activation().secondDerivative(zz) * rz[l][i][o] * ga[l][i][o] + layer.activation().derivative(zz) * rga[i][o];
                }
                addBiasGradient(layer, rgz, out);
                outer(layer, rgz, layerInput(l, i, b), out, layer.weightOffset());
                if (l > 0) {
                    outer(layer, gz, ra[l - 1][i], out, layer.weightOffset());
                    applyTransposed(layer, w, layer.weightOffset(), rgz, prev[i]);
                    applyTransposed(layer, v, layer.weightOffset(), gz, prev[i]);
                }
            }
            rga = prev;
        }
    }

    private double regularization(double[] w, double[] grad, double[] v, double[] hv) {
        Regularization reg = network().regularization();
        if (!reg.isActive()) return 0;
        double value = 0, lambda = reg.lambda();
        for (Layer layer : layers) {
            if (!layer.hasParameters()) continue;
            for (int[] t : new int[][] {{layer.weightOffset(), layer.weightCount()}, {layer.biasOffset(), layer.biasCount()}}) {
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
        argmax = null;
        probs = null;
    }
}
