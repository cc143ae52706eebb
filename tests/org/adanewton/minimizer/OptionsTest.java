package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class OptionsTest {
    private static void rejects(Executable e, String... parts) {
        String msg = assertThrows(IllegalArgumentException.class, e).getMessage();
        for (String p : parts) assertTrue(msg.contains(p), msg + " lacks " + p);
    }

    @Test
    void invalidConstantsNameOptionValueAndRule() {
        rejects(() -> new TrustRegionPolicy(-1, 10, 1e-10, 0.1, 0.75, 2, 4), "initialRadius = -1.0", "> 0");
        rejects(() -> new TrustRegionPolicy(1, 10, 1e-10, 0, 0.75, 2, 4), "eta1 = 0.0", "(0, 1)");
        rejects(() -> new TrustRegionPolicy(1, 10, 1e-10, 0.5, 0.4, 2, 4), "eta2 = 0.4", "eta1 = 0.5");
        rejects(() -> new TrustRegionPolicy(1, 10, 1e-10, 0.1, 0.75, 0.5, 4), "gammaInc = 0.5", ">= 1");
        rejects(() -> new TrustRegionPolicy(1, 10, 1e-10, 0.1, 0.75, 2, 1), "gammaDec = 1.0", "> 1");
        rejects(() -> new TrustRegionPolicy(1, 0.5, 1e-10, 0.1, 0.75, 2, 4), "maxRadius = 0.5");
        rejects(() -> new CubicPolicy(1, 1e-8, 1e16, 0.1, 0.9, 1), "gamma = 1.0");
        rejects(() -> MinimizerOptions.builder().maxIterations(-1).build(), "maxIterations = -1");
        rejects(() -> MinimizerOptions.builder().gradientTolerance(Double.NaN).build(), "gradientTolerance = NaN");
        rejects(() -> MinimizerOptions.builder().maxConsecutiveInvalid(0).build(), "maxConsecutiveInvalid = 0");
        rejects(() -> Method.parse("newton"), "method = 'newton'", "tr-steihaug");
    }
}
