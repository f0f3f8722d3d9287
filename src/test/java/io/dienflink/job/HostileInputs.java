package io.dienflink.job;

import io.dienflink.avro.AdRequest;
import io.dienflink.avro.Candidate;
import io.dienflink.avro.ClickEvent;
import io.dienflink.kafka.AvroMessages;
import io.dienflink.kafka.UserKeys;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded source of hostile input for the clicks and requests topics: random bytes (including
 * empty and null values), truncated and bit-flipped valid records, valid records with extreme
 * values, and ordinary valid records from a bundle's vocabularies. The fuzz tests of the validation
 * path and of the running job draw from the same generator, so both see the same kinds of input.
 * Not thread-safe.
 */
final class HostileInputs {
    /** How a record was made. */
    enum Kind { RANDOM, EMPTY, NULL, TRUNCATED, BIT_FLIPPED, EXTREME, VALID }

    /**
     * One record to send.
     *
     * @param expected for {@link Kind#EXTREME} the dead-letter reason code the record must get, or
     *     null when it must be used; for the other kinds null (their verdict is whatever
     *     {@link InputValidation} says, which is what the fuzz tests check against)
     */
    record Input(Kind kind, String label, byte[] key, byte[] value, String expected) {}

    /** An ASCII id of exactly {@code bytes} UTF-8 bytes. */
    static String asciiId(String prefix, int bytes) {
        return prefix + "x".repeat(bytes - prefix.length());
    }

