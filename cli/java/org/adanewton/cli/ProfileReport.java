package org.adanewton.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.minimizer.IterationTimes;
import org.adanewton.train.TrainConfig;
import org.adanewton.train.Trainer;

/**
 * The table of {@code train --profile} and {@code bench --tr-iteration}: where a TR/ARC iteration's
 * wall time went, in ms per iteration and % of the iteration, and how much of it is outside the
 * kernels (the batch's gathering and upload, the minimizer's bookkeeping, the trainer's own work).
 */
final class ProfileReport {
    private ProfileReport() {}

    /** What ran: the method, batch, Hessian batch, curvature, its precision (unless fp32), backend and threads. */
    static String describe(TrainConfig config, CurvaturePrecision precision, Backend backend) {
        return config.method().label() + ", batch " + config.batch()
                + (config.hessianBatch().isPresent() ? ", Hessian batch " + config.hessianBatch().getAsInt() : "")
                + ", " + config.curvature().name().toLowerCase(Locale.ROOT).replace('_', '-')
                + (precision == CurvaturePrecision.FP32 ? "" : " in " + precision.cliName())
                + ", " + backend.kind().name().toLowerCase(Locale.ROOT) + " " + backend.threads() + " thread(s)";
    }

    static void print(PrintStream out, Trainer.Profile p, String what) {
        IterationTimes t = p.minimizer();
        long k = Math.max(1, p.steps());
        double step = p.stepSeconds();
        if (p.steps() == 0 || !(step > 0)) {
            out.println("profile: no iterations of the method ran in this process");
            return;
        }
        out.printf(Locale.ROOT, "profile: %d iterations of %s, %.3f ms per iteration (wall time of the trainer's steps, evaluation excluded)%n",
                p.steps(), what, 1e3 * step / k);
        double products = t.productTime();
        double perHvp = t.products() > 0 ? products / t.products() : Double.NaN;
        row(out, "batch gathering and upload", t.sample(), step, k, "");
        row(out, "gradient (and its norm)", t.gradient(), step, k, "");
        row(out, "norm update", t.normUpdate(), step, k, "");
        if (Double.isFinite(products)) {
            row(out, String.format(Locale.ROOT, "curvature products (%.2f per iteration)", (double) t.products() / k), products, step, k,
                    String.format(Locale.ROOT, "%.3f ms each", 1e3 * perHvp));
            row(out, "Krylov vector work and the solve call", t.vectorWork(), step, k, "");
        } else {
            row(out, String.format(Locale.ROOT, "subproblem solves (%.2f products per iteration)", (double) t.products() / k), t.solve(), step, k,
                    "products not timed separately on this backend");
        }
        row(out, "trial point and its loss", t.trial(), step, k, "");
        row(out, "minimizer bookkeeping", t.bookkeeping(), step, k, "ratio test, region update, counters");
        row(out, "trainer, outside the minimizer", p.outside(), step, k, "flop counts, schedules");
        double outsideKernels = t.sample() + t.bookkeeping() + p.outside();
        out.printf(Locale.ROOT, "  outside the kernels: %.3f ms per iteration, %.1f%% (batch gathering and upload, bookkeeping, trainer)%n",
                1e3 * outsideKernels / k, 100 * outsideKernels / step);
    }

    private static void row(PrintStream out, String name, double seconds, double step, long k, String note) {
        out.printf(Locale.ROOT, "  %-44s %8.3f ms %6.1f%%%s%n", name, 1e3 * seconds / k, 100 * seconds / step, note.isEmpty() ? "" : "   " + note);
    }
}
