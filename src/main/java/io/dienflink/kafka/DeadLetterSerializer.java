package io.dienflink.kafka;

import io.dienflink.avro.DeadLetter;
import java.nio.ByteBuffer;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes dead letters with the original record's key, Avro single-object encoded. */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetter letter, KafkaSinkContext context, Long timestamp) {
        byte[] key = null;
        if (letter.getKey() != null) {
            ByteBuffer k = letter.getKey().duplicate();
            key = new byte[k.remaining()];
            k.get(key);
        }
        return new ProducerRecord<>(topic, null, letter.getDeadLetteredAt().toEpochMilli(), key, AvroMessages.encode(letter));
    }
}
