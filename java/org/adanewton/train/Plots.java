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
            for (Curve c : curves) {
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
