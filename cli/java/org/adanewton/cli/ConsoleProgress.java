package org.adanewton.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.adanewton.train.MetricsLog;
import org.adanewton.train.Trainer;

/**
 * Progress of a run: on a terminal a bar redrawn in place (at most 5 times a second), elsewhere
 * (CI, pipes) one plain line per evaluation.
 */
final class ConsoleProgress implements Trainer.Progress {
    private final PrintStream out;
    private final boolean bar;
    private final String label;
    private long lastDraw;
    private MetricsLog.Row last;

    ConsoleProgress(PrintStream out, boolean bar, String label) {
        this.out = out;
        this.bar = bar;
        this.label = label;
    }

    /** --progress: a bar redrawn in place, a line per evaluation, or the bar on a terminal only. */
    enum Mode { auto, bar, lines }

    static boolean isTerminal(Mode mode) {
        return switch (mode) {
            case bar -> true;
            case lines -> false;
            case auto -> System.console() != null && System.getenv("CI") == null;
        };
    }

    @Override
    public void onEvaluation(MetricsLog.Row r, Trainer t) {
        last = r;
        String line = String.format(Locale.ROOT, "%s epoch %6.2f  train loss %.5f  log %.3f  train acc %s  test loss %s  test acc %s  %s %.3g  %7.1f s",
                label, r.epoch(), r.trainLoss(), Math.log(r.trainLoss()), pct(r.trainAccuracy()), num(r.testLoss()), pct(r.testAccuracy()),
                t.config().method().isSecondOrder() ? (t.config().method().method().cubic ? "sigma" : "radius") : "lr",
                t.config().method().isSecondOrder() ? r.regularization() : t.config().firstOrder().lr(), r.seconds());
        if (bar) out.print("\r\033[K");
        out.println(line);
    }

    @Override
    public void onStep(double epochs, Trainer t) {
        if (!bar) return;
        long now = System.nanoTime();
        if (now - lastDraw < 200_000_000L) return;
        lastDraw = now;
        int total = t.config().epochs(), width = 30;
        int filled = (int) Math.min(width, Math.round(width * epochs / total));
        out.print(String.format(Locale.ROOT, "\r\033[K%s [%s%s] %.2f/%d epochs%s", label, "#".repeat(filled), ".".repeat(width - filled), epochs, total,
                last == null ? "" : String.format(Locale.ROOT, "  last loss %.5f", last.trainLoss())));
        out.flush();
    }

    @Override
    public void message(String line) {
        if (bar) out.print("\r\033[K");
        out.println(label + " " + line);
    }

    private static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f%%", 100 * v) : "-";
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.5f", v) : "-";
    }
}
