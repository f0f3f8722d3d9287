package io.dienflink.cli;

import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the score topic (or the dead-letter topic) as JSON lines. */
@Command(name = "read-scores", mixinStandardHelpOptions = true,
        description = "Reads CtrScore (or, with --dead-letters, DeadLetter) records from Kafka and prints them as JSON lines.")
final class ReadScoresCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOSTS")
    String bootstrapServers;

    @Option(names = "--topic", description = "Default: ctr-scores, or dead-letters with --dead-letters.")
    String topic;

    @Option(names = "--dead-letters", description = "Read DeadLetter records.")
    boolean deadLetters;

    @Option(names = "--from-beginning", description = "Start at the earliest offset (default: only new records).")
    boolean fromBeginning;

    @Option(names = "--limit", defaultValue = "0", description = "Stop after this many records (0: never).")
    long limit;

    @Option(names = "--read-committed", description = "Only committed records (for EXACTLY_ONCE jobs).")
    boolean readCommitted;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("group.id", "dien-read-scores-" + System.nanoTime());
        p.put("auto.offset.reset", fromBeginning ? "earliest" : "latest");
        p.put("isolation.level", readCommitted ? "read_committed" : "read_uncommitted");
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        String t = topic != null ? topic : deadLetters ? "dead-letters" : "ctr-scores";
        long n = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(t));
            while (limit == 0 || n < limit) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    try {
                        out.println(deadLetters ? DeadLetter.getDecoder().decode(r.value()).toString()
                                : CtrScore.getDecoder().decode(r.value()).toString());
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
