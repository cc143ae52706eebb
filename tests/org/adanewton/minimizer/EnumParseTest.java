package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.adanewton.backend.BackendKind;
import org.adanewton.norm.EpsPlacement;
import org.adanewton.norm.NormKind;
import org.adanewton.subproblem.KrylovOptions;
import org.junit.jupiter.api.Test;

/** The option enums parse their own names (any case) and refuse others naming the accepted values. */
class EnumParseTest {

    @Test
    void everyConstantParsesFromItsName() {
        for (EpsPlacement p : EpsPlacement.values()) assertEquals(p, EpsPlacement.parse(p.cliName().toUpperCase(java.util.Locale.ROOT)));
        for (Method m : Method.values()) assertEquals(m, Method.parse(m.cliName));
        for (NormKind k : NormKind.values()) assertEquals(k, NormKind.parse(k.name().toLowerCase(java.util.Locale.ROOT)));
        for (BackendKind k : BackendKind.values()) assertEquals(k, BackendKind.parse(k.name().toLowerCase(java.util.Locale.ROOT)));
        assertEquals(NetworkProblem.Curvature.HESSIAN, NetworkProblem.Curvature.parse("Hessian"));
        assertEquals(NetworkProblem.Curvature.GAUSS_NEWTON, NetworkProblem.Curvature.parse("gauss-newton"));
        assertEquals(NetworkProblem.Curvature.GAUSS_NEWTON, NetworkProblem.Curvature.parse("GN"));
        assertEquals(KrylovOptions.StoppingRule.MODEL_DECREASE, KrylovOptions.StoppingRule.parse("model-decrease"));
    }

    @Test
    void otherNamesAreRefusedWithTheAcceptedOnes() {
        assertEquals("epsPlacement = 'before-root'; must be after-root or initial-accumulator",
                assertThrows(IllegalArgumentException.class, () -> EpsPlacement.parse("before-root")).getMessage());
        assertEquals("curvature = 'fisher'; must be hessian or gauss-newton",
                assertThrows(IllegalArgumentException.class, () -> NetworkProblem.Curvature.parse("fisher")).getMessage());
        assertEquals("rule = 'energy'; must be residual or model-decrease",
                assertThrows(IllegalArgumentException.class, () -> KrylovOptions.StoppingRule.parse("energy")).getMessage());
        assertEquals("backend = 'tpu'; must be one of auto, cuda, cpu, java",
                assertThrows(IllegalArgumentException.class, () -> BackendKind.parse("tpu")).getMessage());
    }
}
