package io.dienflink.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.ClickEvent;
import io.dienflink.avro.CtrScore;
import io.dienflink.avro.DeadLetter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificRecordBase;
import org.junit.jupiter.api.Test;

/**
 * Records written by an earlier release still decode: one committed record per topic and schema
 * version (src/test/resources/wire/vN/, written by that release's generated classes) is read with
 * today's decoders. A reader that forgot a previous schema fails here, because single-object
 * encoding names the writer schema by fingerprint.
 */
class WireFormatHistoryTest {
    private static byte[] fixture(String version, Class<?> type) throws IOException {
        try (InputStream in = WireFormatHistoryTest.class.getResourceAsStream("/wire/" + version + "/" + type.getSimpleName() + ".bin")) {
            assertThat(in).as("fixture %s of %s", version, type.getSimpleName()).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void version1RecordsOfAllFourTopicsDecode() throws Exception {
        ClickEvent click = AvroMessages.decoder(ClickEvent.class).decode(fixture("v1", ClickEvent.class));
        assertThat(click).isEqualTo(new ClickEvent("click-v1-1", 42L, 1001L, 17L, Instant.ofEpochMilli(1764583200000L)));

        AdRequest request = AvroMessages.decoder(AdRequest.class).decode(fixture("v1", AdRequest.class));
        assertThat(request.getRequestId()).isEqualTo("req-v1-1");
        assertThat(request.getCandidates()).hasSize(2);

        CtrScore score = AvroMessages.decoder(CtrScore.class).decode(fixture("v1", CtrScore.class));
        assertThat(score.getRequestId()).isEqualTo("req-v1-1");
        assertThat(score.getScores()).extracting(s -> s.getCtr()).containsExactly(0.25f, 0.125f);
        assertThat(score.getHistoryLength()).isEqualTo(3);
        assertThat(score.getClicksApplied()).as("a field version 1 did not have: its default").isZero();

        DeadLetter letter = AvroMessages.decoder(DeadLetter.class).decode(fixture("v1", DeadLetter.class));
        assertThat(letter.getReason()).isEqualTo("undecodable");
        assertThat(letter.getPayload()).isEqualTo(ByteBuffer.wrap(new byte[] {9, 9, 9}));
        assertThat(letter.getPayloadLength()).isEqualTo(-1L);
        assertThat(letter.getPayloadTruncated()).isFalse();
    }

    @Test
    void theGeneratedDecoderAloneCannotReadVersion1OfAChangedSchema() throws Exception {
        // why readers must keep the old schemas: the fingerprint names the writer schema
        byte[] v1 = fixture("v1", CtrScore.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CtrScore.getDecoder().decode(v1))
                .isInstanceOf(org.apache.avro.message.MissingSchemaException.class);
    }

    @Test
    void writerSchemaIsFoundByFingerprintForCurrentAndPreviousVersions() throws Exception {
        for (Class<? extends SpecificRecordBase> type : List.of(ClickEvent.class, AdRequest.class, CtrScore.class, DeadLetter.class)) {
            SpecificRecordBase current = type.getConstructor().newInstance();
            byte[] header = new byte[AvroMessages.HEADER_LENGTH];
            header[0] = (byte) 0xC3;
            header[1] = 0x01;
            ByteBuffer.wrap(header, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putLong(SchemaNormalization.parsingFingerprint64(current.getSchema()));
            assertThat(AvroMessages.writerSchema(type, header)).isEqualTo(current.getSchema());
            byte[] old = fixture("v1", type);
            assertThat(AvroMessages.writerSchema(type, old)).as("v1 of %s", type.getSimpleName()).isNotNull();
            assertThat(AvroMessages.writerSchema(type, new byte[] {(byte) 0xC3, 0x01, 1, 2})).isNull();
        }
    }
}
