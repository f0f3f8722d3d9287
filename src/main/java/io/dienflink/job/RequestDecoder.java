package io.dienflink.job;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.DeadLetterReason;
import io.dienflink.kafka.RawRecord;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decodes and validates ad requests, including the candidate cap; anything unusable goes to the
 * dead-letter side output.
 */
final class RequestDecoder extends ProcessFunction<RawRecord, ScoreRequest> {
    private final int maxCandidates;
    private transient DeadLetterRouting deadLetters;

    RequestDecoder(int maxCandidates) {
        this.maxCandidates = maxCandidates;
    }

    @Override
    public void open(OpenContext openContext) {
        AvroMessages.init();
        deadLetters = new DeadLetterRouting(getRuntimeContext());
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<ScoreRequest> out) {
        AdRequest r = deadLetters.decode(ctx, raw, AdRequest.getDecoder(), "an AdRequest");
        if (r == null) {
            return;
        }
        List<Candidate> candidates = r.getCandidates();
        DeadLetterReason problem = r.getRequestId().isBlank() ? DeadLetterReason.MISSING_REQUEST_ID
                : r.getUserId() == 0 ? DeadLetterReason.MISSING_USER_ID
                : r.getEventTime().toEpochMilli() <= 0 ? DeadLetterReason.BAD_EVENT_TIME
                : candidates.isEmpty() ? DeadLetterReason.EMPTY_CANDIDATES
                : candidates.size() > maxCandidates ? DeadLetterReason.TOO_MANY_CANDIDATES
                : null;
        if (problem != null) {
            deadLetters.route(ctx, raw, problem, problem == DeadLetterReason.TOO_MANY_CANDIDATES
                    ? candidates.size() + " candidates, the cap is " + maxCandidates
                    : "request " + r.getRequestId() + " of user " + r.getUserId());
            return;
        }
        long[] items = new long[candidates.size()];
        long[] categories = new long[candidates.size()];
        for (int i = 0; i < items.length; i++) {
            Candidate c = candidates.get(i);
            if (c.getItemId() == 0 || c.getCategoryId() == 0) {
                deadLetters.route(ctx, raw, c.getItemId() == 0 ? DeadLetterReason.MISSING_ITEM_ID
                        : DeadLetterReason.MISSING_CATEGORY_ID, "candidate " + i + " of request " + r.getRequestId());
                return;
            }
            items[i] = c.getItemId();
            categories[i] = c.getCategoryId();
        }
        out.collect(new ScoreRequest(r.getRequestId(), r.getUserId(), r.getEventTime().toEpochMilli(), items, categories));
    }
}
