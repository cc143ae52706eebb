package org.adanewton.train;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The evaluation rows of a run, written as metrics.csv and metrics.jsonl (appended on resume).
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public final class MetricsLog implements AutoCloseable {

    /** One evaluation point. Times exclude evaluation. */
    public record Row(double epoch, long iteration, long gradients, long hvps, long backprops, double flopBackprops, double seconds, double trainLoss,
            double trainAccuracy, double testLoss, double testAccuracy, double regularization, int batchSize) {}

    static final String HEADER = "epoch,iteration,gradients,hvps,backprops,flop_backprops,seconds,train_loss,train_accuracy,test_loss,test_accuracy,"
            + "radius_or_sigma,batch_size";

    private final List<Row> rows = new ArrayList<>();
    private final Writer csv, jsonl;

    /** Opens new files in dir (replacing any). */
    public MetricsLog(Path dir) throws IOException {
        this(dir, List.of());
    }

    /**
     * The log of a resumed run: the rows already in dir's metrics.csv up to and including iteration
     * `through` (the checkpoint's) are kept and both files rewritten with them, so that rows written
     * after the checkpoint (by a run that went on, then died) do not appear twice; a partly written
     * last line is dropped.
     */
    public static MetricsLog resumed(Path dir, long through) throws IOException {
        Path c = dir.resolve("metrics.csv");
        List<Row> kept = new ArrayList<>();
        if (Files.exists(c)) {
            List<String> lines = Files.readAllLines(c, StandardCharsets.UTF_8);
            for (int i = 1; i < lines.size(); i++) {
                Row r;
                try {
                    r = parse(lines.get(i));
                } catch (RuntimeException partial) { // a line cut by a crash, or not ours: nothing after it is trusted
                    break;
                }
                if (r.iteration() <= through) kept.add(r);
            }
        }
        return new MetricsLog(dir, kept);
    }

    private MetricsLog(Path dir, List<Row> kept) throws IOException {
        Path c = dir.resolve("metrics.csv"), j = dir.resolve("metrics.jsonl");
        // the kept rows go to temporaries moved over the files, so a kill while rewriting loses nothing
        Path ct = dir.resolve("metrics.csv.tmp"), jt = dir.resolve("metrics.jsonl.tmp");
        try (Writer cw = Files.newBufferedWriter(ct, StandardCharsets.UTF_8); Writer jw = Files.newBufferedWriter(jt, StandardCharsets.UTF_8)) {
            cw.write(HEADER + "\n");
            for (Row r : kept) {
                cw.write(csvLine(r));
                jw.write(jsonLine(r));
            }
        }
        Files.move(jt, j, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(ct, c, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        rows.addAll(kept);
        csv = Files.newBufferedWriter(c, StandardCharsets.UTF_8, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        jsonl = Files.newBufferedWriter(j, StandardCharsets.UTF_8, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    public List<Row> rows() {
        return rows;
    }

    public void add(Row r) throws IOException {
        rows.add(r);
        csv.write(csvLine(r));
        csv.flush();
        jsonl.write(jsonLine(r));
        jsonl.flush();
    }

    private static String csvLine(Row r) {
        return String.format(Locale.ROOT, "%.6f,%d,%d,%d,%d,%.4f,%.4f,%.9g,%.6f,%.9g,%.6f,%.6g,%d%n", r.epoch(), r.iteration(), r.gradients(),
                r.hvps(), r.backprops(), r.flopBackprops(), r.seconds(), r.trainLoss(), r.trainAccuracy(), r.testLoss(), r.testAccuracy(),
                r.regularization(), r.batchSize());
    }

    private static String jsonLine(Row r) {
        return String.format(Locale.ROOT,
                "{\"epoch\": %.6f, \"iteration\": %d, \"gradients\": %d, \"hvps\": %d, \"backprops\": %d, \"flop_backprops\": %.4f, "
                        + "\"seconds\": %.4f, \"train_loss\": %s, \"train_accuracy\": %s, \"test_loss\": %s, \"test_accuracy\": %s, "
                        + "\"radius_or_sigma\": %s, \"batch_size\": %d}%n",
                r.epoch(), r.iteration(), r.gradients(), r.hvps(), r.backprops(), r.flopBackprops(), r.seconds(), json(r.trainLoss()),
                json(r.trainAccuracy()), json(r.testLoss()), json(r.testAccuracy()), json(r.regularization()), r.batchSize());
    }

    private static String json(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.9g", v) : "null";
    }

    static Row parse(String line) {
        String[] f = line.split(",");
        return new Row(Double.parseDouble(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
                Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]), Double.parseDouble(f[8]), Double.parseDouble(f[9]),
                Double.parseDouble(f[10]), Double.parseDouble(f[11]), Integer.parseInt(f[12]));
    }

    /** Reads the rows of a metrics.csv. */
    public static List<Row> read(Path csvFile) throws IOException {
        List<String> lines = Files.readAllLines(csvFile, StandardCharsets.UTF_8);
        List<Row> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) out.add(parse(lines.get(i)));
        return out;
    }

    @Override
    public void close() throws IOException {
        csv.close();
        jsonl.close();
    }
}
