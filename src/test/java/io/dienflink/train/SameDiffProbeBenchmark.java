package io.dienflink.train;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.weightinit.impl.XavierInitScheme;
import org.nd4j.weightinit.impl.ZeroInitScheme;

/**
 * The measurement behind training without SameDiff: ND4J 1.0.0-M2.1 SameDiff asked to train the
 * extractor alone — an item embedding and a GRU unrolled over T steps (gates sliced from one
 * kernel, as the bundle stores them), a logistic output, Adam, batch 256 — for one iteration.
 * Prints, per T, the time of the iteration or what went wrong. Not part of the test suite; run with
 * {@code ./mvnw -q test -Dtest=SameDiffProbeBenchmark -Dgroups=benchmark -DexcludedGroups=none}.
 */
@Tag("benchmark")
class SameDiffProbeBenchmark {
    private static final int H = 36;
    private static final int D = 36;
    private static final int B = 256;
    private static final int N = 5_000;

    @Test
    void oneTrainingIterationPerHistoryLength() throws Exception {
        for (int t : new int[] {1, 20}) {
            ExecutorService ex = Executors.newSingleThreadExecutor();
            long start = System.nanoTime();
            Future<?> f = ex.submit(() -> {
                fitOnce(t);
                return null;
            });
            String outcome;
            try {
                f.get(180, TimeUnit.SECONDS);
                outcome = String.format("one iteration in %.1f s", (System.nanoTime() - start) / 1e9);
            } catch (TimeoutException e) {
                outcome = "no iteration finished within 180 s";
            } catch (java.util.concurrent.ExecutionException e) {
                outcome = "failed: " + e.getCause();
            } finally {
                ex.shutdownNow();
            }
            System.out.printf("| SameDiff, GRU over T = %d, batch %d | %s |%n", t, B, outcome);
        }
    }

    private static void fitOnce(int t) {
        SameDiff sd = SameDiff.create();
        SDVariable hist = sd.placeHolder("hist", DataType.INT, -1, t);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, 1);
        SDVariable emb = sd.var("emb", new XavierInitScheme('c', N, D), DataType.FLOAT, N, D);
        SDVariable kx = sd.var("kx", new XavierInitScheme('c', D, 3 * H), DataType.FLOAT, D, 3 * H);
        SDVariable kh = sd.var("kh", new XavierInitScheme('c', H, 3 * H), DataType.FLOAT, H, 3 * H);
        SDVariable bx = sd.var("bx", new ZeroInitScheme('c'), DataType.FLOAT, 1, 3 * H);
        SDVariable w = sd.var("w", new XavierInitScheme('c', H, 1), DataType.FLOAT, H, 1);
        SDVariable x = sd.gather(emb, hist, 0);
        SDVariable h = null;
        for (int i = 0; i < t; i++) {
            SDVariable gx = x.get(SDIndex.all(), SDIndex.point(i), SDIndex.all()).mmul(kx).add(bx);
            SDVariable gh = h == null ? null : h.mmul(kh);
            SDVariable r = sd.nn.sigmoid(gate(gx, gh, 0));
            SDVariable u = sd.nn.sigmoid(gate(gx, gh, 1));
            SDVariable hc = gh == null ? null : r.mul(gh.get(SDIndex.all(), SDIndex.interval(2 * H, 3 * H)));
            SDVariable cx = gx.get(SDIndex.all(), SDIndex.interval(2 * H, 3 * H));
            SDVariable c = sd.math.tanh(hc == null ? cx : cx.add(hc));
            h = h == null ? u.rsub(1.0).mul(c) : u.mul(h).add(u.rsub(1.0).mul(c));
        }
        sd.loss.sigmoidCrossEntropy("loss", label, h.mmul(w), null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-3)).dataSetFeatureMapping("hist")
                .dataSetLabelMapping("label").build());
        INDArray hx = Nd4j.create(DataType.INT, B, t);
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < t; i++) {
                hx.putScalar(b, i, (b * 7 + i * 13) % N);
            }
        }
        INDArray y = Nd4j.rand(DataType.FLOAT, B, 1).gt(0.5).castTo(DataType.FLOAT);
        sd.fit(new MultiDataSet(new INDArray[] {hx}, new INDArray[] {y}));
    }

    private static SDVariable gate(SDVariable gx, SDVariable gh, int g) {
        SDVariable a = gx.get(SDIndex.all(), SDIndex.interval(g * H, (g + 1) * H));
        return gh == null ? a : a.add(gh.get(SDIndex.all(), SDIndex.interval(g * H, (g + 1) * H)));
    }
}
