package org.adanewton.train;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.data.Dataset;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;

/**
 * Full-dataset loss (data term + regularizer, as the training objective) and accuracy, in chunks,
 * with its own model so that it never disturbs a training model's cached point. A network with
 * modes (batch norm, dropout) is evaluated in evaluation mode: batch norm with the given running
 * statistics, no dropout; the model is back in training mode afterwards.
 */
final class Evaluator implements AutoCloseable {
    static final int CHUNK = 2048;
    private final Network network;
    private final NetworkModel model;
    private final Batch batch;
    private final float[] x;
    private final int[] y;
    private final float[] t;

    /** Loss, accuracy (NaN for regression) on a dataset. */
    record Result(double loss, double accuracy) {}

    Evaluator(Backend backend, Network network) {
        this.network = network;
        this.model = backend.model(network, CHUNK);
        this.batch = backend.batch(network, CHUNK);
        this.x = new float[CHUNK * network.inputDim()];
        this.y = network.loss().usesLabels() ? new int[CHUNK] : null;
        this.t = network.loss().usesLabels() ? null : new float[CHUNK * network.outputDim()];
    }

    /** The loss and accuracy at w on data; statistics: the running statistics (Network#statistics order) evaluation mode uses. */
    Result evaluate(Vector w, Dataset data, double[] statistics) {
        if (!network.hasModes()) return compute(w, data);
        model.setRunningStatistics(statistics);
        model.setTraining(false);
        try {
            return compute(w, data);
        } finally {
            model.setTraining(true);
        }
    }

    private Result compute(Vector w, Dataset data) {
        int n = data.size(), d = network.inputDim(), o = network.outputDim();
        double total = 0;
        long correct = 0;
        for (int start = 0; start < n; start += CHUNK) {
            int rows = Math.min(CHUNK, n - start);
            System.arraycopy(data.inputs(), start * d, x, 0, rows * d);
            if (y != null) {
                System.arraycopy(data.labels(), start, y, 0, rows);
                batch.setFirstRows(x, y, rows);
            } else {
                System.arraycopy(data.targets(), start * o, t, 0, rows * o);
                batch.setFirstRows(x, t, rows);
            }
            double[] out = model.forward(w, batch);
            for (int i = 0; i < rows; i++) {
                if (y != null) {
                    double max = Double.NEGATIVE_INFINITY;
                    int arg = 0;
                    for (int j = 0; j < o; j++) {
                        if (out[i * o + j] > max) {
                            max = out[i * o + j];
                            arg = j;
                        }
                    }
                    double s = 0;
                    for (int j = 0; j < o; j++) s += Math.exp(out[i * o + j] - max);
                    total += Math.log(s) + max - out[i * o + y[i]];
                    if (arg == y[i]) correct++;
                } else if (network.loss() == Loss.BINARY_CROSS_ENTROPY) {
                    for (int j = 0; j < o; j++) {
                        double z = out[i * o + j];
                        total += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t[i * o + j] * z;
                    }
                } else {
                    double s = 0;
                    for (int j = 0; j < o; j++) {
                        double e = out[i * o + j] - t[i * o + j];
                        s += e * e;
                    }
                    total += network.loss() == Loss.SQUARED_ERROR_MEAN ? s / o : s;
                }
            }
        }
        double loss = total / n + network.regularizationValue(w.toArray());
        return new Result(loss, y != null ? (double) correct / n : Double.NaN);
    }

    @Override
    public void close() {
        model.close();
        batch.close();
    }
}
