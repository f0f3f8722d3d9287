package io.dienflink.evaluate;

import io.dienflink.avro.Candidate;
import io.dienflink.avro.CandidateScore;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.HistoryClick;
import io.dienflink.avro.Impression;
import io.dienflink.avro.ModelEval;
import io.dienflink.avro.ServingLog;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.UserKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Known input of the evaluate job's integration tests and what the job must make of it: three
 * minutes of requests of a few users, scored by a champion (every request) and a challenger (most
 * requests), impressions showing four of five candidates, a serving-log record for every other
 * request, and clicks at random delays around the attribution window; plus one user with a burst of
 * more requests than the pending bound. Expected labels follow docs/evaluation.md's rule as written
 * (r ≤ t ≤ r + W, shown only), computed here from the clicks; expected ModelEvals from those labels
 * with {@link BinaryMetrics}.
 */
final class EvaluateWorld {
    static final long T0 = 1_767_225_600_000L; // 2026-01-01T00:00Z
    static final long W = 30_000;
    static final int MAX_PENDING = 150; // a usual user has 150 requests in the whole run: only the burst overflows
    static final String CHAMPION = "fA";
    static final String CHALLENGER = "fB";
    static final long HEAVY_USER = 999_000;
    static final int HEAVY_REQUESTS = 160;
    static final int CANDIDATES = 5;

    /** One record for a topic, at its event time. */
    record Out(String topic, long time, long user, SpecificRecordBase value) {}

    record Request(String id, long user, long time, long[] items, float[] champion, float[] challenger, boolean logged) {}

    final List<Out> records = new ArrayList<>();
    final List<Request> requests = new ArrayList<>();
    final Map<Long, List<long[]>> clicks = new HashMap<>(); // user → (time, item)
    final long end;

    EvaluateWorld(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        // six users on each of the two partitions (the producer's default partitioner), so that every
        // partition of every topic has records all along and none has to be declared idle
        long[] users = new long[12];
        int[] perPartition = new int[2];
        for (long id = 1000, i = 0; i < users.length; id += 1000) {
            int partition = org.apache.kafka.common.utils.Utils.toPositive(
                    org.apache.kafka.common.utils.Utils.murmur2(UserKeys.key(id))) % 2;
            if (perPartition[partition] < users.length / 2) {
                perPartition[partition]++;
                users[(int) i++] = id;
            }
        }
        int n = 1_800; // 3 minutes, a request every 100 ms
        for (int k = 0; k < n; k++) {
            long user = users[k % users.length];
            long time = T0 + k * 100L;
            long[] items = new long[CANDIDATES];
            float[] a = new float[CANDIDATES];
            float[] b = new float[CANDIDATES];
            for (int i = 0; i < CANDIDATES; i++) {
                items[i] = 100 + (k * 7 + i * 13) % 40 + 40 * (i % 2);
                double truth = rnd.nextDouble() < 0.25 ? 1 : 0;
                a[i] = (float) Math.min(0.95, Math.max(0.02, 0.2 + 0.3 * truth + 0.3 * (rnd.nextDouble() - 0.5)));
                b[i] = (float) Math.min(0.95, Math.max(0.02, 0.25 + 0.1 * truth + 0.3 * (rnd.nextDouble() - 0.5)));
                if (truth == 1) { // clicked, sometimes after the window
                    long at = time + (long) (rnd.nextDouble() * 1.4 * W);
                    clicks.computeIfAbsent(user, u -> new ArrayList<>()).add(new long[] {at, items[i]});
                }
            }
            // now and then a click just before the request, on one of its items: must not count
            if (k % 17 == 0) {
                clicks.computeIfAbsent(user, u -> new ArrayList<>()).add(new long[] {time - 1, items[2]});
            }
            boolean challenged = k % 10 != 3;
            add(new Request("r" + k, user, time, items, a, challenged ? b : null, k % 2 == 0));
        }
        // a burst: more pending requests than the bound; the 10 oldest are dropped
        for (int k = 0; k < HEAVY_REQUESTS; k++) {
            long time = T0 + 90_000 + k * 10L;
            long[] items = {1, 2, 3, 4, 5};
            float[] s = {.1f, .2f, .3f, .4f, .5f};
            add(new Request("h" + k, HEAVY_USER, time, items, s, s, false));
        }
        clicks.computeIfAbsent(HEAVY_USER, u -> new ArrayList<>()).add(new long[] {T0 + 95_000, 3});
        for (Map.Entry<Long, List<long[]>> e : clicks.entrySet()) {
            int i = 0;
            for (long[] c : e.getValue()) {
                records.add(new Out("clicks", c[0], e.getKey(), new ClickEvent("c" + e.getKey() + "-" + i++, e.getKey(), c[1],
                        c[1] % 10, Instant.ofEpochMilli(c[0]))));
            }
        }
        records.sort((x, y) -> Long.compare(x.time(), y.time()));
        end = T0 + 10 * 60_000;
    }

