package io.dienflink.kafka;

import io.dienflink.avro.CtrScore;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes scores keyed by user id, Avro single-object encoded. */
public final class CtrScoreSerializer implements KafkaRecordSerializationSchema<CtrScore> {
    private final String topic;

    public CtrScoreSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(CtrScore score, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, score.getScoredAt().toEpochMilli(), UserKeys.key(score.getUserId()),
                AvroMessages.encode(score));
    }
}
