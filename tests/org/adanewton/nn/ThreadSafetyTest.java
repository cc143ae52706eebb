package org.adanewton.nn;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.adanewton.Tolerances;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.minimizer.Minimizer;
import org.adanewton.minimizer.MinimizerOptions;
import org.adanewton.minimizer.ObjectiveProblem;
import org.adanewton.problems.TestProblems;
import org.junit.jupiter.api.Test;

/**
 * A model, a batch or a minimizer used from a second thread while busy throws
 * IllegalStateException naming the object and changes nothing; separate models run in parallel.
 */
class ThreadSafetyTest {
    static final long WAIT_SECONDS = 30;

    /** A model whose loss blocks until released: a call that is certainly running. */
    static final class BlockingModel extends NetworkModel {
        final CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);
        final NetworkModel real;

        BlockingModel(Backend backend, Network net) {
            super(backend, net, 4);
            real = backend.model(net, 4);
        }

        @Override
        protected double doLoss(Vector w, Batch batch) {
            inside.countDown();
            try {
                assertTrue(release.await(WAIT_SECONDS, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return real.loss(w, batch);
        }

        @Override
        protected double[] doForward(Vector w, Batch batch) {
            return real.forward(w, batch);
        }

        @Override
        protected double doGradient(Vector w, Batch batch, Vector grad) {
            return real.gradient(w, batch, grad);
        }

        @Override
        protected double doHvp(Vector w, Batch batch, Vector v, Vector out) {
            return real.hvp(w, batch, v, out);
        }

        @Override
        protected void doHvpCached(Vector v, Vector out) {
            real.hvpCached(v, out);
        }

        @Override
        protected void doGaussNewtonCached(Vector v, Vector out) {
            real.gaussNewtonCached(v, out);
        }

        @Override
        protected void release() {
            real.close();
        }
    }

    @Test
    void aBusyModelOrBatchRefusesASecondThread() throws Exception {
        Network net = Network.builder(3).dense(4).tanh().dense(2).build();
        Backend be = new JavaBackend();
        float[] x = {0.1f, 0.2f, 0.3f, -0.1f, 0.5f, 0.0f};
        int[] y = {0, 1};
        try (BlockingModel model = new BlockingModel(be, net); Batch batch = be.batch(net, 4); Vector w = be.vector(net.initialize(1));
                Vector g = be.allocate(net.parameterCount())) {
            batch.set(x, y, 2);
            ExecutorService first = Executors.newSingleThreadExecutor(r -> new Thread(r, "first-caller"));
            try {
                Future<Double> busy = first.submit(() -> model.loss(w, batch));
                assertTrue(model.inside.await(WAIT_SECONDS, TimeUnit.SECONDS));
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.gradient(w, batch, g));
                assertTrue(e.getMessage().contains("NetworkModel") && e.getMessage().contains("'first-caller'"), e.getMessage());
                assertThrows(IllegalStateException.class, model::close, "closing a busy model from another thread");
                IllegalStateException b = assertThrows(IllegalStateException.class, () -> batch.set(x, new int[] {1, 1}, 2));
                assertTrue(b.getMessage().contains("Batch"), b.getMessage());
                assertEquals(1, batch.version(), "the refused write changed the batch");
                model.release.countDown();
                double loss = busy.get(WAIT_SECONDS, TimeUnit.SECONDS);
                assertEquals(model.real.loss(w, batch), loss, 0, "the busy call's result");
                assertFalse(model.isClosed());
            } finally {
                model.release.countDown();
                first.shutdownNow();
            }
            model.gradient(w, batch, g); // free again: the same thread or another may call it
        }
    }

    @Test
    void aRunningMinimizerRefusesASecondThread() throws Exception {
        TestProblems.Instance rosenbrock = TestProblems.create("rosenbrock", 2, 0);
        try (ObjectiveProblem p = new ObjectiveProblem(rosenbrock.objective()); Vector x = p.backend().vector(rosenbrock.start());
                Minimizer m = new Minimizer(p, MinimizerOptions.builder().maxIterations(3).build(), x)) {
            CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);
            ExecutorService first = Executors.newSingleThreadExecutor(r -> new Thread(r, "first-caller"));
            try {
                Future<?> run = first.submit(() -> m.run(it -> {
                    inside.countDown();
                    try {
                        return release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        return false;
                    }
                }));
                assertTrue(inside.await(WAIT_SECONDS, TimeUnit.SECONDS));
                IllegalStateException e = assertThrows(IllegalStateException.class, m::next);
                assertTrue(e.getMessage().contains("Minimizer") && e.getMessage().contains("'first-caller'"), e.getMessage());
                assertThrows(IllegalStateException.class, m::saveState);
                release.countDown();
                run.get(WAIT_SECONDS, TimeUnit.SECONDS);
            } finally {
                release.countDown();
                first.shutdownNow();
            }
            assertEquals(3, m.saveState().iteration(), "the refused calls must not have taken iterations");
        }
    }

