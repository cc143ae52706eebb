package org.adanewton.backend.cpu;

import org.adanewton.backend.Batch;
import org.adanewton.nn.Network;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

/** A batch in off-heap float32 / int32 buffers allocated once for the capacity. */
final class CpuBatch extends Batch {
    final FloatPointer inputs;
    final IntPointer labels;
    final FloatPointer targets;
    private final NativeCleaner.Handle cleaner;

    CpuBatch(CpuBackend backend, Network network, int capacity) {
        super(backend, network, capacity);
        inputs = new FloatPointer((long) capacity * network.inputDim());
        if (network.loss().usesLabels()) {
            labels = new IntPointer(capacity);
            targets = null;
        } else {
            labels = null;
            targets = new FloatPointer((long) capacity * network.outputDim());
        }
        // warns only: JavaCPP frees the buffers itself once no native call holds them
        cleaner = NativeCleaner.register(this, "a Batch of " + network.shortName(), () -> {});
    }

    @Override
    protected void store(float[] x, int[] y, float[] t, int rows) {
        inputs.put(x, 0, rows * network().inputDim());
        if (y != null) labels.put(y, 0, rows);
        if (t != null) targets.put(t, 0, rows * network().outputDim());
    }

    @Override
    protected void release() {
        cleaner.close();
        inputs.close();
        if (labels != null) labels.close();
        if (targets != null) targets.close();
    }
}
