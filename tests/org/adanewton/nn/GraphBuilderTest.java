package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The graph builder: shapes, inputs, names, statistics, the native spec, errors; GELU and erf. */
class GraphBuilderTest {

    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    /** conv (no bias) -> batch norm + relu -> add with the conv's output -> flatten -> dense -> dropout -> dense. */
    private static Network residual() {
        return Network.builder(1, 2, 2).conv2d(1, 2, 1, 1, 0, false).save("c").batchNorm().relu().add("c").flatten().dense(3).dropout(0.5).dense(2)
                .build();
    }

    @Test
    void shapesInputsAndLayout() {
        Network net = residual();
        assertFalse(net.isChain());
        assertArrayEquals(new int[] {2, 2, 2}, net.outputShape(0));
        assertArrayEquals(new int[] {2, 2, 2}, net.outputShape(2));
        assertArrayEquals(new int[] {8}, net.outputShape(3));
        assertArrayEquals(new int[] {Network.NETWORK_INPUT}, net.inputs(0));
        assertArrayEquals(new int[] {1, 0}, net.inputs(2), "add reads the current output, then the saved one");
        assertTrue(net.layers().get(2) instanceof Network.Add a && a.arity() == 2);
        // conv 1x2x1x1 (no bias), batch norm gamma 2 + beta 2, dense 8x3 + 3, dense 3x2 + 2
        assertEquals(2 + 4 + 27 + 8, net.parameterCount());
        assertEquals(-1, net.layers().get(0).biasOffset());
        assertEquals(2, net.layers().get(1).weightOffset());
        assertTrue(Network.builder(4).dense(3).tanh().dense(2).build().isChain());
        Network concat = Network.builder(2, 3, 3).save("in").conv2d(2, 4, 1).concat("in").flatten().dense(2).build();
        assertArrayEquals(new int[] {6, 3, 3}, concat.outputShape(1));
        assertArrayEquals(new int[] {0, Network.NETWORK_INPUT}, concat.inputs(1));
        assertArrayEquals(new int[] {4, 2}, ((Network.Concat) concat.layers().get(1)).channels());
        Network gap = Network.builder(3, 4, 5).globalAvgPool().dense(2).build();
        assertArrayEquals(new int[] {3}, gap.outputShape(0));
        Network emb = Network.builder(7).embedding(10, 4).layerNorm(4, 1e-5).dense(2).build();
        assertArrayEquals(new int[] {28}, emb.outputShape(0));
        assertEquals(7, ((Network.LayerNorm) emb.layers().get(1)).groups());
    }

    @Test
    void mistakesNameTheLayerAndTheRule() {
        String add = error(() -> Network.builder(4).dense(3).save("a").dense(2).add("a"));
        assertTrue(add.contains("layer 2 (add)") && add.contains("shapes differ") && add.contains("flat vector of 2") && add.contains("flat vector of 3"), add);
        String concat = error(() -> Network.builder(2, 4, 4).save("in").maxPool2d(2).concat("in"));
        assertTrue(concat.contains("(concat)") && concat.contains("2x4x4 cannot join 2x2x2") && concat.contains("same height and width"), concat);
        String tag = error(() -> Network.builder(4).dense(3).save("a").from("b"));
        assertTrue(tag.contains("no output is saved as \"b\"") && tag.contains("[a]"), tag);
        String dangling = error(() -> Network.builder(4).save("in").dense(3).from("in").dense(2).build());
        assertTrue(dangling.contains("layer 0 (dense 4 -> 3") && dangling.contains("never used"), dangling);
        String twice = error(() -> Network.builder(4).dense(3).save("a").save("a"));
        assertTrue(twice.contains("save(\"a\")") && twice.contains("another output"), twice);
        String many = error(() -> Network.builder(4).save("a").save("b").save("c").save("d").add("a", "b", "c", "d"));
        assertTrue(many.contains("4 saved outputs") && many.contains("give 1 to 3"), many);
        String embedding = error(() -> Network.builder(4).dense(3).embedding(5, 2));
        assertTrue(embedding.contains("(embedding) must read the network's flat input"), embedding);
        String norm = error(() -> Network.builder(6).layerNorm(4, 1e-5));
        assertTrue(norm.contains("(layernorm): size = 4") && norm.contains("a divisor of its length"), norm);
        String dropout = error(() -> Network.builder(6).dropout(1.0));
        assertTrue(dropout.contains("p = 1.0") && dropout.contains("[0, 1)"), dropout);
        String bn = error(() -> Network.builder(6).batchNorm(0, 0.1));
        assertTrue(bn.contains("eps = 0.0") && bn.contains("eps > 0"), bn);
        String module = error(() -> Network.builder(4).dense(3).module("a").dense(2).module("a").build());
        assertTrue(module.contains("module name 'a' is given to two layers"), module);
        String end = error(() -> Network.builder(4).save("x").dense(3).from("x").build());
        assertTrue(end.contains("must be its last layer"), end);
    }

