package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.junit.jupiter.api.Test;

/**
 * A file PyTorch wrote (tests/fixtures/torch-sequential.safetensors, the state_dict of a small
 * nn.Sequential, made once by bench/torch_weights.py fixture; its keys, inputs and outputs in
 * torch-sequential.json): the same model built here has exactly its keys and shapes, loads it, and
 * computes PyTorch's outputs, so names and layouts agree, not only the names.
 */
class TorchFixtureTest {
    static final Path DIR = Path.of("tests/fixtures");

    /** Sequential(Conv2d(1, 2, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(2, 3, 3), Tanh, Flatten, Linear(12, 5), Sigmoid, Linear(5, 3)). */
    static Network network() {
        return Network.builder(1, 8, 8).conv2d(1, 2, 3, 1, 1).relu().maxPool2d(2).conv2d(2, 3, 3).tanh().flatten().dense(5).sigmoid().dense(3)
                .loss(Loss.SQUARED_ERROR_SUM).build();
    }

    private static double[] doubles(JsonArray a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).getAsDouble();
        return v;
    }

    @Test
    void aStateDictPyTorchWroteLoadsAndComputesPyTorchsOutputs() throws Exception {
        JsonObject expected = JsonParser.parseString(Files.readString(DIR.resolve("torch-sequential.json"), StandardCharsets.UTF_8)).getAsJsonObject();
        Network net = network();
        List<String> keys = new ArrayList<>();
        expected.getAsJsonArray("keys").forEach(k -> keys.add(k.getAsString()));
        assertEquals(keys, net.parameters().stream().map(Network.Parameter::name).toList(), "the names PyTorch gave the same model");
        for (int i = 0; i < keys.size(); i++) {
            JsonArray s = expected.getAsJsonArray("shapes").get(i).getAsJsonArray();
            long[] shape = new long[s.size()];
            for (int d = 0; d < shape.length; d++) shape[d] = s.get(d).getAsLong();
            assertArrayEquals(shape, net.parameters().get(i).shape(), keys.get(i));
        }
        double[] w = Weights.load(net, DIR.resolve("torch-sequential.safetensors"));
        double[] x = doubles(expected.getAsJsonArray("input")), y = doubles(expected.getAsJsonArray("output"));
        float[] inputs = new float[x.length];
        for (int i = 0; i < x.length; i++) inputs[i] = (float) x[i]; // the script's inputs are float32 values
        int rows = x.length / net.inputDim();
        JavaBackend be = new JavaBackend();
        try (NetworkModel m = be.model(net, rows); Batch b = be.batch(net, rows); Vector wv = be.vector(w)) {
            b.set(inputs, new float[rows * net.outputDim()], rows);
            double[] out = m.forward(wv, b);
            assertEquals(y.length, out.length);
            for (int i = 0; i < y.length; i++) assertEquals(y[i], out[i], 1e-12 * (1 + Math.abs(y[i])), "output " + i);
        }
        // written back, the file has PyTorch's keys, shapes and values
        Path back = Files.createTempFile("torch-sequential", ".safetensors");
        try {
            Weights.save(net, w, true, back);
            Safetensors.Contents c = Safetensors.read(back), original = Safetensors.read(DIR.resolve("torch-sequential.safetensors"));
            assertEquals(List.copyOf(original.tensors().keySet()), List.copyOf(c.tensors().keySet()));
            for (String k : keys) assertArrayEquals(original.tensors().get(k).values(), c.tensors().get(k).values(), k);
            assertArrayEquals(Files.readAllBytes(DIR.resolve("torch-sequential.safetensors")), Files.readAllBytes(back),
                    "byte for byte the file PyTorch's side wrote");
        } finally {
            Files.deleteIfExists(back);
        }
    }
}
