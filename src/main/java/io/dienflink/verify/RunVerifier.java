package io.dienflink.verify;

import io.dienflink.avro.CtrScore;
import io.dienflink.job.Click;
import io.dienflink.job.DienJobConfig;
import io.dienflink.job.InputValidation;
import io.dienflink.job.ScoreRequest;
import io.dienflink.kafka.Topics;
import io.dienflink.model.DienModel;
import io.dienflink.model.ModelBundle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consistency checker of a run (the {@code verify} subcommand, and the fault-injection tests):
 * reads the clicks, requests, scores and dead-letter topics and checks every promise the job makes.
 *
 * <p>What is checked, reading each topic from its beginning to its end offsets (scores and dead
 * letters read committed under exactly-once):
 * <ul>
 *   <li>every clicks and requests record is classified with the job's own rules
 *       ({@link InputValidation}); valid clicks are de-duplicated per user as the job does;</li>
 *   <li>every valid request record has a score (exactly-once: exactly one; extra ones are
 *       {@code duplicates}); missing scores and dead letters are waited for up to the timeout;</li>
 *   <li>every score answers a valid request (else {@code unexpected}), for its user, its candidates
 *       in order, with the bundle's fingerprint, {@code clicks_applied} within the user's distinct
 *       clicks, {@code history_length = min(clicks_applied, maxHistory)}, and CTRs equal to the model
 *       core's over the user's first {@code clicks_applied} distinct clicks within
 *       {@link io.dienflink.model.Reproducibility#TOLERANCE} (else {@code wrong});</li>
 *   <li>every invalid record has a dead letter with its coordinates and reason (else
 *       {@code deadLettersMissing}); extra ones are {@code deadLettersDoubled}; dead letters for no
 *       invalid record are {@code unexpected};</li>
 *   <li>with probes, every user with clicks is sent one request after all clicks were read; its score
 *       must show every distinct click applied and be correct (else {@code windowsWrong}). A probe
 *       answered with clicks missing is asked again until the timeout (the job may still be reading
 *       the clicks topic, which requests can overtake), and the newest probe is judged.</li>
 * </ul>
 *
 * <p>A job started from a savepoint of bootstrapped users held clicks the topics do not show: give
 * them as {@link Options#prior()}, and every user's clicks are those followed by the topic's.
 *
 * <p>Assumes the run's input has stopped (records produced after the verifier read a topic's end are
 * not known to it) and that no user's state expired during the run.
 */
public final class RunVerifier {
    private static final Logger LOG = LoggerFactory.getLogger(RunVerifier.class);
    /** Fewer users than this per thread are not worth a thread. */
    private static final int MIN_USERS_PER_THREAD = 64;
    /**
     * How long a probe answered with clicks missing stands before it is asked again: long enough
     * for a job catching up on the clicks topic to move on, short against the timeout.
     */
    private static final long PROBE_SETTLE_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(500);

    /**
     * @param probe send one probe request per user that has clicks and check that it is scored with
     *     every distinct click applied (the user's final window)
     * @param timeout how long to wait for missing scores, dead letters and probe answers
     * @param prior users' clicks from before the clicks topic (the job started from a bootstrapped
     *     savepoint): the check puts them before the topic's
     */
    public record Options(boolean probe, Duration timeout, PriorClicks prior) {
        /** A run whose job started without users' state from elsewhere. */
        public Options(boolean probe, Duration timeout) {
            this(probe, timeout, PriorClicks.NONE);
        }

        public static Options defaults() {
            return new Options(true, Duration.ofSeconds(60));
        }
    }

    private RunVerifier() {}

    /**
     * Verifies the run of the job configured by {@code config} (servers, topics, model, guarantee, limits).
     *
     * @return the counts and the first violations; {@link VerifyReport#ok()} says whether the run kept every promise
     * @throws IllegalArgumentException if no bootstrap servers are configured
     * @throws Exception if Kafka cannot be read, the bundle cannot be loaded, or a probe cannot be sent
     */
    public static VerifyReport verify(DienJobConfig config, Options options) throws Exception {
        String servers = config.requireBootstrapServers();
        Properties client = config.clientProperties();
        Topics topics = config.topics();
        boolean exactlyOnce = config.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE;
        DienModel model = DienModel.from(ModelBundle.load(Path.of(config.modelPath())));
        InputValidation validation = new InputValidation(InputValidation.Limits.of(config));
        ClickLog clicks = new ClickLog(config.dedupWindow(), options.prior());
        RequestLedger requests = new RequestLedger();
        DeadLetterLedger deadLetters = new DeadLetterLedger(requests);

        try (TopicReader reader = new TopicReader(servers, client, topics.clicks(), false)) {
            reader.readToEnd(r -> {
                InputValidation.Outcome<Click> o = validation.click(r.value());
                if (o.valid()) {
                    clicks.accept(o.value());
                } else {
                    deadLetters.expect(r, o.reason());
                }
            });
        }
        try (TopicReader reader = new TopicReader(servers, client, topics.requests(), false)) {
            reader.readToEnd(r -> {
                InputValidation.Outcome<ScoreRequest> o =
                        validation.request(r.value(), r.topic(), r.partition(), r.offset(), r.timestamp());
                if (o.valid()) {
                    requests.acceptRequest(o.value(), false);
                    clicks.mention(o.value().userId());
                } else {
                    deadLetters.expect(r, o.reason());
                }
            });
        }
        LOG.info("{} clicks ({} distinct) of {} users, {} valid requests, {} invalid records",
                clicks.clicks(), clicks.distinct(), clicks.users().size(), requests.records(), deadLetters.invalid());
        if (options.probe()) {
            for (ScoreRequest p : Probes.send(servers, client, topics.requests(), clicks)) {
                requests.acceptRequest(p, true);
            }
        }
        try (TopicReader scores = new TopicReader(servers, client, topics.scores(), exactlyOnce);
             TopicReader letters = new TopicReader(servers, client, topics.deadLetters(), exactlyOnce)) {
            scores.readToEnd(requests::acceptScore);
            letters.readToEnd(deadLetters::accept);
            // Late output is normal: a lagging job, or (exactly-once) scores invisible until the next checkpoint.
            long deadline = System.nanoTime() + options.timeout().toNanos();
            long laggingProbes = 0;
            // the last quarter of the timeout is left for the answers to the probes asked again
            long lastAsk = deadline - options.timeout().toNanos() / 4;
            while (System.nanoTime() < deadline) {
                // a probe that waited longer than dien.request.max-age in a lagging job expires: ask again
                List<RequestLedger.Entry> again = new ArrayList<>(requests.expiredProbes());
                // so is one the job answered before it had read every click (or lost one: then every answer is so)
                boolean mayAskAgain = System.nanoTime() < lastAsk;
                List<RequestLedger.Entry> lagging = mayAskAgain
                        ? requests.laggingProbes(clicks::distinct, PROBE_SETTLE_NANOS) : List.of();
                laggingProbes += lagging.size();
                again.addAll(lagging);
                if (!again.isEmpty()) {
                    for (ScoreRequest p : Probes.resend(servers, client, topics.requests(), clicks, again)) {
                        requests.acceptRequest(p, true);
                    }
                }
                if (requests.outstanding() == 0 && deadLetters.outstanding() == 0
                        && !(mayAskAgain && requests.probesLagging(clicks::distinct))) {
                    break;
                }
                scores.poll(requests::acceptScore);
                letters.poll(deadLetters::accept);
            }
            if (laggingProbes > 0) {
                LOG.info("{} probes were answered before the job had applied every click read, and asked again",
                        laggingProbes);
            }
        }
        return evaluate(model, clicks, requests, deadLetters, exactlyOnce);
    }

    private static VerifyReport evaluate(DienModel model, ClickLog clicks, RequestLedger requests,
                                         DeadLetterLedger deadLetters, boolean exactlyOnce) throws Exception {
        long t0 = System.nanoTime();
        Violations violations = new Violations();
        long scored = 0;
        long expired = 0;
        long missing = 0;
        long duplicates = 0;
        Map<Long, List<ScoreCheck.Answer>> byUser = new LinkedHashMap<>();
        for (RequestLedger.Entry e : requests.entries()) {
            ScoreRequest r = e.request;
            int n = e.answers();
            scored += Math.min(e.scores.size(), e.copies);
            expired += Math.min(e.expired, Math.max(0, e.copies - e.scores.size()));
            if (n < e.copies && !(e.probe && e.resent)) { // an expired probe was asked again: judged by the new one
                missing += e.copies - n;
                violations.add("no score for request " + r.requestId() + " (user " + r.userId() + ")"
                        + (e.copies > 1 ? ": " + n + " answers for " + e.copies + " request records" : ""));
            } else if (n > e.copies) {
                duplicates += n - e.copies;
                if (exactlyOnce) {
                    violations.add(n + " committed answers (" + e.scores.size() + " scores, " + e.expired
                            + " expired) for request " + r.requestId() + " (user " + r.userId()
                            + ") under exactly-once, expected " + e.copies);
                }
            }
            for (CtrScore s : e.scores) {
                byUser.computeIfAbsent(r.userId(), u -> new ArrayList<>()).add(new ScoreCheck.Answer(r, s));
            }
        }
        Set<CtrScore> wrong = Collections.newSetFromMap(new IdentityHashMap<>());
        long checked = checkScores(model, clicks, byUser, wrong, violations);
        long windowsWrong = 0;
        for (RequestLedger.Entry e : requests.entries()) {
            if (e.probe && !e.resent) { // an expired probe was asked again: the new one is judged
                String problem = probeProblem(e, clicks.distinct(e.request.userId()), wrong);
                if (problem != null) {
                    windowsWrong++;
                    violations.add("probe " + e.request.requestId() + " of user " + e.request.userId() + ": " + problem);
                }
            }
        }
        requests.unexpected().forEach(violations::add);
        DeadLetterLedger.Outcome dl = deadLetters.evaluate(violations, exactlyOnce);
        double seconds = (System.nanoTime() - t0) / 1e9;
        LOG.info("Checked {} scores ({} recomputed) of {} users in {} s ({} scores/s)", requests.scores(),
                checked, byUser.size(), String.format("%.2f", seconds),
                String.format("%.0f", checked / Math.max(seconds, 1e-9)));
        return new VerifyReport(requests.records(), scored, expired, missing, duplicates, wrong.size(), deadLetters.deadLetters(),
                deadLetters.invalid(), dl.missing(), dl.doubled(), requests.unexpected().size() + dl.unexpected(),
                windowsWrong, exactlyOnce, violations.lines());
    }

    /** One thread's share of the score check: its users' wrong scores and violation lines. */
    private record Share(Set<CtrScore> wrong, Violations violations, long checked) {}

    /**
     * Recomputes every score (see {@link ScoreCheck}), the users split into one contiguous share per
     * core: users are independent, and recomputing is nearly all of the verifier's CPU time (about
     * one model scoring per score). Shares are merged in user order, so the report does not depend
     * on thread timing.
     *
     * @return the number of scores recomputed
     */
    private static long checkScores(DienModel model, ClickLog clicks, Map<Long, List<ScoreCheck.Answer>> byUser,
                                    Set<CtrScore> wrong, Violations violations) throws Exception {
        List<Map.Entry<Long, List<ScoreCheck.Answer>>> users = new ArrayList<>(byUser.entrySet());
        int threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), users.size() / MIN_USERS_PER_THREAD));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Share>> shares = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Map.Entry<Long, List<ScoreCheck.Answer>>> share =
                        users.subList(users.size() * t / threads, users.size() * (t + 1) / threads);
                shares.add(pool.submit(() -> {
                    ScoreCheck check = new ScoreCheck(model);
                    Violations v = new Violations();
                    Set<CtrScore> w = Collections.newSetFromMap(new IdentityHashMap<>());
                    for (Map.Entry<Long, List<ScoreCheck.Answer>> e : share) {
                        w.addAll(check.check(e.getKey(), clicks.user(e.getKey()), e.getValue(), v));
                    }
                    return new Share(w, v, check.checked());
                }));
            }
            long checked = 0;
            for (Future<Share> f : shares) {
                Share share = f.get();
                wrong.addAll(share.wrong());
                violations.addAll(share.violations());
                checked += share.checked();
            }
            return checked;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Why the probe does not show the user's final window, or null when one of its scores does. */
    private static String probeProblem(RequestLedger.Entry probe, int distinct, Set<CtrScore> wrong) {
        if (probe.scores.isEmpty()) {
            return "unanswered";
        }
        for (CtrScore s : probe.scores) {
            if (s.getClicksApplied() == distinct && !wrong.contains(s)) {
                return null;
            }
        }
        CtrScore first = probe.scores.get(0);
        return first.getClicksApplied() != distinct
                ? "clicks_applied expected " + distinct + " (every distinct click) got " + first.getClicksApplied()
                : "scored with every click applied but wrong";
    }
}
