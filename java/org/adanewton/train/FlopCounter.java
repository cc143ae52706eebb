package org.adanewton.train;

import java.util.OptionalInt;
import org.adanewton.nn.Network;

/**
 * The work of a run: gradients and HVPs (one backprop each, as the authors count), trial loss
 * evaluations, and matrix FLOPs; {@link #backprops()} = FLOPs / FLOPs of one gradient on a batch of
 * the run's batch size.
 *
 * <p>Thread safety: not thread-safe (the trainer's thread only).
 */
final class FlopCounter {
    /** The counts, as a checkpoint keeps them. */
    record State(long gradients, long hvps, long lossEvaluations, double flops) {}

    private final double gradientFlops, hvpFlops, forwardFlops;
    private final int batch;
    private long gradients, hvps, lossEvaluations;
    private double flops;

    FlopCounter(Network network, int batch) {
        this.gradientFlops = network.gradientFlopsPerSample();
        this.hvpFlops = network.hvpCachedFlopsPerSample();
        this.forwardFlops = network.forwardFlopsPerSample();
        this.batch = batch;
    }

    /** One gradient on rows samples (a first-order step). */
    void gradient(int rows) {
        gradients++;
        flops += gradientFlops * rows;
    }

    /**
     * A second-order iteration's work: dg gradients, dh curvature products and dv loss evaluations
     * on rows samples (the products on the Hessian batch, when there is one, whose extra gradient is
     * counted too).
     */
    void secondOrder(long dg, long dh, long dv, int rows, OptionalInt hessianBatch) {
        int hRows = hessianBatch.isPresent() ? Math.min(rows, hessianBatch.getAsInt()) : rows;
        gradients += dg;
        hvps += dh;
        lossEvaluations += dv;
        flops += dg * gradientFlops * rows + dh * hvpFlops * hRows + dv * forwardFlops * rows + (hessianBatch.isPresent() ? dg * gradientFlops * hRows : 0);
    }

    long gradients() {
        return gradients;
    }

    long hvps() {
        return hvps;
    }

    /** FLOPs in units of one gradient on a batch of the run's batch size. */
    double backprops() {
        return flops / (gradientFlops * batch);
    }

    State save() {
        return new State(gradients, hvps, lossEvaluations, flops);
    }

    void restore(State s) {
        gradients = s.gradients();
        hvps = s.hvps();
        lossEvaluations = s.lossEvaluations();
        flops = s.flops();
    }
}
