package io.dienflink.shadow;

import io.dienflink.avro.ServingLog;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.UserKeys;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes serving-log records keyed by user id (as the scores), Avro single-object encoded. */
public final class ServingLogSerializer implements KafkaRecordSerializationSchema<ServingLog> {
    private final String topic;

    public ServingLogSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ServingLog log, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, log.getScoredAt().toEpochMilli(), UserKeys.key(log.getUserId()),
                AvroMessages.encode(log));
    }
}
