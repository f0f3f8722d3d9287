package io.dienflink.evaluate;

import io.dienflink.avro.ModelEval;
import io.dienflink.avro.ServingLog;
import io.dienflink.job.DienScoringJob;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.UserKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The online evaluation job ({@code JobMain evaluate}, docs/evaluation.md): the champion's scores,
 * the challenger's, the clicks and optionally impressions and the serving log, labelled by
 * {@link Labeller} (keyed by user) and aggregated per model and minute by {@link MinuteEvaluator}.
 *
 * <pre>
 *  ctr-scores ─────────┐
 *  ctr-scores-shadow ──┤                                         ┌─▶ minute evaluation ──▶ model-eval
 *  clicks ─────────────┼─ union ─ keyBy(user) ─▶ labelling ──────┘  keyBy(model, minute)
 *  impressions ────────┤                             └─ labelled serving log ──────────▶ serving-log-labelled
 *  serving-log ────────┘
 * </pre>
 *
 * Event time with per-partition bounded out-of-orderness watermarks and idleness; sources and sinks
 * are injected so tests can swap them. Every operator has a name and a stable uid.
 */
public final class EvaluateJob {
    public static final String UID_LABELLER = "eval-labelling";
    public static final String UID_MINUTES = "eval-minutes";
    public static final String UID_MODEL_EVAL_SINK = "eval-model-eval-sink";
    public static final String UID_LABELLED_LOG_SINK = "eval-labelled-log-sink";
    /** The labelling operator's name, as Flink's REST API and metrics show it. */
    public static final String LABELLER_NAME = "Label scored candidates from clicks";

    /** One input: which topic, and its source. */
    public record Input(EvalDeserializer.Input kind, Source<EvalEvent, ?, ?> source) {}

    private final EvaluateConfig config;
    private final List<Input> inputs;
    private final Sink<ModelEval> modelEval;
    private final Sink<ServingLog> labelledLog;

    /** @param labelledLog null when the serving log is not labelled */
    public EvaluateJob(EvaluateConfig config, List<Input> inputs, Sink<ModelEval> modelEval, Sink<ServingLog> labelledLog) {
        this.config = config;
        this.inputs = List.copyOf(inputs);
        this.modelEval = modelEval;
        this.labelledLog = labelledLog;
    }

    /** The job on Kafka: sources read committed records only, sinks with the configured guarantee. */
    public static EvaluateJob forKafka(EvaluateConfig config) {
        List<Input> inputs = new ArrayList<>();
        inputs.add(input(config, EvalDeserializer.Input.SCORES, config.scoresTopic()));
        if (config.readShadow()) {
            inputs.add(input(config, EvalDeserializer.Input.SHADOW_SCORES, config.shadowScoresTopic()));
        }
        inputs.add(input(config, EvalDeserializer.Input.CLICKS, config.clicksTopic()));
        if (config.impressions()) {
            inputs.add(input(config, EvalDeserializer.Input.IMPRESSIONS, config.impressionsTopic()));
        }
        if (config.labelServingLog()) {
            inputs.add(input(config, EvalDeserializer.Input.SERVING_LOG, config.servingLogTopic()));
        }
        Properties producer = DienScoringJob.producerProperties(config.clientProperties(), config.deliveryGuarantee(),
                config.transactionTimeout());
        String modelEvalTopic = config.modelEvalTopic();
        KafkaSink<ModelEval> evalSink = KafkaSink.<ModelEval>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setKafkaProducerConfig(producer)
                .setDeliveryGuarantee(config.deliveryGuarantee())
                .setTransactionalIdPrefix(config.transactionalIdPrefix())
                .setRecordSerializer((KafkaRecordSerializationSchema<ModelEval>) (e, ctx, ts) -> new ProducerRecord<>(
                        modelEvalTopic, null, e.getMinute().toEpochMilli(),
                        e.getModelFingerprint().getBytes(StandardCharsets.UTF_8), AvroMessages.encode(e)))
                .build();
        KafkaSink<ServingLog> logSink = null;
        if (config.labelServingLog()) {
            String logTopic = config.servingLogLabelledTopic();
            logSink = KafkaSink.<ServingLog>builder()
                    .setBootstrapServers(config.bootstrapServers())
                    .setKafkaProducerConfig(producer)
                    .setDeliveryGuarantee(config.deliveryGuarantee())
                    .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-log")
                    .setRecordSerializer((KafkaRecordSerializationSchema<ServingLog>) (l, ctx, ts) -> new ProducerRecord<>(
                            logTopic, null, l.getRequestTime().toEpochMilli(), UserKeys.key(l.getUserId()),
                            AvroMessages.encode(l)))
                    .build();
        }
        return new EvaluateJob(config, inputs, evalSink, logSink);
    }

    /**
     * A Kafka source of one input: from the group's committed offsets, else the earliest (every
     * score and click counts), reading committed records only (the scoring job writes its scores in
     * transactions under exactly-once; read_uncommitted would label scores of aborted transactions).
     */
    private static Input input(EvaluateConfig config, EvalDeserializer.Input kind, String topic) {
        Properties props = config.clientProperties();
        props.put("isolation.level", "read_committed");
        KafkaSource<EvalEvent> source = KafkaSource.<EvalEvent>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(topic)
                .setGroupId(config.groupId())
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new EvalDeserializer(kind))
                .setProperties(props)
                .build();
        return new Input(kind, source);
    }

    /** Event time of every input: bounded out-of-orderness per Kafka partition, idle partitions skipped. */
    static WatermarkStrategy<EvalEvent> watermarks(Duration outOfOrderness, Duration idleness) {
        return WatermarkStrategy.<EvalEvent>forBoundedOutOfOrderness(outOfOrderness)
                .withTimestampAssigner((e, previous) -> e.time)
                .withIdleness(idleness);
    }

    /** Adds the topology to {@code env}. */
    public void addTo(StreamExecutionEnvironment env) {
        if (config.parallelism() > 0) {
            env.setParallelism(config.parallelism());
        }
        WatermarkStrategy<EvalEvent> watermarks = watermarks(config.outOfOrderness(), config.sourceIdleness());
        DataStream<EvalEvent> all = null;
        for (Input in : inputs) {
            String name = in.kind().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
            DataStream<EvalEvent> s = env.fromSource(in.source(), watermarks, "Kafka " + name).uid("eval-source-" + name);
            all = all == null ? s : all.union(s);
        }
        long window = config.attributionWindow().toMillis();
        SingleOutputStreamOperator<Labelled> labelled = all.keyBy(e -> e.userId, org.apache.flink.api.common.typeinfo.Types.LONG)
                .process(new Labeller(window, config.maxPendingPerUser(), config.impressions()))
                .name(LABELLER_NAME).uid(UID_LABELLER);
        labelled.keyBy(Labelled::aggregationKey, org.apache.flink.api.common.typeinfo.Types.STRING)
                .process(new MinuteEvaluator(window))
                .name("Evaluate each model's minute").uid(UID_MINUTES)
                .sinkTo(modelEval).name("Kafka model-eval").uid(UID_MODEL_EVAL_SINK);
        if (labelledLog != null) {
            labelled.getSideOutput(Labeller.LABELLED_LOG)
                    .sinkTo(labelledLog).name("Kafka labelled serving log").uid(UID_LABELLED_LOG_SINK);
        }
    }
}
