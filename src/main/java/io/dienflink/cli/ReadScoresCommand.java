package io.dienflink.cli;

import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.KafkaClients;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Prints the score topic (or the dead-letter topic) as JSON lines, or with {@code --latency} the
 * per-second end-to-end latency of the scores as they arrive, the demo's measurement for any cluster.
 */
@Command(name = "read-scores", mixinStandardHelpOptions = true,
        description = {"Reads CtrScore (or, with --dead-letters, DeadLetter) records from Kafka and prints them as JSON lines.",
                "With --latency: one CSV row per second instead (the demo's --timeline format: p50/p99/max ms from each "
                        + "score's request_time to its arrival here), and a summary line on stderr at the end."})
final class ReadScoresCommand implements Callable<Integer> {
    /** Kafka servers, topics (dien.topic.*) and client settings, as `run` takes them. */
    @CommandLine.Mixin
    JobSettings settings = new JobSettings();

    @Option(names = "--dead-letters", description = "Read DeadLetter records.")
    boolean deadLetters;

    @Option(names = "--from-beginning", description = "Start at the earliest offset (default: only new records).")
    boolean fromBeginning;

    @Option(names = "--limit", defaultValue = "0", description = "Stop after this many records (0: never).")
    long limit;

    @Option(names = "--read-committed", description = "Only committed records. On by itself when the settings say "
            + "dien.delivery-guarantee=EXACTLY_ONCE (-D or --config, as for `run`).")
    boolean readCommitted;

    @Option(names = "--latency", description = "Print per-second latency rows (CSV) instead of the records.")
    boolean latency;

    @Option(names = "--duration", converter = DurationConverter.class,
            description = "With --latency: stop after this long. Default: never (Ctrl-C).")
    Duration duration;

    @Option(names = "--warmup", converter = DurationConverter.class, defaultValue = "0s",
            description = "With --latency: the first seconds, marked warmup and left out of the summary. Default: ${DEFAULT-VALUE}")
    Duration warmup;

    @Option(names = "--flink-rest", paramLabel = "URL", description = "With --latency: Flink's REST address (e.g. "
            + "http://127.0.0.1:8081); rows of seconds in which a checkpoint of the running job started or ran get checkpoint=1.")
    String flinkRest;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        JobSettings.Kafka kafka = settings.kafka();
        if (latency) {
            return ScoreLatency.print(kafka, fromBeginning, readCommitted || kafka.exactlyOnce(), duration, warmup,
                    flinkRest, out, spec.commandLine().getErr());
        }
        String t = deadLetters ? kafka.topics().deadLetters() : kafka.topics().scores();
        long n = 0;
        var scoreDecoder = AvroMessages.decoder(CtrScore.class);
        var deadLetterDecoder = AvroMessages.decoder(DeadLetter.class);
        try (KafkaConsumer<byte[], byte[]> consumer = KafkaClients.reader(kafka.bootstrapServers(), kafka.client(),
                "dien-read-scores", fromBeginning, readCommitted || kafka.exactlyOnce())) {
            consumer.subscribe(List.of(t));
            while (limit == 0 || n < limit) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    try {
                        out.println(deadLetters ? deadLetterDecoder.decode(r.value()).toString()
                                : scoreDecoder.decode(r.value()).toString());
                    } catch (Exception e) {
                        out.println("{\"undecodable\": \"" + e.getClass().getSimpleName() + "\", \"offset\": " + r.offset() + "}");
                    }
                    out.flush();
                    if (limit > 0 && ++n >= limit) {
                        break;
                    }
                }
            }
        }
        return 0;
    }
}
