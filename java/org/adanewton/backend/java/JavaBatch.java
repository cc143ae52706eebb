package org.adanewton.backend.java;

import org.adanewton.nn.Batch;
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
        inputs = new double[x.length];
        for (int i = 0; i < x.length; i++) inputs[i] = x[i];
        labels = y == null ? null : y.clone();
        if (t != null) {
            targets = new double[t.length];
            for (int i = 0; i < t.length; i++) targets[i] = t[i];
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
