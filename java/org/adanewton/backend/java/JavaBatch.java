package org.adanewton.backend.java;

import org.adanewton.backend.Batch;
import org.adanewton.nn.Network;

/** A batch held as double arrays (the reference backend). */
final class JavaBatch extends Batch {
    double[] inputs;
    int[] labels;
    double[] targets;

    JavaBatch(JavaBackend backend, Network network, int capacity) {
        super(backend, network, capacity);
    }

    @Override
    protected void store(float[] x, int[] y, float[] t, int rows) {
        int d = network().inputDim(), o = network().outputDim();
        inputs = new double[rows * d];
        for (int i = 0; i < inputs.length; i++) inputs[i] = x[i];
        labels = y == null ? null : java.util.Arrays.copyOf(y, rows);
        if (t != null) {
            targets = new double[rows * o];
            for (int i = 0; i < targets.length; i++) targets[i] = t[i];
        } else {
            targets = null;
        }
    }

    @Override
    protected void release() {
        inputs = null;
        labels = null;
        targets = null;
    }
}
