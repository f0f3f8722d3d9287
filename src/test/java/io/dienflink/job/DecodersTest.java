package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.DeadLetter;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.RawRecord;
import io.dienflink.model.Fnv1a;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/** The validation steps: good records pass decoded, each kind of bad record is dead-lettered with its reason and bytes. */
class DecodersTest {

    private static RawRecord raw(String topic, long offset, byte[] value) {
        return new RawRecord(topic, 3, offset, 1L, new byte[] {1, 2}, value);
    }

    private static byte[] click(String id, long user, long item, long cat, long time) {
        return AvroMessages.encode(new ClickEvent(id, user, item, cat, Instant.ofEpochMilli(time)));
    }

    private static byte[] request(String id, long user, long time, int candidates) {
        List<Candidate> c = new ArrayList<>();
        for (int i = 0; i < candidates; i++) {
            c.add(new Candidate(10L + i, 20L));
        }
        return AvroMessages.encode(new AdRequest(id, user, Instant.ofEpochMilli(time), c));
    }

    private static List<DeadLetter> deadLetters(OneInputStreamOperatorTestHarness<RawRecord, ?> h) {
        return h.getSideOutput(DeadLetterRouting.DEAD_LETTERS).stream().map(StreamRecord::getValue).toList();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void wireFormatIsTheGeneratedSingleObjectEncoding() throws Exception {
        ClickEvent c = new ClickEvent("w", 1L, 2L, 3L, Instant.ofEpochMilli(4));
        AdRequest r = new AdRequest("q", 5L, Instant.ofEpochMilli(6), List.of(new Candidate(7L, 8L)));
        assertThat(AvroMessages.encode(c)).isEqualTo(bytes(c.toByteBuffer()));
        assertThat(AvroMessages.encode(r)).isEqualTo(bytes(r.toByteBuffer()));
        assertThat(ClickEvent.getDecoder().decode(AvroMessages.encode(c))).isEqualTo(c);
    }

    @Test
    void clicksAreDecodedOrDeadLetteredWithTheirReason() throws Exception {
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new ClickDecoder(new InputValidation.Limits(256, 500)))) {
            h.processElement(raw("clicks", 0, click("a", 1, 2, 3, 4)), 0);
            byte[] garbage = {0x13, 0x37, 0x00};
            h.processElement(raw("clicks", 1, garbage), 0);
            h.processElement(raw("clicks", 2, null), 0);
            h.processElement(raw("clicks", 3, click("", 1, 2, 3, 4)), 0);
            h.processElement(raw("clicks", 4, click("b", 0, 2, 3, 4)), 0);
            h.processElement(raw("clicks", 5, click("c", 1, 0, 3, 4)), 0);
            h.processElement(raw("clicks", 6, click("d", 1, 2, 0, 4)), 0);
            h.processElement(raw("clicks", 7, click("e", 1, 2, 3, 0)), 0);
            h.processElement(raw("clicks", 8, request("r", 1, 4, 1)), 0); // another schema
            assertThat(h.extractOutputValues()).containsExactly(new Click("a", 1, 2, 3, 4));
            List<DeadLetter> dead = deadLetters(h);
            assertThat(dead).extracting(DeadLetter::getReason).containsExactly("undecodable", "undecodable",
                    "missing_event_id", "missing_user_id", "missing_item_id", "missing_category_id", "bad_event_time",
                    "undecodable");
            assertThat(dead).extracting(DeadLetter::getOffset).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
            assertThat(dead).allSatisfy(d -> {
                assertThat(d.getSourceTopic()).isEqualTo("clicks");
                assertThat(d.getPartition()).isEqualTo(3);
                assertThat(d.getKey()).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2}));
            });
            assertThat(dead.get(0).getPayload()).isEqualTo(ByteBuffer.wrap(garbage));
            assertThat(dead.get(1).getPayload().remaining()).isZero();
        }
    }

    @Test
    void requestsAreDecodedOrDeadLetteredWithTheirReason() throws Exception {
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new RequestDecoder(new InputValidation.Limits(256, 5)))) {
            h.processElement(raw("req", 0, request("ok", 1, 4, 5)), 0);
            h.processElement(raw("req", 1, request("big", 1, 4, 6)), 0);
            h.processElement(raw("req", 2, request("none", 1, 4, 0)), 0);
            h.processElement(raw("req", 3, request("", 1, 4, 1)), 0);
            h.processElement(raw("req", 4, request("nouser", 0, 4, 1)), 0);
            h.processElement(raw("req", 5, request("old", 1, -5, 1)), 0);
            h.processElement(raw("req", 6, AvroMessages.encode(new AdRequest("zero", 1L, Instant.ofEpochMilli(4),
                    List.of(new Candidate(0L, 1L))))), 0);
            h.processElement(raw("req", 7, click("a", 1, 2, 3, 4)), 0);
            List<ScoreRequest> ok = h.extractOutputValues();
            assertThat(ok).hasSize(1);
            assertThat(ok.get(0).requestId()).isEqualTo("ok");
            assertThat(ok.get(0).itemIds()).containsExactly(10, 11, 12, 13, 14);
            // where it was read, so that the scorer can dead-letter it (expired) with its coordinates
            assertThat(ok.get(0).sourceTopic()).isEqualTo("req");
            assertThat(ok.get(0).sourcePartition()).isEqualTo(3);
            assertThat(ok.get(0).sourceOffset()).isZero();
            assertThat(ok.get(0).recordTimestamp()).isEqualTo(1L);
            assertThat(deadLetters(h)).extracting(DeadLetter::getReason).containsExactly("too_many_candidates",
                    "empty_candidates", "missing_request_id", "missing_user_id", "bad_event_time", "missing_item_id",
                    "undecodable");
            assertThat(deadLetters(h).get(0).getDetail()).isEqualTo("6 candidates, the cap is 5");
        }
    }

    @Test
    void aCorruptLengthCannotExhaustTheHeap() throws Exception {
        // single-object header of AdRequest, then a huge array length where the candidates start
        byte[] valid = request("x", 1, 4, 1);
        int header = 10;
        byte[] evil = new byte[header + 16];
        System.arraycopy(valid, 0, evil, 0, header);
        evil[header] = 2; // request_id length 1
        evil[header + 1] = 'x';
        evil[header + 2] = 2; // user_id 1
        evil[header + 3] = 8; // event_time 4
        // array block count: zig-zag varint of 2^30
        byte[] count = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
        System.arraycopy(count, 0, evil, header + 4, count.length);
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new RequestDecoder(new InputValidation.Limits(256, 500)))) {
            h.processElement(raw("req", 0, evil), 0);
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(deadLetters(h)).extracting(DeadLetter::getReason).containsExactly("undecodable");
        }
    }

    @Test
    void idsOverTheBoundAreDeadLetteredBeforeDecodingAsFieldTooLong() throws Exception {
        String atLimit = "é".repeat(128); // 256 bytes of UTF-8 in 128 characters: the bound counts bytes
        String overLimit = atLimit + "x";
        try (var clicks = ProcessFunctionTestHarnesses.forProcessFunction(new ClickDecoder(new InputValidation.Limits(256, 500)));
             var requests = ProcessFunctionTestHarnesses.forProcessFunction(new RequestDecoder(new InputValidation.Limits(256, 500)))) {
            clicks.processElement(raw("clicks", 0, click(atLimit, 1, 2, 3, 4)), 0);
            clicks.processElement(raw("clicks", 1, click(overLimit, 1, 2, 3, 4)), 0);
            requests.processElement(raw("req", 0, request(atLimit, 1, 4, 1)), 0);
            requests.processElement(raw("req", 1, request(overLimit, 1, 4, 1)), 0);
            assertThat(clicks.extractOutputValues()).extracting(Click::eventHash).containsExactly(Fnv1a.hash64(atLimit));
            assertThat(requests.extractOutputValues()).extracting(ScoreRequest::requestId).containsExactly(atLimit);
            assertThat(deadLetters(clicks)).extracting(DeadLetter::getReason).containsExactly("field_too_long");
            assertThat(deadLetters(requests)).extracting(DeadLetter::getReason).containsExactly("field_too_long");
            assertThat(deadLetters(clicks).get(0).getDetail()).contains("ClickEvent.event_id", "257 bytes");
            assertThat(deadLetters(requests).get(0).getDetail()).contains("AdRequest.request_id");
        }
    }

    @Test
    void aHugeClickBecomesADeadLetterTheProducerAccepts() throws Exception {
        // the defect of 86d8840: a ~600 KB event_id with user 0 made a 1.2 MB dead letter (the record's
        // toString in detail plus the bytes), over the producer's 1 MiB limit: the sink failed the job
        // and every restart read the same record again
        byte[] huge = click("x".repeat(600_000), 0, 2, 3, 4);
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(new ClickDecoder(new InputValidation.Limits(1 << 20, 500)))) {
            h.processElement(raw("clicks", 0, huge), 0);
            DeadLetter d = deadLetters(h).get(0);
            assertThat(d.getReason()).isEqualTo("missing_user_id");
            assertThat(d.getDetail().length()).isLessThanOrEqualTo(io.dienflink.kafka.DeadLetters.MAX_DETAIL_CHARS);
            assertThat(d.getPayload().remaining()).isEqualTo(io.dienflink.kafka.DeadLetters.MAX_PAYLOAD_BYTES);
            assertThat(d.getPayloadLength()).isEqualTo(huge.length);
            assertThat(d.getPayloadTruncated()).isTrue();
            assertThat(d.getPayloadSha256()).isEqualTo(io.dienflink.kafka.DeadLetters.sha256(huge));
            assertThat(AvroMessages.encode(d).length).isLessThan(100_000);
        }
    }
}
