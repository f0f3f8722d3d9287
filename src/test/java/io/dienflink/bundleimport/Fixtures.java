package io.dienflink.bundleimport;

import io.dienflink.cli.Main;
import io.dienflink.model.NpyArray;
import io.dienflink.model.NpzFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine;

/**
 * Test helpers that write source fixtures without the importer: random arrays under a framework's
 * names, npz files (the model package's writer, as {@code numpy.savez} lays them out) and CLI runs.
 */
final class Fixtures {
    private Fixtures() {}

    /** Weights of {@code shape} uniform in [-scale, scale], as float32 or float64 like the two frameworks' exports. */
    static double[] random(SplittableRandom rnd, double scale, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            // Round through float so that a float32 fixture holds exactly what the reference computes with.
            w[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return w;
    }

    static NpyArray array(double[] w, boolean float64, int... shape) {
        if (float64) {
            return NpyArray.ofDoubles(shape, w.clone());
        }
        float[] f = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            f[i] = (float) w[i];
        }
        return NpyArray.ofFloats(shape, f);
    }

    static void writeNpz(Path file, Map<String, NpyArray> arrays) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            NpzFormat.write(out, arrays);
        }
    }

    record Run(int exit, String out, String err) {}

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** {@code x · W} with W row-major {@code [x.length, cols]}, plus b. */
    static double[] affine(double[] x, double[] w, double[] b, int cols) {
        double[] y = new double[cols];
        for (int j = 0; j < cols; j++) {
            double acc = b == null ? 0 : b[j];
            for (int i = 0; i < x.length; i++) {
                acc += x[i] * w[i * cols + j];
            }
            y[j] = acc;
        }
        return y;
    }

    /** {@code W · x} with W row-major {@code [rows, x.length]} (PyTorch's Linear weight), plus b. */
    static double[] linear(double[] w, double[] x, double[] b, int rows) {
        double[] y = new double[rows];
        for (int i = 0; i < rows; i++) {
            double acc = b == null ? 0 : b[i];
            for (int j = 0; j < x.length; j++) {
                acc += w[i * x.length + j] * x[j];
            }
            y[i] = acc;
        }
        return y;
    }

    static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] out = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    static double[] row(double[] table, int row, int width) {
        return java.util.Arrays.copyOfRange(table, row * width, (row + 1) * width);
    }

    static double[] softmax(double[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : s) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = Math.exp(s[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < s.length; i++) {
            out[i] /= sum;
        }
        return out;
    }
}
