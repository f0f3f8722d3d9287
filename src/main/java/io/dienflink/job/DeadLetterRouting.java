package io.dienflink.job;

import io.dienflink.avro.DeadLetter;
import io.dienflink.kafka.DeadLetterReason;
import io.dienflink.kafka.DeadLetters;
import io.dienflink.kafka.RawRecord;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.OutputTag;

/**
 * Sends a record the job cannot use to the dead-letter side output and counts it in the metric
 * {@code deadLetters} of the group {@code reason=<code>}, in the metric group of the operator that
 * routes it: the decoders for invalid input, the scorer for expired requests. Every dead letter the
 * job writes goes through here, so the per-reason counters add up to what the dead-letter topic gets.
 */
final class DeadLetterRouting {
    /** The side output every validation step writes its dead letters to. */
    static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    private final Map<DeadLetterReason, Counter> counters = new EnumMap<>(DeadLetterReason.class);
    private final MetricGroup metrics;

    DeadLetterRouting(RuntimeContext context) {
        this.metrics = context.getMetricGroup();
    }

    /** Emits the valid value of {@code outcome}, or routes {@code raw} with the outcome's reason. */
    <T> void emit(ProcessFunction<?, ?>.Context ctx, RawRecord raw, InputValidation.Outcome<T> outcome,
                  org.apache.flink.util.Collector<T> out) {
        if (outcome.valid()) {
            out.collect(outcome.value());
        } else {
            route(ctx, raw, outcome.reason(), outcome.detail());
        }
    }

    /** Counts and emits a dead letter from a one-input operator (the decoders). */
    void route(ProcessFunction<?, ?>.Context ctx, RawRecord raw, DeadLetterReason reason, String detail) {
        ctx.output(DEAD_LETTERS, counted(raw, reason, detail));
    }

    /** Counts and emits a dead letter from the keyed scorer (requests that expired before they were scored). */
    void route(KeyedCoProcessFunction<?, ?, ?, ?>.Context ctx, RawRecord raw, DeadLetterReason reason, String detail) {
        ctx.output(DEAD_LETTERS, counted(raw, reason, detail));
    }

    private DeadLetter counted(RawRecord raw, DeadLetterReason reason, String detail) {
        counters.computeIfAbsent(reason, r -> metrics.addGroup("reason", r.code()).counter("deadLetters")).inc();
        return DeadLetters.of(raw, reason, detail, System.currentTimeMillis());
    }
}
