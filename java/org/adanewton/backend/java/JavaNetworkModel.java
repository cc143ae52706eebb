package org.adanewton.backend.java;

import java.util.Arrays;
import java.util.List;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Activation;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Network.Activate;
import org.adanewton.nn.Network.Add;
import org.adanewton.nn.Network.BatchNorm;
import org.adanewton.nn.Network.Concat;
import org.adanewton.nn.Network.Conv2d;
import org.adanewton.nn.Network.Dense;
import org.adanewton.nn.Network.Dropout;
import org.adanewton.nn.Network.Embedding;
import org.adanewton.nn.Network.Flatten;
import org.adanewton.nn.Network.GlobalAvgPool;
import org.adanewton.nn.Network.Layer;
import org.adanewton.nn.Network.LayerNorm;
import org.adanewton.nn.Network.Pool2d;
import org.adanewton.nn.Regularization;

/**
 * The reference implementation of a network's loss, gradient, Hessian-vector product (R-operator)
 * and Gauss-Newton product, in double, per sample, written plainly from the textbook formulas.
 *
 * <p>The network is a graph: the passes go layer by layer over all rows, forward and R-forward in
 * the topological order, backward and R-backward in the reverse order. Every layer is z = f(x; W),
 * a = phi(z) (phi the identity for layers without an activation), with x its inputs' outputs (the
 * network input for -1). Backward: ga of a layer is the sum of the input gradients of every layer
 * reading it (the loss gradient for the last), gz = phi'(z) ga. R-backward: R(ga) likewise,
 * R(gz) = phi''(z) Rz ga + phi'(z) R(ga). Per layer, with V the direction's part for W:
 * <pre>
 * dense, conv   z = L_W(x) + b, L_W linear in W and in x (no b: bias-free)
 *   backward    dW = outer(gz, x),  db = sum gz,  gx = L_W^T(gz)
 *   R-forward   Rz = L_W(Rx) + L_V(x) + vb
 *   R-backward  R(dW) = outer(R(gz), x) + outer(gz, Rx),  R(db) = sum R(gz),  R(gx) = L_W^T(R(gz)) + L_V^T(gz)
 * linear maps   z = P x with a fixed P: pooling (max: the forward pass's argmax, first maximum in
 *               scan order), flatten and a lone activation (identity), global average pooling
 *               (z_c = mean_p x_cp), dropout (training: P = diag(m_j / (1 - p)), m the mask of
 *               Network.dropoutKeeps(seed, layer, row, unit, p); evaluation: identity), add
 *               (z = sum_k x_k), concat (channels stacked)
 *   backward    gx = P^T gz;  R-forward Rz = P Rx;  R-backward R(gx) = P^T R(gz)
 * embedding     z_t = W[i_t] (i_t the network input's t-th value, an integer index)
 *   backward    dW[i_t] += gz_t (no input gradient);  Rz_t = V[i_t];  R(dW)[i_t] += R(gz)_t
 * normalization over each group G of m values (batch norm, training: a channel over the batch's
 *               rows and positions; layer norm: a group of one sample), j(e) the affine index
 *               of element e (the channel; the position within the group):
 *   forward     mu = mean x,  var = mean (x - mu)^2 (biased),  s = 1/sqrt(var + eps),
 *               xhat = (x - mu) s,  z = gamma_j xhat + beta_j
 *               N(u) = s (u - mean u - xhat mean(xhat u))  (the Jacobian of xhat, symmetric)
 *   backward    dgamma_j += gz xhat,  dbeta_j += gz,  gxhat = gamma_j gz,  gx = N(gxhat)
 *   R-forward   R(xhat) = N(Rx),  Rz = vgamma_j xhat + gamma_j R(xhat) + vbeta_j
 *   R-backward  R(dgamma_j) += R(gz) xhat + gz R(xhat),  R(dbeta_j) += R(gz),
 *               R(gxhat) = vgamma_j gz + gamma_j R(gz),  R(gx) = N(R(gxhat)) + R[N](gxhat) with
 *               R[N](u) = (Rs/s) N(u) - s (R(xhat) mean(xhat u) + xhat mean(R(xhat) u)),
 *               Rs/s = -s mean(xhat Rx)  (the derivative through mean and variance)
 *   batch norm in evaluation mode: mu, var the running statistics (constants), so N(u) = s u
 * </pre>
 * Since batch norm in training mode couples the rows, the loss is a function of the whole batch,
 * and the products are those of its Hessian. Loss: R(ga_L) = H_loss Ra_L. Gauss-Newton: J' H_loss J v
 * is the R-forward pass (J v = Ra_L) followed by the plain backward pass of H_loss Ra_L. No attempt
 * at speed.
 */
