package io.dienflink.cli;

import io.dienflink.job.DienJobOptions;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import picocli.CommandLine.Option;

/** The job options shared by the commands that run the embedded pipeline ({@code demo}, {@code bench}). */
final class EmbeddedJobOptions {
    @Option(names = "--parallelism", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}")
    int parallelism;

    @Option(names = "--delivery", defaultValue = "AT_LEAST_ONCE", description = "AT_LEAST_ONCE or EXACTLY_ONCE. Default: ${DEFAULT-VALUE}")
    DeliveryGuarantee delivery;

    @Option(names = "--model", paramLabel = "DIR", description = "Model bundle. Default: the command's shipped bundle.")
    Path model;

    @Option(names = "--max-age", converter = DurationConverter.class, paramLabel = "DURATION",
            description = "dien.request.max-age: older requests are dead-lettered as expired, not scored (0: never). "
                    + "Default: the job's (1 s) for demo, 0 for bench, whose saturation phase measures every request.")
    Duration maxAge;

    /** The job settings, with the given shipped bundle unless --model names another. */
    Configuration jobSettings(String shippedBundle) throws java.io.IOException {
        return jobSettings(shippedBundle, null);
    }

    /** Like {@link #jobSettings(String)}, with the command's own max-age default unless --max-age is given (null: the job's). */
    Configuration jobSettings(String shippedBundle, Duration defaultMaxAge) throws java.io.IOException {
        Configuration conf = new Configuration();
        Duration age = maxAge != null ? maxAge : defaultMaxAge;
        if (age != null) {
            conf.set(DienJobOptions.REQUEST_MAX_AGE, age);
        }
        conf.set(DienJobOptions.MODEL_PATH, (model != null ? model : ShippedBundle.resolve(shippedBundle)).toString());
        conf.set(DienJobOptions.PARALLELISM, parallelism);
        conf.set(DienJobOptions.DELIVERY_GUARANTEE, delivery.name());
        // exactly-once scores become visible at checkpoints, so checkpoint often
        conf.set(DienJobOptions.CHECKPOINT_INTERVAL, exactlyOnce() ? Duration.ofMillis(500) : Duration.ofSeconds(10));
        if (shadow != null) {
            conf.set(DienJobOptions.SHADOW_MODEL, shadow.toAbsolutePath().toString());
        }
        if (logShare != null) {
            conf.set(DienJobOptions.LOG_SHARE, logShare);
        }
        settings.forEach(conf::setString);
        return conf;
    }

    @Option(names = "--shadow", paramLabel = "DIR",
            description = "A challenger bundle B (dien.shadow.model): every request (dien.shadow.share, 1.0 unless -D sets "
                    + "it) is also scored by B in windowed semantics on its own operator, to the shadow-scores topic.")
    Path shadow;

    @Option(names = "--log-share", paramLabel = "SHARE",
            description = "dien.log.share: share of requests written to the serving-log topic. Default: the job's (0).")
    Double logShare;

    @Option(names = "-D", paramLabel = "key=value",
            description = "A job or Flink setting for the embedded run (e.g. -Dstate.backend.rocksdb.writebuffer.size=8mb); repeatable.")
    java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();

    boolean exactlyOnce() {
        return delivery == DeliveryGuarantee.EXACTLY_ONCE;
    }
}
