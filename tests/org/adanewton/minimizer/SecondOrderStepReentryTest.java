package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adanewton.api.VectorObjective;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;

/** A step called while a step runs (here from inside its own closure) is refused and leaves the running step intact. */
class SecondOrderStepReentryTest {

    @Test
    void aStepFromInsideTheClosureIsRefusedAndTheOuterStepCompletes() {
        JavaBackend be = new JavaBackend();
        try (Vector x = be.vector(new double[] {1, -1}); SecondOrderStep opt = new SecondOrderStep(x, VectorObjectiveTest.options(Method.TR_STEIHAUG, 0))) {
            VectorObjective inner = new VectorObjectiveTest.InPlaceRosenbrock(2);
            IllegalStateException[] refused = new IllegalStateException[1];
            VectorObjective f = new VectorObjectiveTest.InPlaceRosenbrock(2);
            VectorObjective outer = new VectorObjective() {
                public int dimension() {
                    return 2;
                }

                public double value(Vector xv) {
                    return f.value(xv);
                }

                public double gradient(Vector xv, Vector g) {
                    if (refused[0] == null) refused[0] = assertThrows(IllegalStateException.class, () -> opt.step(inner));
                    return f.gradient(xv, g);
                }

                public void hessianVector(Vector xv, Vector v, Vector hv) {
                    f.hessianVector(xv, v, hv);
                }
            };
            SecondOrderStep.Outcome o = opt.step(outer);
            assertNotNull(refused[0]);
            assertTrue(refused[0].getMessage().contains("already running"), refused[0].getMessage());
            assertFalse(o.stopped());
            assertTrue(Double.isFinite(o.batchLoss()), "the outer step ran to its end with its own closure");
            assertFalse(opt.step(outer).stopped(), "and the optimizer takes the next step");
        }
    }
}
