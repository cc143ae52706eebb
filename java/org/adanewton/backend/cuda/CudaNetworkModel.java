package org.adanewton.backend.cuda;

import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CudaNative;
import org.adanewton.nn.Batch;
import org.adanewton.nn.Network;
import org.adanewton.nn.NetworkModel;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** A dense network on the device: one native call per loss, gradient, HVP or Gauss-Newton product. */
final class CudaNetworkModel extends NetworkModel {
    private final Pointer net;
    private final CudaBackend cuda;

    CudaNetworkModel(CudaBackend backend, Network network, int maxBatch) {
        super(backend, network, maxBatch);
        this.cuda = backend;
        this.net = CudaNative.netCreate(backend.context(), network.nativeSpec(), network.loss().nativeCode,
                network.regularization().kind().nativeCode, network.regularization().lambda(), maxBatch);
    }

    private static FloatPointer p(Vector v) {
        return CudaBackend.ptr(v);
    }

    @Override
    protected double[] doForward(Vector w, Batch batch) {
        CudaBatch b = (CudaBatch) batch;
        int n = b.rows() * network().outputDim();
        try (Vector out = cuda.allocate(n)) {
            CudaNative.netForward(net, p(w), b.inputs, b.rows(), p(out));
            return out.toArray();
        }
    }

    @Override
    protected double doLoss(Vector w, Batch batch) {
        CudaBatch b = (CudaBatch) batch;
        return CudaNative.netLoss(net, p(w), b.inputs, b.labels, b.targets, b.rows());
    }

    @Override
    protected double doGradient(Vector w, Batch batch, Vector grad) {
        CudaBatch b = (CudaBatch) batch;
        return CudaNative.netGradient(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(grad));
    }

    @Override
    protected double doHvp(Vector w, Batch batch, Vector v, Vector out) {
        CudaBatch b = (CudaBatch) batch;
        return CudaNative.netHvp(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(v), p(out));
    }

    @Override
    protected void doHvpCached(Vector v, Vector out) {
        CudaNative.netHvpCached(net, p(v), p(out));
    }

    @Override
    protected void doGaussNewtonCached(Vector v, Vector out) {
        CudaNative.netGaussNewtonCached(net, p(v), p(out));
    }

    @Override
    protected void release() {
        CudaNative.netDestroy(net);
    }
}
