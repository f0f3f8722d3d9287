package io.dienflink.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Draws demo timelines ({@code demo --timeline FILE}) as a PNG: one panel per file, per-second p99
 * and maximum latency on a log scale, seconds with a checkpoint in progress shaded, the goals
 * (p99 30 ms, max 100 ms) as dashed lines. Headless Java2D, so it runs wherever the tool does.
 */
@Command(name = "plot-timeline", mixinStandardHelpOptions = true,
        description = "Draws `demo --timeline` CSV files as a PNG, one panel per file (FILE or FILE=LABEL).")
final class PlotTimelineCommand implements Callable<Integer> {
    private static final int WIDTH = 1200;
    private static final int PANEL_HEIGHT = 320;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 40;
    private static final double MIN_MS = 1;
    private static final double MAX_MS = 5000;

    @Parameters(paramLabel = "FILE[=LABEL]", arity = "1..*", description = "Timeline CSV files, each with an optional panel label.")
    List<String> inputs;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "PNG", description = "The image to write.")
    Path output;

    @Option(names = "--p99-goal", defaultValue = "30", description = "Dashed line for the p99 goal, ms. Default: ${DEFAULT-VALUE}")
    double p99Goal;

    @Option(names = "--max-goal", defaultValue = "100", description = "Dashed line for the maximum goal, ms. Default: ${DEFAULT-VALUE}")
    double maxGoal;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<String> labels = new ArrayList<>();
        List<List<Timeline.Row>> panels = new ArrayList<>();
        for (String input : inputs) {
            int eq = input.indexOf('=');
            Path file = Path.of(eq < 0 ? input : input.substring(0, eq));
            labels.add(eq < 0 ? file.getFileName().toString() : input.substring(eq + 1));
            // warm-up seconds (demo --warmup) are left out, as they are of the demo's summary
            panels.add(Timeline.read(file).stream().filter(r -> !r.phase().equals("warmup")).toList());
        }
        BufferedImage image = new BufferedImage(WIDTH, PANEL_HEIGHT * panels.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int i = 0; i < panels.size(); i++) {
            drawPanel(g, i * PANEL_HEIGHT, labels.get(i), panels.get(i));
        }
        g.dispose();
        if (!ImageIO.write(image, "png", output.toFile())) {
            throw new IllegalStateException("no PNG writer in this JVM");
        }
        spec.commandLine().getOut().println("plot " + output.toAbsolutePath());
        return 0;
    }

    private void drawPanel(Graphics2D g, int y0, String label, List<Timeline.Row> rows) {
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = PANEL_HEIGHT - TOP - BOTTOM;
        long first = rows.isEmpty() ? 0 : rows.get(0).second() - 1;
        long last = rows.isEmpty() ? 1 : rows.get(rows.size() - 1).second();
        double span = Math.max(1, last - first);
        java.util.function.DoubleUnaryOperator x = s -> LEFT + (s - first) / span * plotW;
        java.util.function.DoubleUnaryOperator y = ms -> y0 + TOP + plotH
                - (Math.log10(Math.max(MIN_MS, Math.min(MAX_MS, ms))) - Math.log10(MIN_MS))
                / (Math.log10(MAX_MS) - Math.log10(MIN_MS)) * plotH;
        // shaded seconds: checkpoint in progress (grey), job not running (orange)
        for (Timeline.Row r : rows) {
            boolean down = !r.phase().equals("run") && !r.phase().equals("warmup") && !r.phase().equals("resumed");
            if (r.checkpoint() || down) {
                g.setColor(down ? new Color(255, 220, 180) : new Color(225, 225, 225));
                int xa = (int) x.applyAsDouble(r.second() - 1);
                int xb = (int) Math.ceil(x.applyAsDouble(r.second()));
                g.fillRect(xa, y0 + TOP, Math.max(1, xb - xa), plotH);
            }
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, y0 + TOP, plotW, plotH);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (double ms : new double[] {1, 10, 100, 1000}) {
            int yy = (int) y.applyAsDouble(ms);
            g.setColor(new Color(200, 200, 200));
            g.drawLine(LEFT, yy, LEFT + plotW, yy);
            g.setColor(Color.BLACK);
            g.drawString((long) ms + " ms", 8, yy + 4);
        }
        long step = span > 400 ? 60 : span > 100 ? 30 : 10;
        for (long s = (first / step + 1) * step; s <= last; s += step) {
            int xx = (int) x.applyAsDouble(s);
            g.drawLine(xx, y0 + TOP + plotH, xx, y0 + TOP + plotH + 4);
            g.drawString(s + " s", xx - 10, y0 + TOP + plotH + 16);
        }
        Stroke.dashed(g, new Color(0, 90, 200), (int) y.applyAsDouble(p99Goal), LEFT, LEFT + plotW);
        Stroke.dashed(g, new Color(200, 30, 30), (int) y.applyAsDouble(maxGoal), LEFT, LEFT + plotW);
        series(g, rows, x, y, new Color(200, 30, 30), true);
        series(g, rows, x, y, new Color(0, 90, 200), false);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        g.drawString(label, LEFT, y0 + 16);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int lx = LEFT;
        g.setColor(new Color(0, 90, 200));
        g.drawString("p99 per second (goal " + (long) p99Goal + " ms)", lx, y0 + 34);
        g.setColor(new Color(200, 30, 30));
        g.drawString("max per second (goal " + (long) maxGoal + " ms)", lx + 190, y0 + 34);
        g.setColor(Color.GRAY);
        g.drawString("grey: a checkpoint started or ran in that second", lx + 390, y0 + 34);
        g.setColor(Color.BLACK);
        g.drawString("request → score latency, log scale; x: seconds since traffic started", LEFT, y0 + PANEL_HEIGHT - 8);
    }

    private static void series(Graphics2D g, List<Timeline.Row> rows, java.util.function.DoubleUnaryOperator x,
                               java.util.function.DoubleUnaryOperator y, Color color, boolean max) {
        g.setColor(color);
        g.setStroke(new BasicStroke(1.5f));
        int px = -1;
        int py = -1;
        for (Timeline.Row r : rows) {
            if (r.scores() == 0) {
                px = -1; // no score this second: a gap, not a zero
                continue;
            }
            int xx = (int) x.applyAsDouble(r.second() - 0.5);
            int yy = (int) y.applyAsDouble(max ? r.max() : r.p99());
            if (px >= 0) {
                g.drawLine(px, py, xx, yy);
            }
            px = xx;
            py = yy;
        }
        g.setStroke(new BasicStroke(1f));
    }

    private static final class Stroke {
        static void dashed(Graphics2D g, Color c, int yy, int xa, int xb) {
            g.setColor(c);
            g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            g.drawLine(xa, yy, xb, yy);
            g.setStroke(new BasicStroke(1f));
        }
    }
}
