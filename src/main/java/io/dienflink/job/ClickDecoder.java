package io.dienflink.job;

import io.dienflink.kafka.RawRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/** Decodes and validates click records ({@link InputValidation}); anything unusable goes to the dead-letter side output. */
final class ClickDecoder extends ProcessFunction<RawRecord, Click> {
    private final InputValidation.Limits limits;
    private transient InputValidation validation;
    private transient DeadLetterRouting deadLetters;

    ClickDecoder(InputValidation.Limits limits) {
        this.limits = limits;
    }

    @Override
    public void open(OpenContext openContext) {
        validation = new InputValidation(limits);
        deadLetters = new DeadLetterRouting(getRuntimeContext());
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Click> out) {
        deadLetters.emit(ctx, raw, validation.click(raw.value()), out);
    }
}
