package org.adanewton.backend.cuda;

import org.adanewton.backend.Batch;
import org.adanewton.nn.Network;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

/** A batch in device memory (inputs, int labels or float targets), uploaded through one host staging buffer kept for its life. */
final class CudaBatch extends Batch {
    final FloatPointer inputs;
    final IntPointer labels;
    final FloatPointer targets;
    private final FloatPointer labelWords;
    private final CudaBackend backend;
    private final FloatPointer staging; // host floats for the largest upload (inputs or targets)
    private final IntPointer stagingInts; // the same memory, for the labels

    CudaBatch(CudaBackend backend, Network network, int capacity) {
        super(backend, network, capacity);
        this.backend = backend;
        inputs = CudaNative.alloc(backend.context(), (long) capacity * network.inputDim());
        if (network.loss().usesLabels()) {
            labelWords = CudaNative.alloc(backend.context(), capacity); // 4-byte words holding ints
            labels = new IntPointer(labelWords);
            targets = null;
        } else {
            labelWords = null;
            labels = null;
            targets = CudaNative.alloc(backend.context(), (long) capacity * network.outputDim());
        }
        staging = new FloatPointer((long) capacity * Math.max(network.inputDim(), network.outputDim()));
        stagingInts = new IntPointer(staging);
    }

    @Override
    protected void store(float[] x, int[] y, float[] t, int rows) {
        // each copy waits for its upload, so the staging buffer is free again for the next
        int nx = rows * network().inputDim();
        staging.position(0).put(x, 0, nx);
        CudaNative.copy(backend.context(), staging.position(0), inputs, nx, 0);
        if (y != null) {
            stagingInts.position(0).put(y, 0, rows);
            CudaNative.copy(backend.context(), staging.position(0), labelWords, rows, 0);
        }
        if (t != null) {
            int nt = rows * network().outputDim();
            staging.position(0).put(t, 0, nt);
            CudaNative.copy(backend.context(), staging.position(0), targets, nt, 0);
        }
    }

    @Override
    protected void release() {
        CudaNative.free(backend.context(), inputs);
        if (labelWords != null) CudaNative.free(backend.context(), labelWords);
        if (targets != null) CudaNative.free(backend.context(), targets);
        staging.close();
        backend.closed(this);
    }
}
