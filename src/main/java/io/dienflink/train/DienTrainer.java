package io.dienflink.train;

import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.Semantics;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Trains a {@link Network} with minibatch Adam: the batch is split across worker threads, each with
 * its own workspace and gradient buffers, and the summed gradients make one update. After each epoch
 * the test set is scored (AUC, logloss). Progress goes to the given writer as a one-line bar.
 */
public final class DienTrainer {
    private final TrainConfig cfg;
    private final Dataset data;
    private final PrintWriter progress;

    /** Held-out metrics after one epoch. */
    public record Epoch(int epoch, double trainLoss, double auxLoss, double auc, double logloss, double samplesPerSecond) {}

    /** What a training run produced; the curve holds (samples seen, mean training loss) points. */
    public record Result(Network network, List<Epoch> epochs, List<double[]> lossCurve, double auc, double logloss,
                         double samplesPerSecond, float[] testPredictions) {}

    public DienTrainer(TrainConfig cfg, Dataset data, PrintWriter progress) {
        this.cfg = cfg;
        this.data = data;
        this.progress = progress;
    }

    public Result train() throws Exception {
        Network net = new Network(cfg, data.users.length, data.items.length, data.categories.length);
        Adam adam = new Adam(net, cfg.learningRate());
        int threads = cfg.threads();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        Network.Workspace[] ws = new Network.Workspace[threads];
        Network.Gradients[] gs = new Network.Gradients[threads];
        for (int i = 0; i < threads; i++) {
            ws[i] = net.newWorkspace();
            gs[i] = net.newGradients();
        }
        List<Epoch> epochs = new ArrayList<>();
        List<double[]> curve = new ArrayList<>();
        int n = data.train.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(cfg.seed());
        long seen = 0;
        double totalSeconds = 0;
        float[] predictions = new float[0];
        try {
            for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                for (int i = n - 1; i > 0; i--) {
                    int j = rnd.nextInt(i + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                long start = System.nanoTime();
                double lossSum = 0;
                double auxSum = 0;
                double windowLoss = 0;
                int windowCount = 0;
                long lastPrint = 0;
                for (int from = 0; from < n; from += cfg.batchSize()) {
                    int to = Math.min(n, from + cfg.batchSize());
                    List<Future<?>> parts = new ArrayList<>();
                    for (int th = 0; th < threads; th++) {
                        int lo = from + (to - from) * th / threads;
                        int hi = from + (to - from) * (th + 1) / threads;
                        Network.Workspace w = ws[th];
                        Network.Gradients g = gs[th];
                        parts.add(pool.submit(() -> {
                            g.clear();
                            for (int i = lo; i < hi; i++) {
                                net.train(data.train.get(order[i]), w, g);
                            }
                        }));
                    }
                    for (Future<?> f : parts) {
                        f.get();
                    }
                    for (int th = 1; th < threads; th++) {
                        gs[0].add(gs[th]);
                    }
                    adam.step(gs[0], to - from);
                    lossSum += gs[0].loss;
                    auxSum += gs[0].auxLoss;
                    windowLoss += gs[0].loss;
                    windowCount += to - from;
                    seen += to - from;
                    if (windowCount >= 2_000 || to == n) {
                        curve.add(new double[] {seen, windowLoss / windowCount});
                        windowLoss = 0;
                        windowCount = 0;
                    }
                    long now = System.nanoTime();
                    if (progress != null && (now - lastPrint > 500_000_000L || to == n)) {
                        lastPrint = now;
                        double sec = (now - start) / 1e9;
                        double rate = to / Math.max(sec, 1e-9);
                        long eta = (long) ((n - to) / Math.max(rate, 1e-9));
                        progress.printf("\repoch %d/%d %s %3d%% loss %.4f aux %.4f %6.0f samples/s ETA %d:%02d   ", epoch,
                                cfg.epochs(), bar(to, n), 100L * to / n, lossSum / to, auxSum / to, rate, eta / 60, eta % 60);
                        progress.flush();
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                totalSeconds += seconds;
                predictions = predict(net, data.test, pool, ws);
                int[] labels = data.test.stream().mapToInt(Sample::label).toArray();
                Epoch e = new Epoch(epoch, lossSum / n, auxSum / n, Metrics.auc(predictions, labels),
                        Metrics.logloss(predictions, labels), n / seconds);
                epochs.add(e);
                if (progress != null) {
                    progress.printf("%nepoch %d: train loss %.4f, test AUC %.4f, test logloss %.4f, %.0f samples/s%n", epoch,
                            e.trainLoss(), e.auc(), e.logloss(), e.samplesPerSecond());
                    progress.flush();
                }
            }
        } finally {
            pool.shutdownNow();
        }
        Epoch last = epochs.get(epochs.size() - 1);
        return new Result(net, epochs, curve, last.auc(), last.logloss(), seen / totalSeconds, predictions);
    }

    private static String bar(int done, int total) {
        int width = 24;
        int filled = (int) ((long) width * done / total);
        return "[" + "=".repeat(filled) + (filled < width ? ">" + " ".repeat(width - filled - 1) : "") + "]";
    }

    /** Click probabilities of the examples, in order (forward passes only, across the pool). */
    static float[] predict(Network net, List<Sample> samples, ExecutorService pool, Network.Workspace[] ws) throws Exception {
        float[] out = new float[samples.size()];
        List<Future<?>> parts = new ArrayList<>();
        int threads = ws.length;
        for (int th = 0; th < threads; th++) {
            int lo = samples.size() * th / threads;
            int hi = samples.size() * (th + 1) / threads;
            Network.Workspace w = ws[th];
            parts.add(pool.submit(() -> {
                for (int i = lo; i < hi; i++) {
                    out[i] = net.forward(samples.get(i), w);
                }
            }));
        }
        for (Future<?> f : parts) {
            f.get();
        }
        return out;
    }

    /**
     * Test AUC of an exported bundle under the streaming semantics: every user's clicks replayed in
     * time order through the model core, each test example scored against the state its user has at
     * that moment. Needs the event log (synthetic data); NaN without it.
     */
    public static double streamingAuc(ModelBundle bundle, RawData raw) {
        if (raw.events() == null) {
            return Double.NaN;
        }
        DienScorer scorer = DienModel.from(bundle).newScorer();
        Map<Long, InterestState> states = new HashMap<>();
        float[] p = new float[raw.test().size()];
        float[] ctr = new float[1];
        for (long[] e : raw.events()) {
            InterestState s = states.computeIfAbsent(e[0], u -> scorer.newState());
            if (e[1] >= 0) {
                s.append(scorer, e[1], e[2]);
            } else {
                int i = (int) (-1 - e[1]);
                RawSample t = raw.test().get(i);
                s.score(scorer, t.user(), new long[] {t.candidateItem()}, new long[] {t.candidateCategory()}, 1,
                        Semantics.STREAMING, ctr);
                p[i] = ctr[0];
            }
        }
        return Metrics.auc(p, raw.test().stream().mapToInt(RawSample::label).toArray());
    }
}
