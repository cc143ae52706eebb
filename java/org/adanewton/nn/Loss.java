package org.adanewton.nn;

/**
 * Losses on the network output a (batch of B rows, d outputs).
 * <ul>
 * <li>{@link #SOFTMAX_CROSS_ENTROPY}: (1/B) sum_i [logsumexp(a_i) - a_i,y_i]; labels in [0, d).</li>
 * <li>{@link #SQUARED_ERROR_MEAN}: (1/(B d)) sum_i ||a_i - t_i||^2 (PyTorch's MSELoss, mean).</li>
 * <li>{@link #SQUARED_ERROR_SUM}: (1/B) sum_i ||a_i - t_i||^2 (per-sample sum, batch mean).</li>
 * <li>{@link #BINARY_CROSS_ENTROPY}: a sigmoid output with binary cross-entropy, computed from the
 *     logits a: (1/B) sum_i sum_j [log(1 + exp(a_ij)) - t_ij a_ij] (targets in [0, 1]; the
 *     autoencoder option).</li>
 * </ul>
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum Loss {
    SOFTMAX_CROSS_ENTROPY(1), SQUARED_ERROR_MEAN(2), SQUARED_ERROR_SUM(3), BINARY_CROSS_ENTROPY(4);

    public final int nativeCode;

    Loss(int nativeCode) {
        this.nativeCode = nativeCode;
    }

    /** True when the loss takes integer class labels, false when it takes float targets. */
    public boolean usesLabels() {
        return this == SOFTMAX_CROSS_ENTROPY;
    }
}
