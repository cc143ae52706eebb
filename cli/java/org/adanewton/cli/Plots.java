package org.adanewton.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.adanewton.train.MetricsLog;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The paper's figure and one more panel: the natural log of the training loss against epochs,
 * backprops and seconds, and the test accuracy against epochs; one line per method, four panels side
 * by side in one PNG (XChart, headless). Tick labels carry as many decimals as the plotted range needs.
 *
 * <p>Thread safety: stateless: safe to use from any thread (each call draws its own charts; the
 * static tables are never changed).
 */
public final class Plots {
    /** One method's curve. */
    public record Curve(String label, List<MetricsLog.Row> rows) {}

    /** One panel: what is plotted against what. */
    private record Panel(String xTitle, String yTitle, ToDoubleFunction<MetricsLog.Row> x, ToDoubleFunction<MetricsLog.Row> y) {}

    private static final List<Panel> PANELS = List.of(
            new Panel("epochs", "ln training loss", MetricsLog.Row::epoch, Plots::lnLoss),
            new Panel("backprops", "ln training loss", r -> r.backprops(), Plots::lnLoss),
            new Panel("seconds (evaluation excluded)", "ln training loss", MetricsLog.Row::seconds, Plots::lnLoss),
            new Panel("epochs", "test accuracy (%)", MetricsLog.Row::epoch, r -> 100 * r.testAccuracy()));

    /** Distinct colours; first-order baselines (plain names) get dashed lines. */
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    private Plots() {}

    private static double lnLoss(MetricsLog.Row r) {
        return r.trainLoss() > 0 ? Math.log(r.trainLoss()) : Double.NaN;
    }

    /** One run's train.png (nothing when the run has no rows). */
    public static void trainingRun(String network, String label, List<MetricsLog.Row> rows, Path png) throws IOException {
        if (!rows.isEmpty()) lossCurves(network + ", " + label, List.of(new Curve(label, rows)), png);
    }

    public static void lossCurves(String title, List<Curve> curves, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<BufferedImage> images = new ArrayList<>();
        for (Panel panel : PANELS) {
            XYChart chart = new XYChartBuilder().width(480).height(400).title(title).xAxisTitle(panel.xTitle()).yAxisTitle(panel.yTitle()).build();
            chart.getStyler().setLegendVisible(panel == PANELS.get(0));
            chart.getStyler().setChartBackgroundColor(Color.WHITE);
            chart.getStyler().setXAxisMaxLabelCount(6);
            double[] xRange = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}, yRange = xRange.clone();
            int index = 0;
            for (Curve c : curves) {
                Color color = COLORS[index++ % COLORS.length];
                List<Double> x = new ArrayList<>(), y = new ArrayList<>();
                for (MetricsLog.Row r : c.rows()) {
                    double xv = panel.x().applyAsDouble(r), yv = panel.y().applyAsDouble(r);
                    if (!Double.isFinite(xv) || !Double.isFinite(yv)) continue;
                    x.add(xv);
                    y.add(yv);
                    extend(xRange, xv);
                    extend(yRange, yv);
                }
                if (x.isEmpty()) continue;
                XYSeries s = chart.addSeries(c.label(), x, y);
                s.setMarker(x.size() == 1 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
                s.setMarkerColor(color);
                s.setLineColor(color);
                boolean secondOrder = c.label().contains("-");
                s.setLineStyle(secondOrder ? new BasicStroke(2f) : new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                        new float[] {6f, 4f}, 0f));
            }
            if (chart.getSeriesMap().isEmpty()) continue;
            double xSpan = xRange[1] - xRange[0], ySpan = yRange[1] - yRange[0];
            double xMax = Math.max(Math.abs(xRange[0]), Math.abs(xRange[1])), yMax = Math.max(Math.abs(yRange[0]), Math.abs(yRange[1]));
            chart.getStyler().setxAxisTickLabelsFormattingFunction(v -> tickLabel(v, xSpan, xMax));
            chart.getStyler().setyAxisTickLabelsFormattingFunction(v -> tickLabel(v, ySpan, yMax));
            images.add(BitmapEncoder.getBufferedImage(chart));
        }
        if (images.isEmpty()) return;
        int w = images.stream().mapToInt(BufferedImage::getWidth).sum(), h = images.get(0).getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        int x = 0;
        for (BufferedImage p : images) {
            g.drawImage(p, x, 0, null);
            x += p.getWidth();
        }
        g.dispose();
        ImageIO.write(out, "png", png.toFile());
    }

    private static void extend(double[] range, double v) {
        range[0] = Math.min(range[0], v);
        range[1] = Math.max(range[1], v);
    }

    /**
     * A tick label with the decimals that ticks about a fifth of {@code span} apart need (at most 4),
     * in thousands (k) or millions (M) when the axis's largest magnitude {@code max} reaches 10^4 or
     * 10^6, so that one axis uses one unit: 0.89, -2.5, 120, 12.5k, 1.2M.
     */
    static String tickLabel(double v, double span, double max) {
        double step = span > 0 && Double.isFinite(span) ? span / 5 : Math.max(Math.abs(v), 1) / 5;
        double magnitude = max >= 1e6 ? 1e6 : max >= 1e4 ? 1e3 : 1;
        String suffix = magnitude == 1e6 ? "M" : magnitude == 1e3 ? "k" : "";
        int decimals = (int) Math.max(0, Math.min(4, Math.ceil(-Math.log10(step / magnitude))));
        return String.format(Locale.ROOT, "%." + decimals + "f%s", v / magnitude, suffix);
    }
}
