package org.adanewton.backend;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.adanewton.backend.cuda.CudaProbe;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks a test that needs a CUDA device: tagged "gpu", skipped with the probe's reason where none
 * answers, and failing instead when -Dadanewton.requireGpu=true.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@ExtendWith(GpuTest.Condition.class)
public @interface GpuTest {

    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            CudaProbe.Result probe = CudaProbe.probe();
            if (probe.available()) return ConditionEvaluationResult.enabled("CUDA: " + probe.message());
            if (Boolean.getBoolean("adanewton.requireGpu"))
                throw new IllegalStateException("adanewton.requireGpu=true but no GPU: " + probe.message());
            String reason = "skipped: " + probe.message();
            System.out.println("[gpu] " + context.getDisplayName() + " " + reason);
            return ConditionEvaluationResult.disabled(reason);
        }
    }
}
