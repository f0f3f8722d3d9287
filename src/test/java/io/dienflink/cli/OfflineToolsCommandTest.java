package io.dienflink.cli;

import static io.dienflink.offline.ModelEvals.challenger;
import static io.dienflink.offline.ModelEvals.champion;
import static io.dienflink.offline.ModelEvals.minute;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dienflink.avro.Candidate;
import io.dienflink.avro.HistoryClick;
import io.dienflink.avro.ModelEval;
import io.dienflink.avro.ServingLog;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.local.EmbeddedKafkaCluster;
import io.dienflink.model.DienModel;
import io.dienflink.model.DienScorer;
import io.dienflink.model.InterestState;
import io.dienflink.model.ModelBundle;
import io.dienflink.model.Semantics;
import io.dienflink.reference.Nd4jReferenceModel;
import io.dienflink.train.OfficialFormat;
import io.dienflink.train.RawSample;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval-report}, {@code export-samples} and {@code evaluate --model --data} against a real
 * in-JVM broker, on records written as the evaluate job writes them. Expected values come from the
 * formulas written out here, from the reference model (ND4J, op by op) and from the metric definitions
 * (AUC as the share of positive–negative pairs ranked right, log loss as the mean of −log p).
 */
class OfflineToolsCommandTest {
    private static final Path BUNDLE = Path.of("bundles/demo");
    private static EmbeddedKafkaCluster kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaCluster.start(null);
        kafka.createTopics(2, List.of("model-eval", "serving-log-labelled", "export-counts", "short-log", "mixed-log"));
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    private static void send(String topic, List<? extends SpecificRecordBase> records, byte[]... raw) throws Exception {
        Properties p = kafka.clientProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (SpecificRecordBase r : records) {
                producer.send(new ProducerRecord<>(topic, AvroMessages.encode(r))).get();
            }
            for (byte[] b : raw) {
                producer.send(new ProducerRecord<>(topic, b)).get();
            }
        }
    }

    private static Map<String, String> fields(String out, String linePrefix) {
        String line = out.lines().filter(l -> l.startsWith(linePrefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with '" + linePrefix + "' in:\n" + out));
        java.util.LinkedHashMap<String, String> m = new java.util.LinkedHashMap<>();
        Matcher k = Pattern.compile("(\\S+)=(\\S+)").matcher(line);
        while (k.find()) {
            m.put(k.group(1), k.group(2));
        }
        return m;
    }

    @Test
    void evalReportPrintsTheComparisonTheVerdictAndAPlot() throws Exception {
        List<ModelEval> records = new ArrayList<>();
        double[] d = {0.02, 0.03, 0.01, 0.025};
        double[] v = {0.00004, 0.00005, 0.00003, 0.00006};
        long[] w = {500, 700, 400, 600};
        for (int m = 0; m < 4; m++) {
            records.add(champion("AAAA", m, 2 * w[m], w[m] / 5, 0.70, w[m] / 5.0 * 2, w[m] * 0.9));
            records.add(challenger("BBBB", m, w[m], w[m] / 5, 0.72, w[m] / 5.0, w[m] * 0.45, w[m], d[m], v[m]));
        }
        records.add(champion("AAAA", 9, 100, 20, 0.70, 20, 45)); // outside --to
        // an undecodable record: counted, not fatal
        send("model-eval", records, new byte[] {1, 2, 3});
        Path png = dir.resolve("report.png");
        CliRun r = CliRun.of("eval-report", "--bootstrap-servers", kafka.bootstrapServers(), "--from", minute(0).toString(),
                "--to", minute(4).toString(), "--png", png.toString(), "--minutes", "--check", "--min-minutes", "4", "--min-labelled", "2000");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        Map<String, String> head = fields(r.out(), "eval-report ");
        assertThat(head).containsEntry("records", "9").containsEntry("in_range", "8").containsEntry("undecodable", "1")
                .containsEntry("duplicates", "0");
        double sw = 0;
        double swd = 0;
        double sw2v = 0;
        for (int m = 0; m < 4; m++) {
            sw += w[m];
            swd += w[m] * d[m];
            sw2v += w[m] * w[m] * v[m];
        }
        double delta = swd / sw;
        double se = Math.sqrt(sw2v / (sw * sw));
        Map<String, String> cmp = fields(r.out(), "compare ");
        assertThat(cmp).containsEntry("champion", "AAAA").containsEntry("challenger", "BBBB").containsEntry("minutes", "4")
                .containsEntry("paired", String.valueOf(sw).replace(".0", ""));
        assertThat(Double.parseDouble(cmp.get("auc_difference"))).isCloseTo(delta, within(1e-6));
        assertThat(Double.parseDouble(cmp.get("ci95_low"))).isCloseTo(delta - 1.96 * se, within(1e-5));
        assertThat(Double.parseDouble(cmp.get("ci95_high"))).isCloseTo(delta + 1.96 * se, within(1e-5));
        assertThat(r.out()).contains("verdict challenger better at 95 %").contains("rule pass");
        Map<String, String> b = fields(r.out(), "model role=challenger");
        assertThat(b).containsEntry("labelled", "2200").containsEntry("positives", "440").containsEntry("minutes", "4");
        assertThat(Double.parseDouble(b.get("log_loss"))).isCloseTo(0.45, within(1e-9));
        assertThat(Double.parseDouble(b.get("calibration"))).isCloseTo(1.0, within(1e-9));
        assertThat(r.out().lines().filter(l -> l.startsWith("minute "))).hasSize(8);
        assertThat(fields(r.out(), "minute time=" + minute(1) + " role=challenger")).containsEntry("paired", "700")
                .containsEntry("auc", "0.720000000");
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1200);
        assertThat(image.getHeight()).isEqualTo(660);

        // a stricter rule fails with exit 3 and names the condition
        CliRun strict = CliRun.of("eval-report", "--bootstrap-servers", kafka.bootstrapServers(), "--to", minute(4).toString(),
                "--check", "--min-minutes", "30");
        assertThat(strict.exit()).as(strict.err()).isEqualTo(3);
        assertThat(strict.out()).contains("check minutes fail").contains("rule fail");
        // nothing in range: exit 1 with the reason
        CliRun none = CliRun.of("eval-report", "--bootstrap-servers", kafka.bootstrapServers(), "--from", minute(20).toString());
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains("no model-eval record");
    }

    private static ServingLog log(String id, long user, Instant t, long[][] window, long[][] candidates, float[] scores,
                                  int[] labels) {
        List<HistoryClick> history = new ArrayList<>();
        for (long[] c : window) {
            history.add(new HistoryClick(c[0], c[1]));
        }
        List<Candidate> cands = new ArrayList<>();
        for (long[] c : candidates) {
            cands.add(new Candidate(c[0], c[1]));
        }
        List<Float> s = new ArrayList<>();
        for (float x : scores) {
            s.add(x);
        }
        return ServingLog.newBuilder().setRequestId(id).setUserId(user).setRequestTime(t).setScoredAt(t.plusMillis(3))
                .setModelVersion("v").setModelFingerprint("fp").setClicksApplied(window.length).setHistory(history)
                .setCandidates(cands).setScores(s).setLabels(Arrays.stream(labels).boxed().toList()).build();
    }

    @Test
    void exportSamplesWritesTheOfficialFormatAndCountsWhatItSkips() throws Exception {
        Instant t = minute(0);
        long[][] window = {{11, 1}, {12, 2}, {13, 1}};
        List<ServingLog> records = List.of(
                log("r1", 7, t, window, new long[][] {{21, 1}, {22, 2}, {23, 3}}, new float[] {0.1f, 0.2f, 0.3f},
                        new int[] {1, 0, -1}),
                log("r2", 8, t.plusSeconds(1), new long[0][], new long[][] {{24, 4}}, new float[] {0.4f}, new int[] {0}),
                log("r1", 7, t, window, new long[][] {{21, 1}, {22, 2}, {23, 3}}, new float[] {0.1f, 0.2f, 0.3f},
                        new int[] {1, 0, -1}), // written twice
                log("r3", 9, t, window, new long[][] {{25, 5}}, new float[] {0.5f}, new int[0]), // no labels
                log("r4", 9, t, window, new long[][] {{25, 5}, {26, 6}}, new float[] {0.5f, 0.6f}, new int[] {1}), // 1 label for 2
                log("r5", -3, t, window, new long[][] {{25, 5}}, new float[] {0.5f}, new int[] {1}), // id the format cannot carry
                log("r6", 9, t.plusSeconds(600), window, new long[][] {{25, 5}}, new float[] {0.5f}, new int[] {1})); // after --to
        send("export-counts", records);
        Path file = dir.resolve("samples.txt");
        Path scores = dir.resolve("scores.txt");
        // the topic as the evaluate job's settings name it
        CliRun r = CliRun.of("export-samples", "--bootstrap-servers", kafka.bootstrapServers(),
                "-Ddien.topic.serving-log-labelled=export-counts", "--output", file.toString(), "--scores", scores.toString(),
                "--to", t.plusSeconds(300).toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(fields(r.out(), "export-samples ")).containsEntry("records", "7").containsEntry("examples", "3")
                .containsEntry("positives", "1").containsEntry("requests", "2").containsEntry("skipped_not_labelled", "1")
                .containsEntry("skipped_unlabelled_records", "1").containsEntry("skipped_malformed", "1")
                .containsEntry("skipped_ids", "1").containsEntry("skipped_out_of_range", "1").containsEntry("duplicates", "1");
        // the records are on two partitions: compare as a set, each line as the format reads it back
        List<RawSample> read = OfficialFormat.read(file);
        List<String> got = read.stream().map(OfflineToolsCommandTest::describe).toList();
        assertThat(got).containsExactlyInAnyOrder("1 7 [11, 12, 13] [1, 2, 1] 21 1", "0 7 [11, 12, 13] [1, 2, 1] 22 2",
                "0 8 [] [] 24 4");
        List<String> lines = Files.readAllLines(file);
        List<String> served = Files.readAllLines(scores);
        assertThat(served).hasSize(3);
        for (int i = 0; i < 3; i++) {
            String expected = lines.get(i).split("\t")[2].equals("21") ? "0.1" : lines.get(i).split("\t")[2].equals("22") ? "0.2"
                    : "0.4";
            assertThat(served.get(i)).isEqualTo(expected);
        }
        assertThat(lines.get(lines.indexOf(lines.stream().filter(l -> l.contains("\t21\t")).findFirst().orElseThrow())))
                .isEqualTo("1\t7\t21\t1\t11\u000212\u000213\t1\u00022\u00021");
    }

    @Test
    void exportSamplesNamesAMissingTopicAndLeavesNoFile() {
        Path file = dir.resolve("none.txt");
        CliRun r = CliRun.of("export-samples", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "no-such-topic",
                "--output", file.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("topic no-such-topic does not exist");
        assertThat(file).doesNotExist();
    }

    private static String describe(RawSample x) {
        return x.label() + " " + x.user() + " " + Arrays.toString(x.items()) + " " + Arrays.toString(x.categories()) + " "
                + x.candidateItem() + " " + x.candidateCategory();
    }

    /** A user's click stream and three candidates, from the bundle's vocabularies (some ids unknown on purpose). */
    private record Request(long user, long[][] clicks, long[][] candidates) {}

    private static List<Request> requests(ModelBundle bundle, Random random, int count, int minClicks, int maxClicks) {
        long[] users = bundle.longs("vocab.user");
        long[] items = bundle.longs("vocab.item");
        long[] cats = bundle.longs("vocab.category");
        List<Request> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = minClicks + random.nextInt(maxClicks - minClicks + 1);
            long[][] clicks = new long[n][];
            for (int k = 0; k < n; k++) {
                clicks[k] = new long[] {items[random.nextInt(items.length)], cats[random.nextInt(cats.length)]};
            }
            long[][] candidates = new long[3][];
            for (int k = 0; k < 3; k++) {
                candidates[k] = new long[] {items[random.nextInt(items.length)], cats[random.nextInt(cats.length)]};
            }
            out.add(new Request(users[random.nextInt(users.length)] + (i % 7 == 0 ? 1 : 0), clicks, candidates));
        }
        return out;
    }

    /** What the serving job sends: streaming semantics over the whole click stream, through the model core. */
    private static float[] served(DienScorer scorer, Request q) {
        InterestState s = scorer.newState();
        for (long[] c : q.clicks()) {
            s.append(scorer, c[0], c[1]);
        }
        float[] ctr = new float[q.candidates().length];
        s.score(scorer, q.user(), Arrays.stream(q.candidates()).mapToLong(c -> c[0]).toArray(),
                Arrays.stream(q.candidates()).mapToLong(c -> c[1]).toArray(), ctr.length, Semantics.STREAMING, ctr);
        return ctr;
    }

    /** AUC by its definition: the share of positive–negative pairs the scores order right, ties half. */
    private static double pairwiseAuc(List<Double> p, List<Integer> y) {
        double right = 0;
        long pairs = 0;
        for (int i = 0; i < p.size(); i++) {
            for (int j = 0; j < p.size(); j++) {
                if (y.get(i) == 1 && y.get(j) == 0) {
                    pairs++;
                    right += p.get(i) > p.get(j) ? 1 : p.get(i).equals(p.get(j)) ? 0.5 : 0;
                }
            }
        }
        return right / pairs;
    }

    private static double meanLogLoss(List<Double> p, List<Integer> y) {
        double s = 0;
        for (int i = 0; i < p.size(); i++) {
            double q = Math.min(1 - 1e-7, Math.max(1e-7, p.get(i)));
            s += y.get(i) == 1 ? -Math.log(q) : -Math.log(1 - q);
        }
        return s / p.size();
    }

    /**
     * The round trip the retraining loop takes: labelled serving log → export-samples → evaluate.
     * Users with at most T clicks: the recomputed (windowed) scores are the served (streaming) ones, so
     * the offline metrics equal the served scores' within 1e-6; the served metrics equal the definitions
     * on the served floats; the recomputed scores match the ND4J reference's windowed scores.
     */
    @Test
    void roundTripThroughExportAndEvaluateReproducesTheServedMetrics() throws Exception {
        ModelBundle bundle = ModelBundle.load(BUNDLE);
        DienScorer scorer = DienModel.from(bundle).newScorer();
        int t = bundle.config().maxHistory();
        Random random = new Random(19);
        List<Request> shortUsers = requests(bundle, random, 30, 0, t); // few: the ND4J reference pays a per-op overhead (STACK_NOTES.md)
        List<Request> longUsers = requests(bundle, random, 20, t + 5, t + 25);
        List<Double> servedP = new ArrayList<>();
        List<Double> referenceP = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<ServingLog> shortLog = new ArrayList<>();
        List<ServingLog> mixedLog = new ArrayList<>();
        long longExamples = 0;
        try (Nd4jReferenceModel reference = new Nd4jReferenceModel(bundle)) {
            int i = 0;
            for (Request q : concat(shortUsers, longUsers)) {
                float[] s = served(scorer, q);
                int[] y = new int[s.length];
                for (int k = 0; k < y.length; k++) {
                    y[k] = random.nextDouble() < s[k] ? 1 : 0; // clicks at the served rate: an informative AUC
                }
                // the job logs the window as read from state: the last T clicks
                long[][] window = Arrays.copyOfRange(q.clicks(), Math.max(0, q.clicks().length - t), q.clicks().length);
                ServingLog r = log("q" + i++, q.user(), minute(0), window, q.candidates(), s, y);
                mixedLog.add(r);
                if (q.clicks().length <= t) {
                    shortLog.add(r);
                    float[] ref = reference.score(q.user(), q.clicks(), q.candidates(), Semantics.WINDOWED).ctr();
                    for (int k = 0; k < y.length; k++) {
                        servedP.add((double) s[k]);
                        referenceP.add((double) ref[k]);
                        labels.add(y[k]);
                    }
                } else {
                    longExamples += y.length;
                }
            }
        }
        send("short-log", shortLog);
        send("mixed-log", mixedLog);

        Map<String, String>[] shortRun = exportAndEvaluate("short-log");
        Map<String, String> recomputed = shortRun[0];
        Map<String, String> served = shortRun[1];
        assertThat(recomputed).containsEntry("examples", String.valueOf(labels.size()))
                .containsEntry("positives", String.valueOf(labels.stream().mapToInt(Integer::intValue).sum()));
        // the served scores' metrics are the definitions' on the served floats
        assertThat(Double.parseDouble(served.get("auc"))).isCloseTo(pairwiseAuc(servedP, labels), within(1e-9));
        assertThat(Double.parseDouble(served.get("log_loss"))).isCloseTo(meanLogLoss(servedP, labels), within(1e-9));
        // online = offline: at most T clicks, windowed = streaming
        assertThat(Double.parseDouble(recomputed.get("auc"))).isCloseTo(Double.parseDouble(served.get("auc")), within(1e-6));
        assertThat(Double.parseDouble(recomputed.get("log_loss"))).isCloseTo(Double.parseDouble(served.get("log_loss")),
                within(1e-6));
        // per score, windowed and streaming agree up to float32 rounding (their kernels differ)
        assertThat(Double.parseDouble(shortRun[2].get("max_abs"))).isLessThan(1e-5);
        assertThat(shortRun[2]).containsEntry("above_1e-5", "0");
        // and both are the reference model's windowed scores (ND4J, the golden cases' tolerance 2e-5 per score)
        assertThat(Double.parseDouble(recomputed.get("log_loss"))).isCloseTo(meanLogLoss(referenceP, labels), within(1e-4));
        assertThat(Double.parseDouble(recomputed.get("auc"))).isCloseTo(pairwiseAuc(referenceP, labels), within(2e-3));

        // users with more than T clicks: served streaming scores carry clicks before the window; the skew shows
        Map<String, String>[] mixed = exportAndEvaluate("mixed-log");
        assertThat(Long.parseLong(mixed[2].get("above_1e-5"))).isPositive().isLessThanOrEqualTo(longExamples);
        assertThat(Double.parseDouble(mixed[2].get("max_abs"))).isGreaterThan(1e-4);

        // the loop closes: train reads the export and its bundle is evaluated on the same file
        Path retrained = dir.resolve("retrained");
        CliRun train = CliRun.of("train", "--data", dir.resolve("mixed-log.txt").toString(), "--model", "dien", "--output",
                retrained.toString(), "--epochs", "1", "--max-history", String.valueOf(t));
        assertThat(train.exit()).as(train.err()).isZero();
        CliRun again = CliRun.of("evaluate", "--model", retrained.toString(), "--data", dir.resolve("mixed-log.txt").toString());
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(fields(again.out(), "evaluate ")).containsEntry("examples", mixed[0].get("examples"));
    }

    @SuppressWarnings("unchecked")
    private Map<String, String>[] exportAndEvaluate(String topic) throws Exception {
        Path file = dir.resolve(topic + ".txt");
        Path scores = dir.resolve(topic + ".scores");
        CliRun export = CliRun.of("export-samples", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
                "--output", file.toString(), "--scores", scores.toString());
        assertThat(export.exit()).as(export.err()).isZero();
        CliRun eval = CliRun.of("evaluate", "--model", BUNDLE.toString(), "--data", file.toString(), "--served-scores",
                scores.toString());
        assertThat(eval.exit()).as(eval.err()).isZero();
        assertThat(fields(eval.out(), "evaluate ")).containsEntry("semantics", "windowed");
        return new Map[] {fields(eval.out(), "evaluate "), fields(eval.out(), "served "), fields(eval.out(), "skew ")};
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void evaluateStopsAtABadLineWithItsNumber() throws Exception {
        Path file = dir.resolve("bad.txt");
        Files.writeString(file, "1\t7\t21\t1\t11\t1\n0.5\t7\t21\t1\t11\t1\n");
        CliRun r = CliRun.of("evaluate", "--model", BUNDLE.toString(), "--data", file.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("bad.txt:2").contains("label must be 0 or 1");
    }
}
