package org.adanewton.backend.cpu;

import org.adanewton.backend.NetworkModel;

/**
 * The "GEMM-only floor" of a network operation: the time of only the sgemm calls it needs, with
 * the full-batch shapes, on plain OpenBLAS with the given thread count. Our time over this floor
 * shows how much the elementwise work, the memory traffic and the threading cost on top.
 *
 * <p>Thread safety: not thread-safe: {@code measure} sets OpenBLAS's process-wide thread count (and
 * sets it back to 1 after), and runs the model's native network without the model's one-thread
 * guard; call it while nothing else uses the model or OpenBLAS.
 */
public final class GemmFloor {

    /** The operations whose sgemm shapes can be replayed. */
    public enum Op {
        FORWARD(NativeApi.AN_OP_FORWARD), GRADIENT(NativeApi.AN_OP_GRADIENT), HVP(NativeApi.AN_OP_HVP),
        HVP_CACHED(NativeApi.AN_OP_HVP_CACHED), GN_CACHED(NativeApi.AN_OP_GN_CACHED);

        final int code;

        Op(int code) {
            this.code = code;
        }
    }

    /** The median time in ms and the GFLOP of the operation's matrix products. */
    public record Result(double ms, double gflop) {}

    private GemmFloor() {}

    /** model must be a CPU-backend model; repeats >= 1. */
    public static Result measure(NetworkModel model, Op op, int batch, int repeats) {
        if (!(model instanceof CpuNetworkModel cpu)) throw new IllegalArgumentException("the GEMM floor needs a cpu-backend model");
        double[] r = cpu.gemmFloor(op, batch, repeats, model.backend().threads());
        return new Result(r[0], r[1]);
    }
}
