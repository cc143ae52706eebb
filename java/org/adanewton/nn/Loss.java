package org.adanewton.nn;

/**
 * Losses on the network output a (batch of B rows, d outputs).
 * <ul>
 * <li>{@link #SOFTMAX_CROSS_ENTROPY}: (1/B) sum_i [logsumexp(a_i) - a_i,y_i]; labels in [0, d).</li>
 * <li>{@link #SQUARED_ERROR_MEAN}: (1/(B d)) sum_i ||a_i - t_i||^2 (PyTorch's MSELoss, mean).</li>
 * <li>{@link #SQUARED_ERROR_SUM}: (1/B) sum_i ||a_i - t_i||^2 (per-sample sum, batch mean).</li>
 * </ul>
 */
public enum Loss {
    SOFTMAX_CROSS_ENTROPY(1), SQUARED_ERROR_MEAN(2), SQUARED_ERROR_SUM(3);

    public final int nativeCode;

    Loss(int nativeCode) {
        this.nativeCode = nativeCode;
    }

    /** True when the loss takes integer class labels, false when it takes float targets. */
    public boolean usesLabels() {
        return this == SOFTMAX_CROSS_ENTROPY;
    }
}
