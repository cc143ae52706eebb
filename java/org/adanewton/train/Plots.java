package org.adanewton.train;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The paper's figure: log training loss against epochs, against backprops and against seconds, one
 * line per method, three panels side by side in one PNG (XChart, headless).
 */
public final class Plots {
    /** One method's curve. */
    public record Curve(String label, List<MetricsLog.Row> rows) {}

    /** Distinct colours; first-order baselines (plain names) get dashed lines. */
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    private Plots() {}

    public static void lossCurves(String title, List<Curve> curves, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        String[] axes = {"epochs", "backprops", "seconds"};
        List<BufferedImage> panels = new ArrayList<>();
        for (String axis : axes) {
            XYChart chart = new XYChartBuilder().width(520).height(420).title(title).xAxisTitle(axis).yAxisTitle("log training loss").build();
            chart.getStyler().setLegendVisible(axis.equals("epochs"));
            chart.getStyler().setChartBackgroundColor(Color.WHITE);
            chart.getStyler().setMarkerSize(3);
            chart.getStyler().setXAxisTickMarkSpacingHint(160);
            chart.getStyler().setXAxisDecimalPattern(axis.equals("backprops") ? "#,###" : "#.#");
            int index = 0;
            for (Curve c : curves) {
                Color color = COLORS[index++ % COLORS.length];
                List<Double> x = new ArrayList<>(), y = new ArrayList<>();
                for (MetricsLog.Row r : c.rows()) {
                    if (!(r.trainLoss() > 0) || !Double.isFinite(r.trainLoss())) continue;
                    x.add(switch (axis) {
                        case "epochs" -> r.epoch();
                        case "backprops" -> (double) r.backprops();
                        default -> r.seconds();
                    });
                    y.add(Math.log(r.trainLoss()));
                }
                if (x.isEmpty()) continue;
                XYSeries s = chart.addSeries(c.label(), x, y);
                s.setMarker(SeriesMarkers.NONE);
                s.setLineColor(color);
                boolean secondOrder = c.label().contains("-");
                s.setLineStyle(secondOrder ? new java.awt.BasicStroke(2f) : new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT,
                        java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            }
            panels.add(BitmapEncoder.getBufferedImage(chart));
        }
        int w = panels.stream().mapToInt(BufferedImage::getWidth).sum(), h = panels.get(0).getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        int x = 0;
        for (BufferedImage p : panels) {
            g.drawImage(p, x, 0, null);
            x += p.getWidth();
        }
        g.dispose();
        ImageIO.write(out, "png", png.toFile());
    }
}
