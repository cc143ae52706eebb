package org.adanewton.backend.cuda;

import org.adanewton.backend.cpu.CudaNative;
import org.adanewton.nn.Batch;
import org.adanewton.nn.Network;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

/** A batch in device memory (inputs, int labels or float targets), uploaded through one pinned-free host buffer. */
final class CudaBatch extends Batch {
    final FloatPointer inputs;
    final IntPointer labels;
    final FloatPointer targets;
    private final FloatPointer labelWords;
    private final CudaBackend backend;

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
    }

    @Override
    protected void store(float[] x, int[] y, float[] t, int rows) {
        int nx = rows * network().inputDim();
        try (FloatPointer host = new FloatPointer(nx)) {
            host.put(x, 0, nx);
            CudaNative.copy(backend.context(), host, inputs, nx, 0);
        }
        if (y != null) {
            try (IntPointer host = new IntPointer(rows)) {
                host.put(y, 0, rows);
                CudaNative.copy(backend.context(), new FloatPointer(host), labelWords, rows, 0);
            }
        }
        if (t != null) {
            int nt = rows * network().outputDim();
            try (FloatPointer host = new FloatPointer(nt)) {
                host.put(t, 0, nt);
                CudaNative.copy(backend.context(), host, targets, nt, 0);
            }
        }
    }

    @Override
    protected void release() {
        CudaNative.free(backend.context(), inputs);
        if (labelWords != null) CudaNative.free(backend.context(), labelWords);
        if (targets != null) CudaNative.free(backend.context(), targets);
    }
}