    /** Many native calls on one model from two threads: each either runs alone or is refused; no crash, no wrong result. */
    @Test
    void twoThreadsOnOneNativeModelNeverMeetInNativeCode() throws Exception {
        Network net = Network.builder(64).dense(64).tanh().dense(10).build();
        int rows = 64, n = net.parameterCount();
        float[] x = new float[rows * 64];
        int[] y = new int[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(0.37 * i);
        for (int i = 0; i < rows; i++) y[i] = i % 10;
        try (CpuBackend be = new CpuBackend(2); NetworkModel model = be.model(net, rows); Batch batch = be.batch(net, rows);
                Vector w = be.vector(net.initialize(2))) {
            batch.set(x, y, rows);
            double[] expected;
            try (Vector g = be.allocate(n)) {
                model.gradient(w, batch, g);
                expected = g.toArray();
            }
            AtomicInteger refused = new AtomicInteger(), done = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> work = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    work.add(pool.submit(() -> {
                        try (Vector g = be.allocate(n)) {
                            for (int i = 0; i < 300; i++) {
                                try {
                                    model.gradient(w, batch, g);
                                    double[] got = g.toArray();
                                    for (int k = 0; k < n; k++)
                                        Tolerances.assertClose("gradient[" + k + "]", got[k], expected[k], Tolerances.DOUBLE_ATOL, Tolerances.DOUBLE_RTOL);
                                    done.incrementAndGet();
                                } catch (IllegalStateException e) {
                                    assertTrue(e.getMessage().contains("is in use by"), e.getMessage());
                                    refused.incrementAndGet();
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : work) f.get(120, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            assertEquals(600, refused.get() + done.get());
            assertTrue(done.get() > 0);
        }
    }

    @Test
    void separateModelsRunInParallel() throws Exception {
        Network net = Network.builder(32).dense(16).tanh().dense(4).build();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (CpuBackend be = new CpuBackend(1)) {
            List<Future<Double>> losses = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                losses.add(pool.submit(() -> {
                    float[] x = new float[8 * 32];
                    for (int i = 0; i < x.length; i++) x[i] = (float) Math.cos(0.11 * i);
                    int[] y = {0, 1, 2, 3, 0, 1, 2, 3};
                    double loss = 0;
                    try (NetworkModel m = be.model(net, 8); Batch b = be.batch(net, 8); Vector w = be.vector(net.initialize(5));
                            Vector g = be.allocate(net.parameterCount())) {
                        b.set(x, y, 8);
                        for (int i = 0; i < 200; i++) loss = m.gradient(w, b, g);
                    }
                    return loss;
                }));
            }
            assertEquals(losses.get(0).get(120, TimeUnit.SECONDS), losses.get(1).get(120, TimeUnit.SECONDS), 0, "same model, same data, same loss");
        } finally {
            pool.shutdownNow();
        }
    }
}