final class JavaNetworkModel extends NetworkModel {
    private final List<Layer> layers;
    private final int[][] inputs;
    // the state of the last forward pass (the cached point after gradient/hvp), per layer and row
    private int rows;
    private double[][] x;           // the network input
    private double[][][] z, a, ga;  // pre-activation, output, dL/da
    private int[][][] argmax;       // max pooling
    private double[][][] keep;      // dropout: m_j / (1 - p)
    private double[][][] xhat;      // normalization
    private double[][] mean, var, invStd; // normalization, per group
    private double[][] probs;       // softmax cross-entropy

    JavaNetworkModel(JavaBackend backend, Network network, int maxBatch) {
        super(backend, network, maxBatch);
        this.layers = network.layers();
        this.inputs = new int[layers.size()][];
        for (int l = 0; l < layers.size(); l++) inputs[l] = network.inputs(l);
    }

    // ---- the linear maps of dense and conv layers ----

    /** z += L_W(x) (no bias); W starts at w[off]. */
    private static void apply(Layer layer, double[] w, int off, double[] x, double[] z) {
        if (layer instanceof Dense d) {
            for (int j = 0; j < d.out(); j++) {
                double s = 0;
                for (int k = 0; k < d.in(); k++) s += w[off + j * d.in() + k] * x[k];
                z[j] += s;
            }
        } else {
            forEachTap((Conv2d) layer, (o, wi, xi) -> z[o] += w[off + wi] * x[xi]);
        }
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

    /** The bias index of output o (a conv layer shares one per channel). */
    private static int biasIndex(Layer layer, int o) {
        return layer instanceof Conv2d c ? o / (c.outHeight() * c.outWidth()) : o;
    }

    /** z = L_W(x) + b (b from w when the layer has one and withBias). */
    private static double[] affine(Layer layer, double[] w, double[] x, boolean withBias) {
        double[] z = new double[layer.outputSize()];
        apply(layer, w, layer.weightOffset(), x, z);
        if (withBias && layer.biasOffset() >= 0)
            for (int o = 0; o < z.length; o++) z[o] += w[layer.biasOffset() + biasIndex(layer, o)];
        return z;
    }

    /** The transposed affine map: dW += outer(g, x), db += sum g (withBias), gx += L_W^T(g) (gx null: not needed). */
    private static void affineTransposed(Layer layer, double[] w, double[] g, double[] x, double[] dW, boolean withBias, double[] gx) {
        outer(layer, g, x, dW, layer.weightOffset());
        if (withBias && layer.biasOffset() >= 0)
            for (int o = 0; o < g.length; o++) dW[layer.biasOffset() + biasIndex(layer, o)] += g[o];
        if (gx != null) applyTransposed(layer, w, layer.weightOffset(), g, gx);
    }

    // ---- the fixed linear maps (pooling, flatten, global average pooling, dropout, add, concat, activate) ----

    private static boolean isLinearMap(Layer layer) {
        return layer instanceof Pool2d || layer instanceof Flatten || layer instanceof GlobalAvgPool || layer instanceof Dropout
                || layer instanceof Add || layer instanceof Concat || layer instanceof Activate;
    }

    /** The input index of pooling window element (u, v) of output (c, i, j). */
    private static int poolInput(Pool2d p, int c, int i, int j, int u, int v) {
        return (c * p.inHeight() + i * p.stride() + u) * p.inWidth() + j * p.stride() + v;
    }

    /** The argmax of each max-pooling window (the first maximum in scan order wins ties). */
    private static int[] poolArgmax(Pool2d p, double[] x) {
        int oh = p.outHeight(), ow = p.outWidth(), k = p.kernel();
        int[] arg = new int[p.outputSize()];
        for (int c = 0; c < p.channels(); c++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    int where = -1;
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++) {
                            int idx = poolInput(p, c, i, j, u, v);
                            if (where < 0 || x[idx] > x[where]) where = idx;
                        }
                    arg[(c * oh + i) * ow + j] = where;
                }
        return arg;
    }

