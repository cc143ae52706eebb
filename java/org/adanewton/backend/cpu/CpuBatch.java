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
    /** Views of the buffers above (made once: a gather allocates nothing). */
    private final java.nio.FloatBuffer inputView, targetView;
    private final java.nio.IntBuffer labelView;

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
        inputView = inputs.asBuffer();
        labelView = labels == null ? null : labels.asBuffer();
        targetView = targets == null ? null : targets.asBuffer();
        // warns only: JavaCPP frees the buffers itself once no native call holds them
        cleaner = NativeCleaner.register(this, "a Batch of " + network.shortName(), () -> {});
    }

    @Override
    protected void store(float[] x, int[] y, float[] t, int rows) {
        inputs.put(x, 0, rows * network().inputDim());
        if (y != null) labels.put(y, 0, rows);
        if (t != null) targets.put(t, 0, rows * network().outputDim());
    }

    /** Straight into native memory through direct buffer views: one copy, no JNI call per row. */
    @Override
    protected void storeGathered(float[] x, int[] y, float[] t, int[] indices, int count) {
        int d = network().inputDim(), o = network().outputDim();
        for (int i = 0; i < count; i++) inputView.put(i * d, x, indices[i] * d, d);
        if (y != null) for (int i = 0; i < count; i++) labelView.put(i, y[indices[i]]);
        else for (int i = 0; i < count; i++) targetView.put(i * o, t, indices[i] * o, o);
    }

    @Override
    protected void release() {
        cleaner.close();
        inputs.close();
        if (labels != null) labels.close();
        if (targets != null) targets.close();
    }
}
