package io.dienflink.job;

import io.dienflink.kafka.RawRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decodes and validates ad requests ({@link InputValidation}), including the candidate cap and the
 * id length bound; anything unusable goes to the dead-letter side output.
 */
final class RequestDecoder extends ProcessFunction<RawRecord, ScoreRequest> {
    private final InputValidation.Limits limits;
    private transient InputValidation validation;
    private transient DeadLetterRouting deadLetters;

    RequestDecoder(InputValidation.Limits limits) {
        this.limits = limits;
    }

    @Override
    public void open(OpenContext openContext) {
        validation = new InputValidation(limits);
        deadLetters = new DeadLetterRouting(getRuntimeContext());
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ScoreRequest> out) {
        deadLetters.emit(ctx, raw,
                validation.request(raw.value(), raw.topic(), raw.partition(), raw.offset(), raw.timestamp()), out);
    }
}