    /**
     * The event time of ordinary records (2026-01-01T00:00Z, plus one ms per record): fixed, so a
     * seed gives the same bytes in every run and a failing input can be reproduced.
     */
    static final long BASE_TIME = ZonedDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC).toInstant().toEpochMilli();

    /** The event time in 2200 that extreme records use (still a valid, positive time). */
    static final long YEAR_2200 = ZonedDateTime.of(2200, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC).toInstant().toEpochMilli();

    private final SplittableRandom rnd;
    private final long[] items;
    private final long[] categories;
    private final long[] users;
    private final int maxIdBytes;
    private final int maxCandidates;
    private long serial;

    /**
     * @param items and {@code categories}: the vocabularies valid records draw from
     * @param userCount valid records belong to users 1..userCount
     */
    HostileInputs(long seed, long[] items, long[] categories, int userCount, int maxIdBytes, int maxCandidates) {
        this.rnd = new SplittableRandom(seed);
        this.items = items;
        this.categories = categories;
        this.users = new long[userCount];
        for (int i = 0; i < userCount; i++) {
            users[i] = i + 1;
        }
        this.maxIdBytes = maxIdBytes;
        this.maxCandidates = maxCandidates;
    }

    static byte[] click(String id, long user, long item, long category, long time) {
        return AvroMessages.encode(new ClickEvent(id, user, item, category, Instant.ofEpochMilli(time)));
    }

    static byte[] request(String id, long user, long time, long[] items, long[] categories) {
        List<Candidate> c = new ArrayList<>(items.length);
        for (int i = 0; i < items.length; i++) {
            c.add(new Candidate(items[i], categories[i]));
        }
        return AvroMessages.encode(new AdRequest(id, user, Instant.ofEpochMilli(time), c));
    }

    /** An ordinary valid click of a vocabulary item by one of the users. */
    byte[] validClick() {
        long n = serial++;
        return click("c-" + n, users[rnd.nextInt(users.length)], items[rnd.nextInt(items.length)],
                categories[rnd.nextInt(categories.length)], BASE_TIME + n);
    }

    /** An ordinary valid request with 1–4 vocabulary candidates, with a unique id. */
    byte[] validRequest() {
        int n = 1 + rnd.nextInt(4);
        long[] it = new long[n];
        long[] cat = new long[n];
        for (int i = 0; i < n; i++) {
            it[i] = items[rnd.nextInt(items.length)];
            cat[i] = categories[rnd.nextInt(categories.length)];
        }
        long no = serial++;
        return request("r-" + no, users[rnd.nextInt(users.length)], BASE_TIME + no, it, cat);
    }

    /**
     * A random record of the fuzz mix for the clicks topic ({@code clicks}) or the requests topic:
     * 15% valid, 2% empty, 2% null, 21% random bytes, 25% truncated and 35% bit-flipped (1–8 bits
     * anywhere, header included) valid records. Mostly invalid, as fuzzing is about the rejects;
     * the valid share keeps state and scoring busy.
     */
    Input next(boolean clicks) {
        int roll = rnd.nextInt(100);
        byte[] valid = clicks ? validClick() : validRequest();
        byte[] key = UserKeys.key(rnd.nextInt(1000));
        if (roll < 15) {
            return new Input(Kind.VALID, "valid", key, valid, null);
        }
        if (roll < 17) {
            return new Input(Kind.EMPTY, "empty", key, new byte[0], null);
        }
        if (roll < 19) {
            return new Input(Kind.NULL, "null", key, null, null);
        }
        if (roll < 40) {
            return new Input(Kind.RANDOM, "random", rnd.nextBoolean() ? null : randomBytes(rnd.nextInt(40)),
                    randomBody(valid), null);
        }
        if (roll < 65) {
            return new Input(Kind.TRUNCATED, "truncated", key, Arrays.copyOf(valid, rnd.nextInt(valid.length)), null);
        }
        return new Input(Kind.BIT_FLIPPED, "bit-flipped", key, flipBits(valid, 1 + rnd.nextInt(8), 0), null);
    }

    /**
     * Random bytes; half of them behind the valid record's single-object header, so they reach
     * the Avro checks instead of failing at the fingerprint.
     */
    byte[] randomBody(byte[] valid) {
        byte[] body = randomBytes(rnd.nextInt(200));
        if (rnd.nextBoolean()) {
            return body;
        }
        byte[] out = Arrays.copyOf(valid, AvroMessages.HEADER_LENGTH + body.length);
        System.arraycopy(body, 0, out, AvroMessages.HEADER_LENGTH, body.length);
        return out;
    }

    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    /** A copy of {@code value} with {@code flips} random bits flipped at or after byte {@code from}. */
    byte[] flipBits(byte[] value, int flips, int from) {
        byte[] out = value.clone();
        if (out.length > from) {
            for (int i = 0; i < flips; i++) {
                int at = from + rnd.nextInt(out.length - from);
                out[at] ^= (byte) (1 << rnd.nextInt(8));
            }
        }
        return out;
    }

    /** A random int in [0, bound). */
    int nextInt(int bound) {
        return rnd.nextInt(bound);
    }

    /**
     * Valid Avro records with extreme values, each with the verdict it must get: ids at the extremes
     * of a long, times in 1970 and 2200, ids exactly at and one byte over the id limit (in ASCII and
     * in multi-byte characters), ~600 KB and 2 MiB ids, ids that are not UTF-8, and (for requests) 0, the cap, the cap + 1 and
     * duplicate candidates.
     */
    List<Input> extremes(boolean clicks) {
        long item = items[0];
        long cat = categories[0];
        long now = BASE_TIME;
        String tooLong = FIELD_TOO_LONG;
        String atLimit = asciiId("at-limit-", maxIdBytes);
        String overLimit = asciiId("over-limit-", maxIdBytes + 1);
        String wideAtLimit = "é".repeat(maxIdBytes / 2); // 2 UTF-8 bytes each
        String wideOverLimit = "€".repeat(maxIdBytes / 3 + 1); // 3 bytes each, just over
        String huge = asciiId("huge-", 600 * 1024);
        // beyond a producer's default max.request.size (1 MiB), for topics that allow it
        String oversized = asciiId("oversized-", 2 * 1024 * 1024);
        List<Input> out = new ArrayList<>();
        if (clicks) {
            out.add(extreme("click user -1", click("e-neg", -1, item, cat, now), null));
            out.add(extreme("click user MAX", click("e-max", Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, now), null));
            out.add(extreme("click user MIN", click("e-min", Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE, now), null));
            out.add(extreme("click negative item", click("e-negitem", 7, -5, -6, now), null));
            out.add(extreme("click at 1 ms", click("e-1970", 7, item, cat, 1), null));
            out.add(extreme("click in 2200", click("e-2200", 7, item, cat, YEAR_2200), null));
            out.add(extreme("click at MAX time", click("e-tmax", 7, item, cat, Long.MAX_VALUE), null));
            out.add(extreme("click at 0 ms", click("e-t0", 7, item, cat, 0), "bad_event_time"));
            out.add(extreme("click at MIN time", click("e-tmin", 7, item, cat, Long.MIN_VALUE), "bad_event_time"));
            out.add(extreme("click id at limit", click(atLimit, 8, item, cat, now), null));
            out.add(extreme("click id over limit", click(overLimit, 8, item, cat, now), tooLong));
            out.add(extreme("click wide id at limit", click(wideAtLimit, 8, item, cat, now), null));
            out.add(extreme("click wide id over limit", click(wideOverLimit, 8, item, cat, now), tooLong));
            out.add(extreme("click 600 KB id", click(huge, 8, item, cat, now), tooLong));
            out.add(extreme("click 2 MiB id", click(oversized, 8, item, cat, now), tooLong));
            out.add(extreme("click user 0", click("e-u0", 0, item, cat, now), "missing_user_id"));
            out.add(extreme("click id 0xFF", notUtf8(click("A", 8, item, cat, now), (byte) 0xFF), "undecodable"));
            out.add(extreme("click id 0xFE", notUtf8(click("A", 8, item, cat, now), (byte) 0xFE), "undecodable"));
        } else {
            long[] one = {item};
            long[] oneCat = {cat};
            out.add(extreme("request user -1", request("q-neg", -1, now, one, oneCat), null));
            out.add(extreme("request user MAX", request("q-max", Long.MAX_VALUE, now,
                    new long[] {Long.MAX_VALUE, Long.MIN_VALUE}, new long[] {Long.MIN_VALUE, Long.MAX_VALUE}), null));
            out.add(extreme("request user MIN", request("q-min", Long.MIN_VALUE, now, new long[] {-1}, new long[] {-2}), null));
            out.add(extreme("request at 1 ms", request("q-1970", 9, 1, one, oneCat), null));
            out.add(extreme("request in 2200", request("q-2200", 9, YEAR_2200, one, oneCat), null));
            out.add(extreme("request at MIN time", request("q-tmin", 9, Long.MIN_VALUE, one, oneCat), "bad_event_time"));
            out.add(extreme("request 0 candidates", request("q-none", 9, now, new long[0], new long[0]), "empty_candidates"));
            out.add(extreme("request at the cap", request("q-cap", 9, now, fill(maxCandidates, item),
                    fill(maxCandidates, cat)), null));
            out.add(extreme("request over the cap", request("q-over", 9, now, fill(maxCandidates + 1, item),
                    fill(maxCandidates + 1, cat)), "too_many_candidates"));
            out.add(extreme("request duplicate candidates", request("q-dup", 9, now, fill(10, item), fill(10, cat)), null));
            out.add(extreme("request id at limit", request(atLimit, 9, now, one, oneCat), null));
            out.add(extreme("request id over limit", request(overLimit, 9, now, one, oneCat), tooLong));
            out.add(extreme("request wide id at limit", request(wideAtLimit, 9, now, one, oneCat), null));
            out.add(extreme("request wide id over limit", request(wideOverLimit, 9, now, one, oneCat), tooLong));
            out.add(extreme("request 600 KB id", request(huge, 9, now, one, oneCat), tooLong));
            out.add(extreme("request 2 MiB id", request(oversized, 9, now, one, oneCat), tooLong));
            out.add(extreme("request at MAX time", request("q-tmax", 9, Long.MAX_VALUE, one, oneCat), null));
            out.add(extreme("request id 0xFF", notUtf8(request("A", 9, now, one, oneCat), (byte) 0xFF), "undecodable"));
            out.add(extreme("request zero candidate item", request("q-item0", 9, now, new long[] {0}, oneCat),
                    "missing_item_id"));
        }
        return out;
    }

    private static final String FIELD_TOO_LONG = "field_too_long";

    private Input extreme(String label, byte[] value, String expected) {
        return new Input(Kind.EXTREME, label, UserKeys.key(rnd.nextInt(1000)), value, expected);
    }

    /** {@code record}, whose id is one character, with that character replaced by a byte that is not UTF-8. */
    private static byte[] notUtf8(byte[] record, byte b) {
        record[AvroMessages.HEADER_LENGTH + 1] = b; // after the id's length
        return record;
    }

    private static long[] fill(int n, long v) {
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }
}
