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

/** Prints the score topic (or the dead-letter topic) as JSON lines. */
@Command(name = "read-scores", mixinStandardHelpOptions = true,
        description = "Reads CtrScore (or, with --dead-letters, DeadLetter) records from Kafka and prints them as JSON lines.")
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

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        JobSettings.Kafka kafka = settings.kafka();
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
