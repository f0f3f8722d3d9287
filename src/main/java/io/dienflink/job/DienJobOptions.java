package io.dienflink.job;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * Every setting of the scoring job, as typed Flink options with defaults and descriptions. Set them
 * with {@code -Dkey=value} on the {@code run} subcommand, in a properties file, or in the Flink
 * configuration. Kafka client settings (SASL, SSL, …) pass through with the prefix
 * {@value #KAFKA_CLIENT_PREFIX}, e.g. {@code dien.kafka.client.security.protocol=SASL_SSL}.
 */
public final class DienJobOptions {
    /** Keys with this prefix are given, without it, to every Kafka consumer and producer of the job. */
    public static final String KAFKA_CLIENT_PREFIX = "dien.kafka.client.";

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("dien.kafka.bootstrap-servers")
            .stringType().noDefaultValue().withDescription("Kafka bootstrap servers (host:port,...). Required.");

    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key("dien.kafka.group-id")
            .stringType().defaultValue("dien-flink").withDescription("Consumer group id; offsets are committed on checkpoints.");

    public static final ConfigOption<String> CLICKS_TOPIC = ConfigOptions.key("dien.topic.clicks")
            .stringType().defaultValue("clicks").withDescription("Topic of ClickEvent records, keyed by user id.");

    public static final ConfigOption<String> REQUESTS_TOPIC = ConfigOptions.key("dien.topic.requests")
            .stringType().defaultValue("ad-requests").withDescription("Topic of AdRequest records, keyed by user id.");

    public static final ConfigOption<String> SCORES_TOPIC = ConfigOptions.key("dien.topic.scores")
            .stringType().defaultValue("ctr-scores").withDescription("Topic the CtrScore records are written to.");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC = ConfigOptions.key("dien.topic.dead-letters")
            .stringType().defaultValue("dead-letters").withDescription("Topic of DeadLetter records for input that cannot be used.");

    public static final ConfigOption<String> MODEL_PATH = ConfigOptions.key("dien.model.path")
            .stringType().noDefaultValue()
            .withDescription("Model bundle directory or zip; it must be readable at this path on every TaskManager. Required.");

    /**
     * Read with {@link #deliveryGuarantee}. A string rather than an enum option: Flink parses enum
     * options by {@code toString()}, which for {@link DeliveryGuarantee} is {@code exactly-once}, so
     * the documented {@code EXACTLY_ONCE} was refused at start-up.
     */
    public static final ConfigOption<String> DELIVERY_GUARANTEE = ConfigOptions.key("dien.delivery-guarantee")
            .stringType().defaultValue(DeliveryGuarantee.AT_LEAST_ONCE.name())
            .withDescription("AT_LEAST_ONCE (scores at once; after a failure some repeat with the same request_id) or "
                    + "EXACTLY_ONCE (Kafka transactions; scores become visible to read_committed consumers when a "
                    + "checkpoint completes). Flink's spellings at-least-once and exactly-once are accepted too.");

    /** The delivery guarantee of the settings: AT_LEAST_ONCE or EXACTLY_ONCE (case and - or _ ignored). */
    public static DeliveryGuarantee deliveryGuarantee(Configuration conf) {
        String value = conf.get(DELIVERY_GUARANTEE).trim().replace('-', '_').toUpperCase(java.util.Locale.ROOT);
        if (value.equals(DeliveryGuarantee.AT_LEAST_ONCE.name())) {
            return DeliveryGuarantee.AT_LEAST_ONCE;
        }
        if (value.equals(DeliveryGuarantee.EXACTLY_ONCE.name())) {
            return DeliveryGuarantee.EXACTLY_ONCE;
        }
        throw new IllegalArgumentException(DELIVERY_GUARANTEE.key() + ": must be AT_LEAST_ONCE or EXACTLY_ONCE, got '"
                + conf.get(DELIVERY_GUARANTEE) + "'");
    }

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL = ConfigOptions.key("dien.checkpoint.interval")
            .durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("Checkpoint interval (RocksDB, incremental). With EXACTLY_ONCE it bounds score latency.");

    public static final ConfigOption<Integer> PARALLELISM = ConfigOptions.key("dien.parallelism")
            .intType().defaultValue(-1).withDescription("Parallelism of the job; -1 keeps the environment's default.");

    public static final ConfigOption<Duration> INACTIVITY_EXPIRY = ConfigOptions.key("dien.state.inactivity-expiry")
            .durationType().defaultValue(Duration.ofDays(14))
            .withDescription("A user with no click and no request for this long is removed from state "
                    + "(14 days: the history window the DIEN paper reads).");

    public static final ConfigOption<Integer> WINDOW_CACHE_USERS = ConfigOptions.key("dien.state.window-cache.users")
            .intType().defaultValue(1_000)
            .withDescription("Recently scored users whose loaded windows each scorer subtask keeps on the heap, so a "
                    + "repeated request for the same user skips reading its T window entries from RocksDB. Only a "
                    + "cache: kept equal to state on every click, checked against the user's stored header before "
                    + "use, never checkpointed. About T·(16 + 4·pad(H)) bytes per user (21 kB at T = 100, H = 36: "
                    + "21 MB per subtask at the default). Metrics windowCacheHitRate, windowCacheHits, "
                    + "windowCacheMisses. 0 disables it.");

    public static final ConfigOption<Integer> MAX_CANDIDATES = ConfigOptions.key("dien.request.max-candidates")
            .intType().defaultValue(500)
            .withDescription("Requests with more candidates go to the dead-letter topic (too_many_candidates).");

    public static final ConfigOption<Duration> REQUEST_MAX_AGE = ConfigOptions.key("dien.request.max-age")
            .durationType().defaultValue(Duration.ofSeconds(1))
            .withDescription("A request older than this (now minus its event_time) when it reaches the scorer is not "
                    + "scored: it goes to the dead-letter topic (expired) and is counted (expiredRequests, and "
                    + "deadLetters with reason=expired). An ad server "
                    + "gives up on a score after tens of milliseconds; 1 s is ten times the longest usual budget, so "
                    + "clock skew between hosts and short stalls drop nothing anyone still waits for, while after an "
                    + "outage the job skips the backlog nobody reads and serves fresh requests within seconds. "
                    + "0 disables the check.");

    /** Where a source starts when the consumer group has no committed offset. */
    public enum InitialOffset { EARLIEST, LATEST }

    public static final ConfigOption<String> REQUEST_INITIAL_OFFSET = ConfigOptions.key("dien.request.initial-offset")
            .stringType().defaultValue(InitialOffset.LATEST.name())
            .withDescription("Where the requests source starts when the consumer group has no committed offset: LATEST "
                    + "(requests made before the job existed are not waited for) or EARLIEST. Clicks always start at "
                    + "the earliest offset: every click is history.");

    /** The requests' initial offset of the settings (case ignored). */
    public static InitialOffset requestInitialOffset(Configuration conf) {
        String value = conf.get(REQUEST_INITIAL_OFFSET).trim().toUpperCase(java.util.Locale.ROOT);
        try {
            return InitialOffset.valueOf(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(REQUEST_INITIAL_OFFSET.key() + ": must be LATEST or EARLIEST, got '"
                    + conf.get(REQUEST_INITIAL_OFFSET) + "'");
        }
    }

    public static final ConfigOption<Integer> MAX_ID_BYTES = ConfigOptions.key("dien.input.max-id-bytes")
            .intType().defaultValue(256)
            .withDescription("Clicks and requests whose event_id or request_id is longer (UTF-8 bytes) go to the "
                    + "dead-letter topic (field_too_long) before they reach state or the scores topic.");

    public static final ConfigOption<Integer> DEDUP_WINDOW = ConfigOptions.key("dien.click.dedup-window")
            .intType().defaultValue(64)
            .withDescription("A click whose event_id equals one of the user's last N clicks' (within "
                    + "dien.click.dedup-horizon) is applied once: the most event ids stored per user.");

    public static final ConfigOption<Duration> DEDUP_HORIZON = ConfigOptions.key("dien.click.dedup-horizon")
            .durationType().defaultValue(Duration.ofMillis(InterestScorer.DEFAULT_DEDUP_HORIZON_MS))
            .withDescription("How long after a user's newest click its event ids are remembered for "
                    + "de-duplication. Re-sent clicks (producer retries, whose delivery.timeout.ms is 2 minutes by "
                    + "default) arrive within it; a user idle for longer stores no event ids.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT = ConfigOptions.key("dien.kafka.transaction-timeout")
            .durationType().defaultValue(Duration.ofMinutes(15))
            .withDescription("EXACTLY_ONCE only: transaction.timeout.ms of the score producers. `run` refuses a value "
                    + "over the broker's transaction.max.timeout.ms (15 minutes by default), or one not longer than "
                    + "execution.checkpointing.timeout (10 minutes by default) plus dien.checkpoint.interval: a "
                    + "transaction must outlive the checkpoint that commits it.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions.key("dien.kafka.transactional-id-prefix")
            .stringType().defaultValue("dien-flink-scores")
            .withDescription("EXACTLY_ONCE only: transactional id prefix; keep it stable across restarts of the same job.");

    public static final ConfigOption<String> SHADOW_MODEL = ConfigOptions.key("dien.shadow.model")
            .stringType().noDefaultValue()
            .withDescription("Challenger bundle B (directory or zip, at this path on every TaskManager). When set, a "
                    + "share of requests (dien.shadow.share) is also scored by B in windowed semantics (from zero over "
                    + "the user's window of raw clicks as read from state) on a separate operator in its own slots, "
                    + "and B's scores go to dien.topic.shadow-scores. B may differ from the serving bundle in "
                    + "vocabularies, dimensions and maxHistory. Serving never waits for B: what B cannot take is "
                    + "dropped and counted (shadowDropped).");

    public static final ConfigOption<Double> SHADOW_SHARE = ConfigOptions.key("dien.shadow.share")
            .doubleType().defaultValue(1.0)
            .withDescription("Share of requests, in [0, 1], the challenger scores when dien.shadow.model is set: a "
                    + "deterministic choice by a hash of the request id, the same after every restart, independent "
                    + "of dien.log.share's.");

    public static final ConfigOption<Integer> SHADOW_QUEUE = ConfigOptions.key("dien.shadow.queue")
            .intType().defaultValue(1_000)
            .withDescription("Bounded hand-off: requests waiting for a challenger thread, per challenger subtask. A "
                    + "request arriving at a full queue is not scored by B (counted in shadowDropped); the scorer is "
                    + "never held up.");

    public static final ConfigOption<Integer> SHADOW_THREADS = ConfigOptions.key("dien.shadow.threads")
            .intType().defaultValue(1)
            .withDescription("Challenger threads per challenger subtask.");

    public static final ConfigOption<Integer> SHADOW_PARALLELISM = ConfigOptions.key("dien.shadow.parallelism")
            .intType().defaultValue(-1)
            .withDescription("Challenger subtasks (each in a slot of the slot-sharing group 'shadow'); -1: the job's "
                    + "parallelism.");

    public static final ConfigOption<Double> LOG_SHARE = ConfigOptions.key("dien.log.share")
            .doubleType().defaultValue(0.0)
            .withDescription("Share of requests, in [0, 1], whose scoring inputs the job writes to the serving log "
                    + "(dien.topic.serving-log): request, user, the window's raw click ids as read from state, "
                    + "candidates and the scores sent. A deterministic choice by a hash of the request id, "
                    + "independent of dien.shadow.share's. 0: no serving log.");

    public static final ConfigOption<String> SHADOW_SCORES_TOPIC = ConfigOptions.key("dien.topic.shadow-scores")
            .stringType().defaultValue("ctr-scores-shadow")
            .withDescription("Topic the challenger's CtrScore records are written to (keyed by user id; each names "
                    + "B's model_version and model_fingerprint).");

    public static final ConfigOption<String> SERVING_LOG_TOPIC = ConfigOptions.key("dien.topic.serving-log")
            .stringType().defaultValue("serving-log")
            .withDescription("Topic the ServingLog records are written to (keyed by user id).");

    private DienJobOptions() {}
}