    @Test
    void moduleNamesBecomeParameterAndStatisticsNames() {
        Network net = Network.builder(1, 2, 2).conv2d(1, 2, 1, 1, 0, false).module("stem").save("c").batchNorm().module("bn1").relu().add("c")
                .flatten().dense(3).module("head").build();
        List<String> names = net.parameters().stream().map(Network.Parameter::name).toList();
        assertEquals(List.of("stem.weight", "bn1.weight", "bn1.bias", "head.weight", "head.bias"), names);
        assertEquals(List.of("bn1.running_mean", "bn1.running_var"), net.statistics().stream().map(Network.Parameter::name).toList());
        assertEquals(4, net.statisticsCount());
        assertArrayEquals(new double[] {0, 0, 1, 1}, net.initialStatistics(), 0.0);
        assertEquals("bn1", net.module(1));
        // without names: the index in the equivalent nn.Sequential (an activation is a module of its own)
        List<String> defaults = residual().parameters().stream().map(Network.Parameter::name).toList();
        assertEquals(List.of("0.weight", "1.weight", "1.bias", "5.weight", "5.bias", "7.weight", "7.bias"), defaults);
        assertEquals(List.of("1.running_mean", "1.running_var"), residual().statistics().stream().map(Network.Parameter::name).toList());
        // with() keeps the given names
        assertEquals(names, net.with(Loss.SQUARED_ERROR_SUM, Regularization.NONE).parameters().stream().map(Network.Parameter::name).toList());
    }

    @Test
    void nativeSpecOfASmallGraph() {
        int eps = Float.floatToIntBits(1e-5f), half = Float.floatToIntBits(0.5f);
        int[] expected = {4, 6,
            2, 0, 1, -1, -1, -1, -1, 0, 1, 2, 2, 2, 1, 1, 0, 0,          // conv2d 1x2x2 -> 2, k 1, no bias
            5, 3, 1, 0, -1, -1, -1, 1, 2, 4, eps, 0, 0, 0, 0, 0,         // batchnorm + relu
            10, 0, 2, 1, 0, -1, -1, 0, 8, 0, 0, 0, 0, 0, 0, 0,           // add(bn, conv)
            1, 0, 1, 2, -1, -1, -1, 1, 3, 0, 0, 0, 0, 0, 0, 0,           // dense 8 -> 3 reads the add (flatten omitted)
            8, 0, 1, 3, -1, -1, -1, 0, 3, half, 5, 1 << 23, 0, 0, 0, 0,  // dropout: size, p, network layer 5, threshold
            1, 0, 1, 4, -1, -1, -1, 1, 2, 0, 0, 0, 0, 0, 0, 0};          // dense 3 -> 2
        assertArrayEquals(expected, residual().nativeSpec());
    }

    @Test
    void activationDerivativesMatchDifferences() {
        double h = 1e-5;
        for (Activation a : Activation.values())
            for (double z : new double[] {-3.1, -1.2, -0.4, 0.3, 0.9, 2.6}) {
                double d = (a.value(z + h) - a.value(z - h)) / (2 * h), d2 = (a.derivative(z + h) - a.derivative(z - h)) / (2 * h);
                assertClose(a + "' at " + z, a.derivative(z), d, FD_ATOL, FD_RTOL);
                assertClose(a + "'' at " + z, a.secondDerivative(z), d2, FD_ATOL, FD_RTOL);
            }
        assertClose("gelu(1) = Phi(1)", Activation.GELU.value(1), 0.8413447460685429, DOUBLE_ATOL, DOUBLE_RTOL);
        assertClose("gelu(-2) = -2 Phi(-2)", Activation.GELU.value(-2), -2 * 0.022750131948179195, DOUBLE_ATOL, DOUBLE_RTOL);
    }

    @Test
    void erfMatchesKnownValues() {
        double[][] known = {{0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527}, {-3, -0.9999779095030014}, {0, 0}};
        for (double[] k : known) assertClose("erf(" + k[0] + ")", Activation.erf(k[0]), k[1], DOUBLE_ATOL, DOUBLE_RTOL);
    }
}
