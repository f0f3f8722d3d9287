package io.dienflink.verify;

import io.dienflink.avro.DeadLetter;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.DeadLetterReason;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The invalid input records of a run, each with the reason the job's rules give it, and the dead
 * letters read, matched by the input record's coordinates (source topic, partition, offset).
 */
final class DeadLetterLedger {
    /** Where an input record sits. */
    record Coordinates(String topic, int partition, long offset) {
        @Override
        public String toString() {
            return topic + "/" + partition + "@" + offset;
        }
    }

    /** The counts of {@link #evaluate}; its violation lines go to the caller's {@link Violations}. */
    record Outcome(long missing, long doubled, long unexpected) {}

    private final BinaryMessageDecoder<DeadLetter> decoder = AvroMessages.decoder(DeadLetter.class);
    /** Invalid record → the reason code its dead letter must carry. */
    private final Map<Coordinates, String> invalid = new LinkedHashMap<>();
    /** Input record → the reasons of the dead letters read for it, in topic order. */
    private final Map<Coordinates, List<String>> letters = new LinkedHashMap<>();
    private final List<String> undecodable = new ArrayList<>();
    private long deadLetters;
    /** Invalid records without any dead letter yet: the verifier waits while this is positive. */
    private long outstanding;

    /** An input record the job's rules reject with {@code reason}. */
    void expect(ConsumerRecord<?, ?> record, DeadLetterReason reason) {
        invalid.put(new Coordinates(record.topic(), record.partition(), record.offset()), reason.code());
        outstanding++;
    }

    /** A record of the dead-letter topic. */
    void accept(ConsumerRecord<byte[], byte[]> record) {
        deadLetters++;
        DeadLetter d;
        try {
            d = decoder.decode(record.value());
        } catch (Exception e) {
            undecodable.add("record " + record.topic() + "/" + record.partition() + "@" + record.offset()
                    + " of the dead-letter topic is not a DeadLetter: " + e);
            return;
        }
        Coordinates c = new Coordinates(d.getSourceTopic().toString(), d.getPartition(), d.getOffset());
        List<String> reasons = letters.computeIfAbsent(c, k -> new ArrayList<>(1));
        if (reasons.isEmpty() && invalid.containsKey(c)) {
            outstanding--;
        }
        reasons.add(d.getReason().toString());
    }

    /** Invalid input records (the {@code malformed} count). */
    long invalid() {
        return invalid.size();
    }

    /** Records read from the dead-letter topic. */
    long deadLetters() {
        return deadLetters;
    }

    long outstanding() {
        return outstanding;
    }

    /**
     * Matches dead letters to invalid records: an invalid record without a dead letter of its reason
     * is missing (a dead letter of another reason is reported too), every dead letter beyond a
     * record's first is doubled (a violation only under exactly-once), and a dead letter for no
     * invalid record, or not decodable, is unexpected.
     */
    Outcome evaluate(Violations violations, boolean exactlyOnce) {
        long missing = 0;
        long doubled = 0;
        long unexpected = undecodable.size();
        undecodable.forEach(violations::add);
        for (Map.Entry<Coordinates, String> e : invalid.entrySet()) {
            List<String> reasons = letters.get(e.getKey());
            if (reasons == null) {
                missing++;
                violations.add("no dead letter for invalid record " + e.getKey() + " (expected reason " + e.getValue() + ")");
                continue;
            }
            if (!reasons.contains(e.getValue())) {
                missing++;
                violations.add("dead letter for " + e.getKey() + " has reason " + reasons + ", expected " + e.getValue());
            }
            if (reasons.size() > 1) {
                doubled += reasons.size() - 1;
                if (exactlyOnce) {
                    violations.add(reasons.size() + " dead letters for " + e.getKey() + " under exactly-once");
                }
            }
        }
        for (Map.Entry<Coordinates, List<String>> e : letters.entrySet()) {
            if (!invalid.containsKey(e.getKey())) {
                unexpected += e.getValue().size();
                violations.add("dead letter for " + e.getKey() + " (reason " + e.getValue()
                        + "), which is no invalid record");
            }
        }
        return new Outcome(missing, doubled, unexpected);
    }
}