    /** z = P (x_1, ..., x_k) for row i of layer l (xs: its inputs' rows). */
    private double[] linearMap(int l, int i, double[][] xs) {
        Layer layer = layers.get(l);
        double[] x0 = xs[0], y = new double[layer.outputSize()];
        if (layer instanceof Pool2d p) {
            int oh = p.outHeight(), ow = p.outWidth(), k = p.kernel();
            for (int c = 0; c < p.channels(); c++)
                for (int r = 0; r < oh; r++)
                    for (int s = 0; s < ow; s++) {
                        int o = (c * oh + r) * ow + s;
                        if (p.max()) {
                            y[o] = x0[argmax[l][i][o]];
                            continue;
                        }
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++) y[o] += x0[poolInput(p, c, r, s, u, v)] / (k * k);
                    }
        } else if (layer instanceof GlobalAvgPool g) {
            int positions = g.height() * g.width();
            for (int c = 0; c < g.channels(); c++)
                for (int q = 0; q < positions; q++) y[c] += x0[c * positions + q] / positions;
        } else if (layer instanceof Dropout) {
            for (int u = 0; u < y.length; u++) y[u] = keep[l][i][u] * x0[u];
        } else if (layer instanceof Add) {
            for (double[] xk : xs)
                for (int u = 0; u < y.length; u++) y[u] += xk[u];
        } else if (layer instanceof Concat) {
            int at = 0;
            for (double[] xk : xs) {
                System.arraycopy(xk, 0, y, at, xk.length);
                at += xk.length;
            }
        } else { // flatten, activate
            System.arraycopy(x0, 0, y, 0, y.length);
        }
        return y;
    }

    /** gxs[k] += P_k^T g for row i of layer l (gxs[k] null: not needed). */
    private void linearMapTransposed(int l, int i, double[] g, double[][] gxs) {
        Layer layer = layers.get(l);
        double[] gx0 = gxs[0];
        if (layer instanceof Pool2d p) {
            if (gx0 == null) return;
            int oh = p.outHeight(), ow = p.outWidth(), k = p.kernel();
            for (int c = 0; c < p.channels(); c++)
                for (int r = 0; r < oh; r++)
                    for (int s = 0; s < ow; s++) {
                        int o = (c * oh + r) * ow + s;
                        if (p.max()) {
                            gx0[argmax[l][i][o]] += g[o];
                            continue;
                        }
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++) gx0[poolInput(p, c, r, s, u, v)] += g[o] / (k * k);
                    }
        } else if (layer instanceof GlobalAvgPool gap) {
            if (gx0 == null) return;
            int positions = gap.height() * gap.width();
            for (int c = 0; c < gap.channels(); c++)
                for (int q = 0; q < positions; q++) gx0[c * positions + q] += g[c] / positions;
        } else if (layer instanceof Dropout) {
            if (gx0 != null) for (int u = 0; u < g.length; u++) gx0[u] += keep[l][i][u] * g[u];
        } else if (layer instanceof Add) {
            for (double[] gx : gxs)
                if (gx != null) for (int u = 0; u < g.length; u++) gx[u] += g[u];
        } else if (layer instanceof Concat) {
            int at = 0;
            for (int k = 0; k < gxs.length; k++) {
                int n = inputSize(l, k);
                if (gxs[k] != null) for (int u = 0; u < n; u++) gxs[k][u] += g[at + u];
                at += n;
            }
        } else { // flatten, activate
            if (gx0 != null) for (int u = 0; u < g.length; u++) gx0[u] += g[u];
        }
    }

    /** The size of layer l's k-th input. */
    private int inputSize(int l, int k) {
        int from = inputs[l][k];
        return from == Network.NETWORK_INPUT ? network().inputDim() : layers.get(from).outputSize();
    }

    // ---- normalization groups ----

    /**
     * The groups over which a batch or layer norm normalizes, on `rows` rows: batch norm, one per
     * channel c with its rows x positions values (affine index c); layer norm, one per row and group
     * of `size` consecutive values (affine index: the position within the group).
     */
    private record Groups(Layer layer, int rows) {
        int count() {
            return layer instanceof BatchNorm b ? b.channels() : rows * ((LayerNorm) layer).groups();
        }

        int size() {
            return layer instanceof BatchNorm b ? rows * b.positions() : ((LayerNorm) layer).size();
        }

        int row(int g, int e) {
            return layer instanceof BatchNorm b ? e / b.positions() : g / ((LayerNorm) layer).groups();
        }

        int unit(int g, int e) {
            if (layer instanceof BatchNorm b) return g * b.positions() + e % b.positions();
            LayerNorm n = (LayerNorm) layer;
            return (g % n.groups()) * n.size() + e;
        }

        int affine(int g, int e) {
            return layer instanceof BatchNorm ? g : e;
        }

        double[] gather(int g, double[][] values) {
            double[] out = new double[size()];
            for (int e = 0; e < out.length; e++) out[e] = values[row(g, e)][unit(g, e)];
            return out;
        }

        void scatterAdd(int g, double[] v, double[][] values) {
            for (int e = 0; e < v.length; e++) values[row(g, e)][unit(g, e)] += v[e];
        }
    }

    /** True when layer l normalizes with the statistics of its input (layer norm; batch norm in training mode). */
    private boolean ownStatistics(Layer layer) {
        return layer instanceof LayerNorm || isTraining();
    }

    private static double mean(double[] u) {
        double s = 0;
        for (double v : u) s += v;
        return s / u.length;
    }

    private static double meanProduct(double[] u, double[] v) {
        double s = 0;
        for (int e = 0; e < u.length; e++) s += u[e] * v[e];
        return s / u.length;
    }

    /** N(u) = s (u - mean u - xhat mean(xhat u)): the Jacobian of xhat (symmetric) times u; s times u with constant statistics. */
    private static double[] normalize(boolean own, double s, double[] xh, double[] u) {
        double[] out = new double[u.length];
        double mu = own ? mean(u) : 0, mxu = own ? meanProduct(xh, u) : 0;
        for (int e = 0; e < u.length; e++) out[e] = s * (u[e] - mu - xh[e] * mxu);
        return out;
    }

    // ---- the passes ----

    /** Row i of layer l's k-th input among values (the network input for -1). */
    private double[] inputRow(double[][][] values, double[][] networkInput, int l, int k, int i) {
        int from = inputs[l][k];
        return from == Network.NETWORK_INPUT ? networkInput[i] : values[from][i];
    }

    /** The rows of all of layer l's inputs (xs[k][i]). */
    private double[][] inputRows(double[][][] values, double[][] networkInput, int l, int i) {
        double[][] xs = new double[inputs[l].length][];
        for (int k = 0; k < xs.length; k++) xs[k] = inputRow(values, networkInput, l, k, i);
        return xs;
    }

    private static int index(double value) {
        return (int) value; // integer in [0, vocabulary): checked when the batch was set
    }

    private void forwardPass(double[] w, JavaBatch b) {
        int n = layers.size(), dim = network().inputDim();
        rows = b.rows();
        x = new double[rows][dim];
        for (int i = 0; i < rows; i++) System.arraycopy(b.inputs, i * dim, x[i], 0, dim);
        z = new double[n][rows][];
        a = new double[n][rows][];
        ga = null;
        argmax = new int[n][][];
        keep = new double[n][][];
        xhat = new double[n][][];
        mean = new double[n][];
        var = new double[n][];
        invStd = new double[n][];
        for (int l = 0; l < n; l++) {
            Layer layer = layers.get(l);
            if (layer instanceof Pool2d p && p.max()) {
                argmax[l] = new int[rows][];
                for (int i = 0; i < rows; i++) argmax[l][i] = poolArgmax(p, inputRow(a, x, l, 0, i));
            }
            if (layer instanceof Dropout d) {
                keep[l] = new double[rows][d.size()];
                for (int i = 0; i < rows; i++)
                    for (int u = 0; u < d.size(); u++)
                        keep[l][i][u] = !isTraining() ? 1 : Network.dropoutKeeps(dropoutSeed(), l, i, u, d.p()) ? 1 / (1 - d.p()) : 0;
            }
            if (layer instanceof BatchNorm || layer instanceof LayerNorm) {
                normalizeForward(l, w);
            } else {
                for (int i = 0; i < rows; i++) {
                    if (isLinearMap(layer)) {
                        z[l][i] = linearMap(l, i, inputRows(a, x, l, i));
                    } else if (layer instanceof Embedding e) {
                        z[l][i] = embed(e, w, x[i]);
                    } else {
                        z[l][i] = affine(layer, w, inputRow(a, x, l, 0, i), true);
                    }
                }
            }
            for (int i = 0; i < rows; i++) {
                Activation phi = layer.activation();
                if (phi == Activation.IDENTITY) {
                    a[l][i] = z[l][i];
                    continue;
                }
                a[l][i] = new double[z[l][i].length];
                for (int o = 0; o < a[l][i].length; o++) a[l][i][o] = phi.value(z[l][i][o]);
            }
        }
    }

    /** z_t = W[i_t] for the indices of one sample (W: w's embedding table, or a direction's). */
    private static double[] embed(Embedding e, double[] w, double[] indices) {
        double[] out = new double[e.outputSize()];
        for (int t = 0; t < e.length(); t++)
            System.arraycopy(w, e.weightOffset() + index(indices[t]) * e.dim(), out, t * e.dim(), e.dim());
        return out;
    }

    /** dW[i_t] += g_t. */
    private static void embedTransposed(Embedding e, double[] g, double[] indices, double[] dW) {
        for (int t = 0; t < e.length(); t++)
            for (int d = 0; d < e.dim(); d++) dW[e.weightOffset() + index(indices[t]) * e.dim() + d] += g[t * e.dim() + d];
    }

    /** Forward of a batch or layer norm: the statistics per group, xhat, z = gamma xhat + beta. */
    private void normalizeForward(int l, double[] w) {
        Layer layer = layers.get(l);
        Groups groups = new Groups(layer, rows);
        boolean own = ownStatistics(layer);
        double eps = layer instanceof BatchNorm bn ? bn.eps() : ((LayerNorm) layer).eps();
        double[][] in = new double[rows][];
        for (int i = 0; i < rows; i++) {
            in[i] = inputRow(a, x, l, 0, i);
            z[l][i] = new double[layer.outputSize()];
        }
        xhat[l] = new double[rows][layer.outputSize()];
        int count = groups.count();
        mean[l] = new double[count];
        var[l] = new double[count];
        invStd[l] = new double[count];
        double[] running = own ? null : runningStatistics();
        int at = own ? 0 : statisticsOffset(l);
        for (int g = 0; g < count; g++) {
            double[] xs = groups.gather(g, in);
            double mu, v;
            if (own) {
                mu = mean(xs);
                double sq = 0;
                for (double xv : xs) sq += (xv - mu) * (xv - mu);
                v = sq / xs.length;
            } else {
                mu = running[at + g];
                v = running[at + count + g];
            }
            double s = 1 / Math.sqrt(v + eps);
            mean[l][g] = mu;
            var[l][g] = v;
            invStd[l][g] = s;
            double[] xh = new double[xs.length], y = new double[xs.length];
            for (int e = 0; e < xs.length; e++) {
                xh[e] = (xs[e] - mu) * s;
                int j = groups.affine(g, e);
                y[e] = w[layer.weightOffset() + j] * xh[e] + w[layer.biasOffset() + j];
            }
            groups.scatterAdd(g, xh, xhat[l]);
            groups.scatterAdd(g, y, z[l]);
        }
    }

    /** Where batch norm layer l's statistics start in the statistics vector. */
    private int statisticsOffset(int l) {
        int at = 0;
        for (int k = 0; k < l; k++) if (layers.get(k) instanceof BatchNorm bn) at += 2 * bn.channels();
        return at;
    }

    /** Data loss (no regularization) at the last forward pass; fills probs for cross-entropy. */
    private double dataLoss(JavaBatch b) {
        int last = layers.size() - 1, d = network().outputDim();
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
        return total / squaredDenominator();
    }

    private double squaredDenominator() {
        return network().loss() == Loss.SQUARED_ERROR_MEAN ? (double) rows * network().outputDim() : rows;
    }

    /** dL/da of the network output. */
    private double[][] outputGradient(JavaBatch b) {
        int last = layers.size() - 1, d = network().outputDim();
        double[][] g = new double[rows][d];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < d; j++) {
                g[i][j] = switch (network().loss()) {
                    case SOFTMAX_CROSS_ENTROPY -> (probs[i][j] - (j == b.labels[i] ? 1 : 0)) / rows;
                    case BINARY_CROSS_ENTROPY -> (Activation.SIGMOID.value(a[last][i][j]) - b.targets[i * d + j]) / rows;
                    default -> 2 * (a[last][i][j] - b.targets[i * d + j]) / squaredDenominator();
                };
            }
        }
        return g;
    }

    /** H_loss r for the loss on the network output (r: rows x d). */
    private double[][] lossHessianTimes(double[][] r) {
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
                for (int j = 0; j < d; j++) out[i][j] = 2 * r[i][j] / squaredDenominator();
            }
        }
        return out;
    }

    /** Zeroed gradient rows for every layer (null for layers whose gradient is never read: the last's comes from the loss). */
    private double[][][] zeroRows() {
        int n = layers.size();
        double[][][] g = new double[n][rows][];
        for (int l = 0; l < n; l++)
            for (int i = 0; i < rows; i++) g[l][i] = new double[layers.get(l).outputSize()];
        return g;
    }

    /** The gradient rows of layer l's inputs in g (null for the network input: not needed). */
    private double[][] inputGradients(double[][][] g, int l, int i) {
        double[][] gx = new double[inputs[l].length][];
        for (int k = 0; k < gx.length; k++) gx[k] = inputs[l][k] == Network.NETWORK_INPUT ? null : g[inputs[l][k]][i];
        return gx;
    }

    /** gz = phi'(z) ga of layer l, row i. */
    private double[] preActivationGradient(int l, int i, double[] g) {
        Activation phi = layers.get(l).activation();
        if (phi == Activation.IDENTITY) return g;
        double[] gz = new double[g.length];
        for (int o = 0; o < g.length; o++) gz[o] = phi.derivative(z[l][i][o]) * g[o];
        return gz;
    }

    /**
     * The backward pass from dL/da of the output: returns dL/da of every layer (each the sum over
     * its readers); adds dL/dw into grad.
     */
    private double[][][] backwardPass(double[] w, double[][] gOut, double[] grad) {
        int n = layers.size();
        double[][][] g = zeroRows();
        g[n - 1] = gOut;
        for (int l = n - 1; l >= 0; l--) {
            Layer layer = layers.get(l);
            double[][] gz = new double[rows][];
            for (int i = 0; i < rows; i++) gz[i] = preActivationGradient(l, i, g[l][i]);
            if (layer instanceof BatchNorm || layer instanceof LayerNorm) {
                normalizeBackward(l, w, gz, grad, g);
                continue;
            }
            for (int i = 0; i < rows; i++) {
                double[][] gx = inputGradients(g, l, i);
                if (isLinearMap(layer)) linearMapTransposed(l, i, gz[i], gx);
                else if (layer instanceof Embedding e) embedTransposed(e, gz[i], x[i], grad);
                else affineTransposed(layer, w, gz[i], inputRow(a, x, l, 0, i), grad, true, gx[0]);
            }
        }
        return g;
    }

    /** Backward of a batch or layer norm: dgamma, dbeta into grad, gx = N(gamma gz) into layer l's input gradient in g. */
    private void normalizeBackward(int l, double[] w, double[][] gz, double[] grad, double[][][] g) {
        Layer layer = layers.get(l);
        Groups groups = new Groups(layer, rows);
        boolean own = ownStatistics(layer);
        double[][] gx = inputs[l][0] == Network.NETWORK_INPUT ? null : g[inputs[l][0]];
        for (int gr = 0; gr < groups.count(); gr++) {
            double[] gy = groups.gather(gr, gz), xh = groups.gather(gr, xhat[l]), gxh = new double[gy.length];
            for (int e = 0; e < gy.length; e++) {
                int j = groups.affine(gr, e);
                grad[layer.weightOffset() + j] += gy[e] * xh[e];
                grad[layer.biasOffset() + j] += gy[e];
                gxh[e] = w[layer.weightOffset() + j] * gy[e];
            }
            if (gx != null) groups.scatterAdd(gr, normalize(own, invStd[l][gr], xh, gxh), gx);
        }
    }

    /** The R-forward pass for direction v: Ra of every layer; rz gets Rz and rxhat R(xhat) (normalization layers). */
    private double[][][] rForward(double[] w, double[] v, double[][][] rz, double[][][] rxhat) {
        int n = layers.size();
        double[][][] ra = new double[n][rows][];
        double[][] zero = new double[rows][network().inputDim()]; // R of the network input
        for (int l = 0; l < n; l++) {
            Layer layer = layers.get(l);
            if (layer instanceof BatchNorm || layer instanceof LayerNorm) {
                normalizeRForward(l, w, v, ra, zero, rz, rxhat);
            } else {
                for (int i = 0; i < rows; i++) {
                    if (isLinearMap(layer)) {
                        rz[l][i] = linearMap(l, i, inputRows(ra, zero, l, i));
                    } else if (layer instanceof Embedding e) {
                        rz[l][i] = embed(e, v, x[i]);
                    } else {
                        double[] r = affine(layer, w, inputRow(ra, zero, l, 0, i), false), rv = affine(layer, v, inputRow(a, x, l, 0, i), true);
                        for (int o = 0; o < r.length; o++) r[o] += rv[o];
                        rz[l][i] = r;
                    }
                }
            }
            for (int i = 0; i < rows; i++) ra[l][i] = preActivationGradient(l, i, rz[l][i]); // Ra = phi'(z) Rz
        }
        return ra;
    }

    /** R-forward of a batch or layer norm: R(xhat) = N(Rx), Rz = vgamma xhat + gamma R(xhat) + vbeta. */
    private void normalizeRForward(int l, double[] w, double[] v, double[][][] ra, double[][] zero, double[][][] rz, double[][][] rxhat) {
        Layer layer = layers.get(l);
        Groups groups = new Groups(layer, rows);
        boolean own = ownStatistics(layer);
        double[][] rx = new double[rows][];
        for (int i = 0; i < rows; i++) {
            rx[i] = inputRow(ra, zero, l, 0, i);
            rz[l][i] = new double[layer.outputSize()];
        }
        rxhat[l] = new double[rows][layer.outputSize()];
        for (int g = 0; g < groups.count(); g++) {
            double[] xh = groups.gather(g, xhat[l]), rxh = normalize(own, invStd[l][g], xh, groups.gather(g, rx)), r = new double[xh.length];
            for (int e = 0; e < xh.length; e++) {
                int j = groups.affine(g, e);
                r[e] = v[layer.weightOffset() + j] * xh[e] + w[layer.weightOffset() + j] * rxh[e] + v[layer.biasOffset() + j];
            }
            groups.scatterAdd(g, rxh, rxhat[l]);
            groups.scatterAdd(g, r, rz[l]);
        }
    }

    /** The R-backward pass from R(ga) of the output; adds R(dL/dw) = H v into out. */
    private void rBackward(double[] w, double[] v, double[][][] rz, double[][][] ra, double[][][] rxhat, double[][] rgOut, double[] out) {
        int n = layers.size();
        double[][][] rg = zeroRows();
        rg[n - 1] = rgOut;
        double[][] zero = new double[rows][network().inputDim()];
        for (int l = n - 1; l >= 0; l--) {
            Layer layer = layers.get(l);
            Activation phi = layer.activation();
            double[][] gz = new double[rows][], rgz = new double[rows][];
            for (int i = 0; i < rows; i++) {
                gz[i] = preActivationGradient(l, i, ga[l][i]);
                rgz[i] = preActivationGradient(l, i, rg[l][i]);
                if (phi != Activation.IDENTITY) // R(gz) = phi''(z) Rz ga + phi'(z) R(ga)
                    for (int o = 0; o < rgz[i].length; o++) rgz[i][o] += phi.secondDerivative(z[l][i][o]) * rz[l][i][o] * ga[l][i][o];
            }
            if (layer instanceof BatchNorm || layer instanceof LayerNorm) {
                normalizeRBackward(l, w, v, gz, rgz, ra, zero, rxhat, out, rg);
                continue;
            }
            for (int i = 0; i < rows; i++) {
                double[][] rgx = inputGradients(rg, l, i);
                if (isLinearMap(layer)) {
                    linearMapTransposed(l, i, rgz[i], rgx);
                } else if (layer instanceof Embedding e) {
                    embedTransposed(e, rgz[i], x[i], out);
                } else {
                    affineTransposed(layer, w, rgz[i], inputRow(a, x, l, 0, i), out, true, rgx[0]);
                    affineTransposed(layer, v, gz[i], inputRow(ra, zero, l, 0, i), out, false, rgx[0]);
                }
            }
        }
    }

    /**
     * R-backward of a batch or layer norm: R(dgamma) += R(gz) xhat + gz R(xhat), R(dbeta) += R(gz),
     * R(gx) = N(vgamma gz + gamma R(gz)) + R[N](gamma gz).
     */
    private void normalizeRBackward(int l, double[] w, double[] v, double[][] gz, double[][] rgz, double[][][] ra, double[][] zero,
            double[][][] rxhat, double[] out, double[][][] rg) {
        Layer layer = layers.get(l);
        Groups groups = new Groups(layer, rows);
        boolean own = ownStatistics(layer);
        double[][] rgx = inputs[l][0] == Network.NETWORK_INPUT ? null : rg[inputs[l][0]];
        double[][] rx = new double[rows][];
        for (int i = 0; i < rows; i++) rx[i] = inputRow(ra, zero, l, 0, i);
        for (int g = 0; g < groups.count(); g++) {
            double[] gy = groups.gather(g, gz), rgy = groups.gather(g, rgz), xh = groups.gather(g, xhat[l]), rxh = groups.gather(g, rxhat[l]);
            double[] gxh = new double[gy.length], rgxh = new double[gy.length];
            for (int e = 0; e < gy.length; e++) {
                int j = groups.affine(g, e);
                out[layer.weightOffset() + j] += rgy[e] * xh[e] + gy[e] * rxh[e];
                out[layer.biasOffset() + j] += rgy[e];
                gxh[e] = w[layer.weightOffset() + j] * gy[e];
                rgxh[e] = v[layer.weightOffset() + j] * gy[e] + w[layer.weightOffset() + j] * rgy[e];
            }
            if (rgx == null) continue;
            double s = invStd[l][g];
            double[] r = normalize(own, s, xh, rgxh);
            if (own) { // R[N](gxhat) = (Rs/s) N(gxhat) - s (R(xhat) mean(xhat gxhat) + xhat mean(R(xhat) gxhat))
                double rsOverS = -s * meanProduct(xh, groups.gather(g, rx)), mxg = meanProduct(xh, gxh), mrg = meanProduct(rxh, gxh);
                double[] ng = normalize(true, s, xh, gxh);
                for (int e = 0; e < r.length; e++) r[e] += rsOverS * ng[e] - s * (rxh[e] * mxg + xh[e] * mrg);
            }
            groups.scatterAdd(g, r, rgx);
        }
    }

    private double regularization(double[] w, double[] grad, double[] v, double[] hv) {
        Regularization reg = network().regularization();
        if (!reg.isActive()) return 0;
        double value = 0, lambda = reg.lambda();
        for (Network.Parameter p : network().parameters()) {
            int off = p.offset(), len = p.count();
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
        return value;
    }

    @Override
    protected double[] doForward(Vector w, Batch batch) {
        forwardPass(JavaBackend.data(w), (JavaBatch) batch);
        int d = network().outputDim(), last = layers.size() - 1;
        double[] out = new double[rows * d];
        for (int i = 0; i < rows; i++) System.arraycopy(a[last][i], 0, out, i * d, d);
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
        Arrays.fill(g, 0.0);
        forwardPass(wd, b);
        double loss = dataLoss(b);
        ga = backwardPass(wd, outputGradient(b), g);
        return loss + regularization(wd, g, null, null);
    }

    @Override
    protected double doHvp(Vector w, Batch batch, Vector v, Vector out) {
        JavaBatch b = (JavaBatch) batch;
        double[] wd = JavaBackend.data(w);
        forwardPass(wd, b);
        double loss = dataLoss(b);
        ga = backwardPass(wd, outputGradient(b), new double[wd.length]);
        hvpAtCache(wd, JavaBackend.data(v), JavaBackend.data(out));
        return loss + regularization(wd, null, null, null);
    }

    @Override
    protected void doHvpCached(Vector v, Vector out) {
        hvpAtCache(JavaBackend.data(cachedW()), JavaBackend.data(v), JavaBackend.data(out));
    }

    private void hvpAtCache(double[] w, double[] v, double[] out) {
        Arrays.fill(out, 0.0);
        int n = layers.size();
        double[][][] rz = new double[n][rows][], rxhat = new double[n][][];
        double[][][] ra = rForward(w, v, rz, rxhat);
        rBackward(w, v, rz, ra, rxhat, lossHessianTimes(ra[n - 1]), out);
        regularization(w, null, v, out);
    }

    @Override
    protected void doGaussNewtonCached(Vector v, Vector out) {
        double[] w = JavaBackend.data(cachedW()), vd = JavaBackend.data(v), o = JavaBackend.data(out);
        Arrays.fill(o, 0.0);
        int n = layers.size();
        double[][][] ra = rForward(w, vd, new double[n][rows][], new double[n][][]);
        backwardPass(w, lossHessianTimes(ra[n - 1]), o); // J' (H_loss J v); the cached ga stays intact
        regularization(w, null, vd, o);
    }

    @Override
    protected double[] doBatchStatistics() {
        double[] s = new double[network().statisticsCount()];
        for (int l = 0; l < layers.size(); l++) {
            if (!(layers.get(l) instanceof BatchNorm bn)) continue;
            int at = statisticsOffset(l);
            System.arraycopy(mean[l], 0, s, at, bn.channels());
            System.arraycopy(var[l], 0, s, at + bn.channels(), bn.channels());
        }
        return s;
    }

    @Override
    protected void release() {
        x = null;
        z = a = ga = keep = xhat = null;
        argmax = null;
        mean = var = invStd = probs = null;
    }
}
