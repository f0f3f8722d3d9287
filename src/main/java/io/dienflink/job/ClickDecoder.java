package io.dienflink.job;

import io.dienflink.avro.ClickEvent;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.DeadLetterReason;
import io.dienflink.kafka.RawRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/** Decodes and validates click records; anything unusable goes to the dead-letter side output. */
final class ClickDecoder extends ProcessFunction<RawRecord, Click> {
    private transient DeadLetterRouting deadLetters;

    @Override
    public void open(OpenContext openContext) {
        AvroMessages.init();
        deadLetters = new DeadLetterRouting(getRuntimeContext());
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Click> out) {
        ClickEvent e = deadLetters.decode(ctx, raw, ClickEvent.getDecoder(), "a ClickEvent");
        if (e == null) {
            return;
        }
        DeadLetterReason problem = e.getEventId().isBlank() ? DeadLetterReason.MISSING_EVENT_ID
                : e.getUserId() == 0 ? DeadLetterReason.MISSING_USER_ID
                : e.getItemId() == 0 ? DeadLetterReason.MISSING_ITEM_ID
                : e.getCategoryId() == 0 ? DeadLetterReason.MISSING_CATEGORY_ID
                : e.getEventTime().toEpochMilli() <= 0 ? DeadLetterReason.BAD_EVENT_TIME
                : null;
        if (problem != null) {
            deadLetters.route(ctx, raw, problem, e.toString());
            return;
        }
        out.collect(new Click(e.getEventId(), e.getUserId(), e.getItemId(), e.getCategoryId(), e.getEventTime().toEpochMilli()));
    }
}
