package org.adanewton.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class NetworkTest {
    @Test
    void parameterCountsAndLayout() {
        Network mlp = Network.builder(784).dense(128).tanh().dense(10).build();
        assertEquals(101_770, mlp.parameterCount());
        Network cifar = Network.builder(3072).dense(128).tanh().dense(128).tanh().dense(10).build();
        assertEquals(411_146, cifar.parameterCount());
        assertEquals(784 * 128, mlp.layers().get(0).biasOffset());
        assertEquals(784 * 128 + 128, mlp.layers().get(1).weightOffset());
        assertTrue(mlp.describe().endsWith("parameters: 101770"));
    }

    @Test
    void initializationIsDeterministicAndScaled() {
        Network net = Network.builder(300).dense(100).relu().dense(50).tanh().dense(10).build();
        assertArrayEquals(net.initialize(7), net.initialize(7));
        assertFalse(java.util.Arrays.equals(net.initialize(7), net.initialize(8)));
        double[] w = net.initialize(7);
        Network.Dense he = (Network.Dense) net.layers().get(0), glorot = (Network.Dense) net.layers().get(1);
        double var = 0;
        for (int i = 0; i < he.in() * he.out(); i++) var += w[i] * w[i];
        var /= he.in() * he.out();
        assertEquals(2.0 / 300, var, 0.1 * 2.0 / 300, "He normal variance 2/in");
        double r = Math.sqrt(6.0 / (glorot.in() + glorot.out()));
        for (int i = glorot.weightOffset(); i < glorot.biasOffset(); i++) assertTrue(Math.abs(w[i]) <= r);
        for (int i = he.biasOffset(); i < he.biasOffset() + he.out(); i++) assertEquals(0.0, w[i]);
    }

    @Test
    void activationLayerStandsAloneWhereActivationJoins() {
        Network joined = Network.builder(4).dense(3).relu().dense(2).build();
        assertEquals(2, joined.layers().size());
        assertEquals(Activation.RELU, joined.layers().get(0).activation());
        // the dense layer's output is also read as it is (by the add): the relu must be its own layer
        Network alone = Network.builder(4).dense(3).save("h").activationLayer(Activation.RELU).add("h").dense(2).build();
        assertEquals(4, alone.layers().size(), alone.describe());
        assertEquals(Activation.IDENTITY, alone.layers().get(0).activation());
        assertTrue(alone.layers().get(1) instanceof Network.Activate a && a.activation() == Activation.RELU, alone.describe());
        assertArrayEquals(new int[] {1, 0}, alone.inputs(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Network.builder(4).dense(3).activationLayer(Activation.IDENTITY));
        assertTrue(e.getMessage().contains("layer 1") && e.getMessage().contains("IDENTITY"), e.getMessage());
    }
}
