package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.subproblem.KrylovOptions;
import org.junit.jupiter.api.Test;

/** fmnist-mlp-fast is fmnist-mlp with at most 4 CG iterations per step; the paper's presets keep the paper's Krylov settings. */
class FastPresetTest {
    @Test
    void fastVariantDiffersOnlyInTheKrylovLimit() {
        Preset paper = Preset.get("fmnist-mlp"), fast = Preset.get("fmnist-mlp-fast");
        assertTrue(Preset.NAMES.contains("fmnist-mlp-fast"));
        assertEquals(KrylovOptions.PAPER, paper.krylov());
        assertEquals(Preset.FAST_MAX_KRYLOV, fast.krylov().maxIterations());
        assertEquals(paper.krylov().tolerance(), fast.krylov().tolerance());
        assertEquals(paper.krylov().rule(), fast.krylov().rule());
        assertEquals(paper.network().parameterCount(), fast.network().parameterCount());
        assertEquals(paper.trustRegion(), fast.trustRegion());
        assertEquals(paper.trBatch(), fast.trBatch());
        assertEquals(paper.warmEpochs(), fast.warmEpochs());
        assertEquals(paper.dataset(), fast.dataset());
        TrainConfig c = TrainConfig.of(fast, MethodSpec.parse("tr-rmsprop"), 3);
        assertEquals(Preset.FAST_MAX_KRYLOV, c.krylov().maxIterations());
        assertEquals("fmnist-mlp-fast", c.preset());
        assertTrue(fast.settings().contains("at most " + Preset.FAST_MAX_KRYLOV + " iterations"), fast.settings());
        for (String name : Preset.NAMES)
            if (!name.equals("fmnist-mlp-fast")) assertEquals(KrylovOptions.PAPER, Preset.get(name).krylov(), name);
    }
}
