package org.adanewton.train;

import java.util.Locale;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.minimizer.Method;
import org.adanewton.norm.NormKind;

/**
 * A training method by name: second-order "SOLVER-NORM" with SOLVER in tr (Steihaug CG), gltr, arc
 * and NORM in uniform, adagrad, rmsprop, adam (e.g. "tr-rmsprop"), or a first-order baseline
 * (sgd, adagrad, rmsprop, adam, adamw).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public record MethodSpec(String name, Method method, NormKind norm, FirstOrderOptions.Kind firstOrder) {

    public boolean isSecondOrder() {
        return method != null;
    }

    public static MethodSpec parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        int dash = s.indexOf('-');
        if (dash > 0) {
            String solver = s.substring(0, dash), norm = s.substring(dash + 1);
            Method m = switch (solver) {
                case "tr" -> Method.TR_STEIHAUG;
                case "gltr" -> Method.TR_GLTR;
                case "arc" -> Method.ARC;
                default -> null;
            };
            if (m != null) {
                try {
                    return new MethodSpec(s, m, NormKind.parse(norm), null);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("method = '" + text + "': " + e.getMessage());
                }
            }
        }
        try {
            return new MethodSpec(s, null, null, FirstOrderOptions.Kind.parse(s));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("method = '" + text + "'; must be SOLVER-NORM (SOLVER: tr, gltr, arc; NORM: uniform, adagrad, "
                    + "rmsprop, adam), e.g. tr-rmsprop, or one of sgd, adagrad, rmsprop, adam, adamw");
        }
    }

    /** The label used in plots and tables, e.g. "TR-RMSProp" or "Adam". */
    public String label() {
        if (!isSecondOrder()) {
            return switch (firstOrder) {
                case SGD -> "SGD";
                case ADAGRAD -> "AdaGrad";
                case RMSPROP -> "RMSProp";
                case ADAM -> "Adam";
                case ADAMW -> "AdamW";
            };
        }
        String n = switch (norm) {
            case UNIFORM -> "uniform";
            case ADAGRAD -> "AdaGrad";
            case RMSPROP -> "RMSProp";
            case ADAM -> "Adam";
        };
        String solver = switch (method) {
            case TR_GLTR -> "GLTR";
            case ARC, ARC_CAUCHY -> "ARC";
            default -> "TR";
        };
        return solver + "-" + n;
    }
}
