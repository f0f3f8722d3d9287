package io.dienflink.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** The artefacts written next to a trained model: a PNG of the training curves and a model card. */
public final class TrainingReport {
    private TrainingReport() {}

    /** Training loss over samples seen (left) and held-out AUC and logloss per epoch (right). */
    public static void plot(Path png, String title, DienTrainer.Result r) throws IOException {
        int w = 1000;
        int h = 420;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 20, 22);
        double[] xs = r.lossCurve().stream().mapToDouble(p -> p[0]).toArray();
        double[] ys = r.lossCurve().stream().mapToDouble(p -> p[1]).toArray();
        panel(g, 60, 50, 400, 320, "training loss (per 2,000 samples)", "samples seen", xs, new double[][] {ys},
                new Color[] {new Color(0x1f77b4)}, new String[] {"loss"});
        double[] ex = r.epochs().stream().mapToDouble(DienTrainer.Epoch::epoch).toArray();
        double[] auc = r.epochs().stream().mapToDouble(DienTrainer.Epoch::auc).toArray();
        double[] ll = r.epochs().stream().mapToDouble(DienTrainer.Epoch::logloss).toArray();
        panel(g, 560, 50, 400, 320, "held-out AUC and logloss", "epoch", ex, new double[][] {auc, ll},
                new Color[] {new Color(0x2ca02c), new Color(0xd62728)}, new String[] {"AUC", "logloss"});
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static void panel(Graphics2D g, int x0, int y0, int pw, int ph, String title, String xLabel, double[] xs,
                              double[][] series, Color[] colors, String[] names) {
        double xMin = Double.MAX_VALUE;
        double xMax = -Double.MAX_VALUE;
        double yMin = Double.MAX_VALUE;
        double yMax = -Double.MAX_VALUE;
        for (double x : xs) {
            xMin = Math.min(xMin, x);
            xMax = Math.max(xMax, x);
        }
        for (double[] s : series) {
            for (double y : s) {
                if (Double.isFinite(y)) {
                    yMin = Math.min(yMin, y);
                    yMax = Math.max(yMax, y);
                }
            }
        }
        if (xMax <= xMin) {
            xMax = xMin + 1;
        }
        double pad = Math.max(1e-3, (yMax - yMin) * 0.1);
        yMin -= pad;
        yMax += pad;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(title, x0, y0 - 8);
        g.drawRect(x0, y0, pw, ph);
        g.drawString(xLabel, x0 + pw / 2 - 30, y0 + ph + 32);
        for (int i = 0; i <= 4; i++) {
            double yv = yMin + (yMax - yMin) * i / 4;
            int y = y0 + ph - (int) (ph * i / 4.0);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x0 + 1, y, x0 + pw - 1, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.3f", yv), x0 - 52, y + 4);
            double xv = xMin + (xMax - xMin) * i / 4;
            g.drawString(xv >= 1000 ? String.format(Locale.ROOT, "%.0fk", xv / 1000) : String.format(Locale.ROOT, "%.1f", xv),
                    x0 + (int) (pw * i / 4.0) - 10, y0 + ph + 16);
        }
        g.setStroke(new BasicStroke(2f));
        for (int s = 0; s < series.length; s++) {
            g.setColor(colors[s]);
            int px = -1;
            int py = -1;
            for (int i = 0; i < xs.length; i++) {
                if (!Double.isFinite(series[s][i])) {
                    continue;
                }
                int x = x0 + (int) ((xs[i] - xMin) / (xMax - xMin) * pw);
                int y = y0 + ph - (int) ((series[s][i] - yMin) / (yMax - yMin) * ph);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                if (xs.length <= 60) {
                    g.fillOval(x - 3, y - 3, 6, 6);
                }
                px = x;
                py = y;
            }
            g.drawString(names[s], x0 + pw - 70, y0 + 18 + 16 * s);
        }
        g.setStroke(new BasicStroke(1f));
    }

    /** A Markdown model card: what was trained on what, how, and how well. */
    public static void modelCard(Path md, TrainConfig cfg, Dataset data, DienTrainer.Result r, double streamingAuc,
                                 String fingerprint, String command) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("# Model card: ").append(cfg.kind()).append('\n').append('\n');
        b.append("* Trained by `dien-flink train` (hand-written backpropagation, Adam), seed ").append(cfg.seed()).append('\n');
        b.append("* Command: `").append(command).append("`\n");
        b.append("* Data: ").append(data).append('\n');
        b.append(String.format(Locale.ROOT, "* Architecture: E = %d, H = %d, T = %d, attention %s (sigmoid, query projection), "
                        + "head %s (PReLU, no batch norm), TF1 cells (reset before), AUGRU code form, auxiliary loss weight %.2f%n",
                cfg.embeddingDim(), cfg.hiddenDim(), cfg.maxHistory(), cfg.attentionLayers(), cfg.headLayers(), cfg.auxWeight()));
        b.append(String.format(Locale.ROOT, "* Optimiser: Adam, learning rate %g, batch %d, %d epochs, %d threads%n",
                cfg.learningRate(), cfg.batchSize(), cfg.epochs(), cfg.threads()));
        if (fingerprint != null) {
            b.append("* Bundle fingerprint: `").append(fingerprint).append("`\n");
        }
        b.append('\n').append("| epoch | train loss | aux loss | test AUC | test logloss | samples/s |\n");
        b.append("|---:|---:|---:|---:|---:|---:|\n");
        for (DienTrainer.Epoch e : r.epochs()) {
            b.append(String.format(Locale.ROOT, "| %d | %.4f | %.4f | %.4f | %.4f | %.0f |%n", e.epoch(), e.trainLoss(),
                    e.auxLoss(), e.auc(), e.logloss(), e.samplesPerSecond()));
        }
        b.append('\n').append(String.format(Locale.ROOT, "Held-out AUC %.4f, logloss %.4f (windowed semantics: the last T clicks)",
                r.auc(), r.logloss()));
        if (Double.isFinite(streamingAuc)) {
            b.append(String.format(Locale.ROOT, "; AUC %.4f under streaming semantics (every user's whole click stream, "
                    + "replayed through the model core as the job computes it)", streamingAuc));
        }
        b.append(".\n\n![training curves](training.png)\n");
        Files.writeString(md, b.toString());
    }
}
