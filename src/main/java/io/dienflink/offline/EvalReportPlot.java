package io.dienflink.offline;

import io.dienflink.avro.ModelEval;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import javax.imageio.ImageIO;

/**
 * Draws an {@link EvalReport.Comparison} as a PNG (headless Java2D, as {@code plot-timeline}): the
 * upper panel each model's AUC per minute, the lower the challenger's AUC difference per minute
 * (a dot with its own 95 % bar) and the stratified estimate over the range so far with its 95 %
 * band, zero dashed. The x axis is minutes since the range's first minute.
 */
public final class EvalReportPlot {
    private static final int WIDTH = 1200;
    private static final int PANEL = 330;
    private static final int LEFT = 80;
    private static final int RIGHT = 20;
    private static final int TOP = 44;
    private static final int BOTTOM = 40;
    private static final Color CHAMPION = new Color(0, 90, 200);
    private static final Color CHALLENGER = new Color(220, 110, 0);

    private EvalReportPlot() {}

    /** Writes the image. */
    public static void write(EvalReport.Comparison c, Path png) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, 2 * PANEL, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, 2 * PANEL);
        List<Instant> all = new ArrayList<>();
        c.champion().minutes().forEach(r -> all.add(r.getMinute()));
        c.challenger().minutes().forEach(r -> all.add(r.getMinute()));
        long first = all.stream().mapToLong(Instant::toEpochMilli).min().orElse(0) / 60_000;
        long last = all.stream().mapToLong(Instant::toEpochMilli).max().orElse(0) / 60_000;
        double span = Math.max(1, last - first + 1);
        int plotW = WIDTH - LEFT - RIGHT;
        DoubleUnaryOperator x = m -> LEFT + (m - first + 0.5) / span * plotW;
        aucPanel(g, c, x, span, first);
        differencePanel(g, c, x, span, first);
        g.dispose();
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IllegalStateException("no PNG writer in this JVM");
        }
    }

    private static double minuteOf(Instant t) {
        return t.toEpochMilli() / 60_000;
    }

    private static void aucPanel(Graphics2D g, EvalReport.Comparison c, DoubleUnaryOperator x, double span, long first) {
        double lo = 1;
        double hi = 0;
        for (EvalReport.ModelSummary s : List.of(c.champion(), c.challenger())) {
            for (ModelEval r : s.minutes()) {
                if (Double.isFinite(r.getAuc())) {
                    lo = Math.min(lo, r.getAuc());
                    hi = Math.max(hi, r.getAuc());
                }
            }
        }
        if (lo > hi) {
            lo = 0.4;
            hi = 1;
        }
        double[] range = padded(lo, hi);
        DoubleUnaryOperator y = axis(0, range[0], range[1]);
        frame(g, 0, y, range, x, span, first, "%.3f");
        line(g, c.champion().minutes(), x, y, CHAMPION);
        line(g, c.challenger().minutes(), x, y, CHALLENGER);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        g.drawString("AUC per minute of request time", LEFT, 16);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(CHAMPION);
        g.drawString("champion " + label(c.champion()), LEFT, 34);
        g.setColor(CHALLENGER);
        g.drawString("challenger " + label(c.challenger()), LEFT + 500, 34);
    }

    private static String label(EvalReport.ModelSummary s) {
        String fp = s.fingerprint().length() > 12 ? s.fingerprint().substring(0, 12) : s.fingerprint();
        return s.version() + " (" + fp + ")";
    }

    private static void differencePanel(Graphics2D g, EvalReport.Comparison c, DoubleUnaryOperator x, double span,
                                        long first) {
        double lo = 0;
        double hi = 0;
        for (EvalReport.MinuteDifference d : c.minutes()) {
            lo = Math.min(lo, Math.min(d.difference() - d.halfWidth(), d.cumulativeDifference() - d.cumulativeHalfWidth()));
            hi = Math.max(hi, Math.max(d.difference() + d.halfWidth(), d.cumulativeDifference() + d.cumulativeHalfWidth()));
        }
        if (lo == hi) {
            lo = -0.01;
            hi = 0.01;
        }
        double[] range = padded(lo, hi);
        DoubleUnaryOperator y = axis(PANEL, range[0], range[1]);
        // the cumulative estimate's band first, so the dots and lines draw over it
        if (!c.minutes().isEmpty()) {
            Polygon band = new Polygon();
            for (EvalReport.MinuteDifference d : c.minutes()) {
                band.addPoint((int) x.applyAsDouble(minuteOf(d.minute())),
                        (int) y.applyAsDouble(d.cumulativeDifference() + d.cumulativeHalfWidth()));
            }
            for (int i = c.minutes().size() - 1; i >= 0; i--) {
                EvalReport.MinuteDifference d = c.minutes().get(i);
                band.addPoint((int) x.applyAsDouble(minuteOf(d.minute())),
                        (int) y.applyAsDouble(d.cumulativeDifference() - d.cumulativeHalfWidth()));
            }
            g.setColor(new Color(255, 215, 170));
            g.fillPolygon(band);
        }
        frame(g, PANEL, y, range, x, span, first, "%+.3f");
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        g.drawLine(LEFT, (int) y.applyAsDouble(0), WIDTH - RIGHT, (int) y.applyAsDouble(0));
        g.setStroke(new BasicStroke(1f));
        for (EvalReport.MinuteDifference d : c.minutes()) {
            int xx = (int) x.applyAsDouble(minuteOf(d.minute()));
            g.setColor(new Color(150, 150, 150));
            g.drawLine(xx, (int) y.applyAsDouble(d.difference() - d.halfWidth()), xx,
                    (int) y.applyAsDouble(d.difference() + d.halfWidth()));
            g.fillOval(xx - 2, (int) y.applyAsDouble(d.difference()) - 2, 5, 5);
        }
        g.setColor(CHALLENGER.darker());
        g.setStroke(new BasicStroke(2f));
        int px = -1;
        int py = -1;
        for (EvalReport.MinuteDifference d : c.minutes()) {
            int xx = (int) x.applyAsDouble(minuteOf(d.minute()));
            int yy = (int) y.applyAsDouble(d.cumulativeDifference());
            if (px >= 0) {
                g.drawLine(px, py, xx, yy);
            }
            px = xx;
            py = yy;
        }
        g.setStroke(new BasicStroke(1f));
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        g.drawString(String.format(Locale.ROOT, "AUC difference, challenger − champion: %+.4f, 95%% CI [%+.4f, %+.4f] — %s",
                c.difference(), c.low(), c.high(), c.verdict().text()), LEFT, PANEL + 16);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.GRAY);
        g.drawString("grey: each minute's paired DeLong estimate and 95 % interval; line and band: the stratified estimate "
                + "over the range so far and its 95 % interval", LEFT, PANEL + 34);
    }

    private static double[] padded(double lo, double hi) {
        double pad = Math.max(1e-4, (hi - lo) * 0.08);
        return new double[] {lo - pad, hi + pad};
    }

    private static DoubleUnaryOperator axis(int y0, double lo, double hi) {
        int plotH = PANEL - TOP - BOTTOM;
        return v -> y0 + TOP + plotH - (v - lo) / (hi - lo) * plotH;
    }

    private static void frame(Graphics2D g, int y0, DoubleUnaryOperator y, double[] range, DoubleUnaryOperator x, double span,
                              long first, String tickFormat) {
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = PANEL - TOP - BOTTOM;
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, y0 + TOP, plotW, plotH);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i <= 4; i++) {
            double v = range[0] + (range[1] - range[0]) * i / 4;
            int yy = (int) y.applyAsDouble(v);
            g.setColor(new Color(215, 215, 215));
            g.drawLine(LEFT, yy, LEFT + plotW, yy);
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, tickFormat, v), 8, yy + 4);
        }
        long step = span > 600 ? 120 : span > 120 ? 30 : span > 30 ? 10 : span > 10 ? 5 : 1;
        for (long m = 0; m < span; m += step) {
            int xx = (int) x.applyAsDouble(first + m);
            g.drawLine(xx, y0 + TOP + plotH, xx, y0 + TOP + plotH + 4);
            g.drawString(m + " min", xx - 12, y0 + TOP + plotH + 16);
        }
    }

    private static void line(Graphics2D g, List<ModelEval> minutes, DoubleUnaryOperator x, DoubleUnaryOperator y, Color color) {
        g.setColor(color);
        g.setStroke(new BasicStroke(1.8f));
        int px = -1;
        int py = -1;
        for (ModelEval r : minutes) {
            if (!Double.isFinite(r.getAuc())) {
                px = -1; // no AUC that minute: a gap, not a zero
                continue;
            }
            int xx = (int) x.applyAsDouble(minuteOf(r.getMinute()));
            int yy = (int) y.applyAsDouble(r.getAuc());
            if (px >= 0) {
                g.drawLine(px, py, xx, yy);
            }
            g.fillOval(xx - 2, yy - 2, 5, 5);
            px = xx;
            py = yy;
        }
        g.setStroke(new BasicStroke(1f));
    }
}