    private void add(Request r) {
        requests.add(r);
        records.add(new Out("scores", r.time(), r.user(), score(r, CHAMPION, r.champion())));
        if (r.challenger() != null) {
            records.add(new Out("shadow", r.time(), r.user(), score(r, CHALLENGER, r.challenger())));
        }
        List<Long> shown = new ArrayList<>();
        for (int i = 0; i < CANDIDATES - 1; i++) {
            shown.add(r.items()[i]);
        }
        records.add(new Out("impressions", r.time() + 10, r.user(), new Impression(r.id(), r.user(),
                Instant.ofEpochMilli(r.time() + 10), shown)));
        if (r.logged()) {
            List<Candidate> c = new ArrayList<>();
            List<Float> s = new ArrayList<>();
            for (int i = 0; i < CANDIDATES; i++) {
                c.add(new Candidate(r.items()[i], r.items()[i] % 10));
                s.add(r.champion()[i]);
            }
            records.add(new Out("serving-log", r.time(), r.user(), new ServingLog(r.id(), r.user(),
                    Instant.ofEpochMilli(r.time()), Instant.ofEpochMilli(r.time() + 3), "v-" + CHAMPION, CHAMPION, 4L,
                    List.of(new HistoryClick(7L, 7L)), c, s, List.of())));
        }
    }

    private static CtrScore score(Request r, String fp, float[] ctr) {
        List<CandidateScore> s = new ArrayList<>();
        for (int i = 0; i < ctr.length; i++) {
            s.add(new CandidateScore(r.items()[i], ctr[i]));
        }
        return new CtrScore(r.id(), r.user(), "v-" + fp, fp, s, 4, 4L, Instant.ofEpochMilli(r.time()),
                Instant.ofEpochMilli(r.time() + 3));
    }

    /** The rule of docs/evaluation.md: 1 clicked within [r, r + W], 0 not, −1 not shown (the last candidate). */
    int[] labels(Request r) {
        int[] y = new int[CANDIDATES];
        for (int i = 0; i < CANDIDATES; i++) {
            if (i == CANDIDATES - 1) {
                y[i] = -1;
                continue;
            }
            for (long[] c : clicks.getOrDefault(r.user(), List.of())) {
                if (c[1] == r.items()[i] && c[0] >= r.time() && c[0] <= r.time() + W) {
                    y[i] = 1;
                }
            }
        }
        return y;
    }

    boolean dropped(Request r) {
        return r.user() == HEAVY_USER && Integer.parseInt(r.id().substring(1)) < HEAVY_REQUESTS - MAX_PENDING;
    }

