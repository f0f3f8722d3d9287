package io.dienflink.evaluate;

import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.Impression;
import io.dienflink.avro.ServingLog;
import io.dienflink.kafka.AvroMessages;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes one of the evaluate job's input topics into {@link EvalEvent}s. A record that does not
 * decode (or a score whose items and scores disagree) is skipped and counted in the metric
 * {@code undecodable} of the source, never silently: the scoring job dead-letters bad clicks
 * already, and a bad score or impression cannot be labelled.
 */
public final class EvalDeserializer implements KafkaRecordDeserializationSchema<EvalEvent> {
    private static final Logger LOG = LoggerFactory.getLogger(EvalDeserializer.class);

    /** Which topic, and so which record type and role. */
    public enum Input { SCORES, SHADOW_SCORES, CLICKS, IMPRESSIONS, SERVING_LOG }

    private final Input input;
    private transient BinaryMessageDecoder<?> decoder;
    private transient Counter undecodable;

    public EvalDeserializer(Input input) {
        this.input = input;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        decoder = switch (input) {
            case SCORES, SHADOW_SCORES -> AvroMessages.decoder(CtrScore.class);
            case CLICKS -> AvroMessages.decoder(ClickEvent.class);
            case IMPRESSIONS -> AvroMessages.decoder(Impression.class);
            case SERVING_LOG -> AvroMessages.decoder(ServingLog.class);
        };
        undecodable = context.getMetricGroup().counter("undecodable");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<EvalEvent> out) {
        EvalEvent e;
        try {
            e = decode(record.value());
        } catch (Exception ex) {
            e = null;
            if (undecodable.getCount() == 0) {
                LOG.warn("Skipping an undecodable record of {} ({}-{}@{}): {}; further ones are only counted (undecodable)",
                        input, record.topic(), record.partition(), record.offset(), ex.toString());
            }
        }
        if (e == null) {
            undecodable.inc();
            return;
        }
        out.collect(e);
    }

    private EvalEvent decode(byte[] value) throws java.io.IOException {
        if (value == null) {
            return null;
        }
        Object r = decoder.decode(value);
        return switch (input) {
            case SCORES -> EvalEvent.score((CtrScore) r, false);
            case SHADOW_SCORES -> EvalEvent.score((CtrScore) r, true);
            case CLICKS -> EvalEvent.click((ClickEvent) r);
            case IMPRESSIONS -> EvalEvent.impression((Impression) r);
            case SERVING_LOG -> {
                ServingLog log = (ServingLog) r;
                yield log.getScores().size() == log.getCandidates().size() ? EvalEvent.servingLog(log, value) : null;
            }
        };
    }

    @Override
    public TypeInformation<EvalEvent> getProducedType() {
        return TypeInformation.of(EvalEvent.class);
    }
}