    /** The ModelEvals the job must write, by "fingerprint/role/minute". */
    Map<String, ModelEval> expectedEvals() {
        Map<String, List<double[]>> rows = new TreeMap<>(); // score, label, champion score (NaN)
        Map<String, Long> dropped = new HashMap<>();
        for (Request r : requests) {
            long minute = Math.floorDiv(r.time(), 60_000L) * 60_000L;
            int[] y = labels(r);
            for (int role = 0; role < 2; role++) {
                float[] s = role == 0 ? r.champion() : r.challenger();
                if (s == null) {
                    continue;
                }
                String key = (role == 0 ? CHAMPION + "/champion/" : CHALLENGER + "/challenger/") + minute;
                if (dropped(r)) {
                    dropped.merge(key, (long) CANDIDATES, Long::sum);
                    rows.computeIfAbsent(key, k -> new ArrayList<>());
                    continue;
                }
                for (int i = 0; i < CANDIDATES; i++) {
                    if (y[i] >= 0) {
                        rows.computeIfAbsent(key, k -> new ArrayList<>())
                                .add(new double[] {s[i], y[i], role == 1 ? r.champion()[i] : Double.NaN});
                    }
                }
            }
        }
        Map<String, ModelEval> out = new LinkedHashMap<>();
        rows.forEach((key, list) -> {
            String[] p = key.split("/");
            boolean challenger = p[1].equals("challenger");
            List<Labelled> ls = new ArrayList<>();
            for (double[] v : list) {
                Labelled l = new Labelled();
                l.score = (float) v[0];
                l.label = (int) v[1];
                l.championScore = (float) v[2];
                ls.add(l);
            }
            double[] sc = list.stream().mapToDouble(v -> v[0]).toArray();
            int[] y = list.stream().mapToInt(v -> (int) v[1]).toArray();
            long pos = java.util.Arrays.stream(y).sum();
            double ll = BinaryMetrics.logLoss(sc, y);
            ModelEval.Builder b = ModelEval.newBuilder().setModelFingerprint(p[0]).setModelVersion("v-" + p[0]).setRole(p[1])
                    .setMinute(Instant.ofEpochMilli(Long.parseLong(p[2]))).setLabelled(sc.length).setPositives(pos)
                    .setAuc(BinaryMetrics.auc(sc, y)).setLogLoss(ll)
                    .setNormalizedEntropy(BinaryMetrics.normalizedEntropy(ll, pos, sc.length))
                    .setCalibration(BinaryMetrics.calibration(java.util.Arrays.stream(sc).sum(), pos))
                    .setSumPredicted(java.util.Arrays.stream(sc).sum()).setSumLogLoss(sc.length == 0 ? 0 : ll * sc.length)
                    .setDroppedPending(dropped.getOrDefault(key, 0L));
            if (challenger) {
                double[] champ = list.stream().filter(v -> !Double.isNaN(v[2])).mapToDouble(v -> v[2]).toArray();
                double[] own = list.stream().filter(v -> !Double.isNaN(v[2])).mapToDouble(v -> v[0]).toArray();
                int[] py = list.stream().filter(v -> !Double.isNaN(v[2])).mapToInt(v -> (int) v[1]).toArray();
                b.setPaired(champ.length);
                if (champ.length > 0) {
                    b.setPsi(BinaryMetrics.psi(BinaryMetrics.histogram(champ), BinaryMetrics.histogram(own)));
                    BinaryMetrics.PairedAuc d = BinaryMetrics.delong(champ, own, py);
                    b.setAucDifference(d.difference()).setAucDifferenceVariance(d.variance());
                }
            }
            out.put(key, b.build());
        });
        return out;
    }

    /** The labelled serving log the job must write: request id → labels. */
    Map<String, List<Integer>> expectedLogs() {
        Map<String, List<Integer>> out = new TreeMap<>();
        for (Request r : requests) {
            if (r.logged()) {
                out.put(r.id(), java.util.Arrays.stream(labels(r)).boxed().toList());
            }
        }
        return out;
    }

    /** Sends the records in event-time order, {@code speedup} times faster than event time; stops at {@code stop}. */
    void send(KafkaProducer<byte[], byte[]> producer, Map<String, String> topics, double speedup,
              java.util.function.DoubleConsumer progress) throws InterruptedException {
        long wallStart = System.currentTimeMillis();
        long first = records.get(0).time();
        for (int i = 0; i < records.size(); i++) {
            Out o = records.get(i);
            long due = wallStart + (long) ((o.time() - first) / speedup);
            long wait = due - System.currentTimeMillis();
            if (wait > 0) {
                producer.flush();
                Thread.sleep(wait);
            }
            producer.send(new ProducerRecord<>(topics.get(o.topic()), UserKeys.key(o.user()), AvroMessages.encode(o.value())));
            progress.accept((i + 1) / (double) records.size());
        }
        producer.flush();
    }

    /** A record far ahead in event time on every partition of every input: the watermark passes every window. */
    void close(KafkaProducer<byte[], byte[]> producer, Map<String, String> topics, int partitions) {
        long u = 77_000;
        for (int p = 0; p < partitions; p++) {
            Instant t = Instant.ofEpochMilli(end);
            send(producer, topics.get("scores"), p, new CtrScore("end" + p, u, "v-" + CHAMPION, CHAMPION, List.of(), 0, 0L, t, t));
            send(producer, topics.get("shadow"), p, new CtrScore("end" + p, u, "v-" + CHALLENGER, CHALLENGER, List.of(), 0, 0L, t, t));
            send(producer, topics.get("clicks"), p, new ClickEvent("end" + p, u, 1L, 1L, t));
            send(producer, topics.get("impressions"), p, new Impression("end" + p, u, t, List.of()));
            send(producer, topics.get("serving-log"), p, new ServingLog("end" + p, u, t, t, "v", CHAMPION, 0L, List.of(),
                    List.of(), List.of(), List.of()));
        }
        producer.flush();
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, int partition, SpecificRecordBase value) {
        producer.send(new ProducerRecord<>(topic, partition, UserKeys.key(77_000), AvroMessages.encode(value)));
    }
}
