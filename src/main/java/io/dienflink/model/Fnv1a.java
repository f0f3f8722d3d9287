package io.dienflink.model;

/**
 * The 64-bit FNV-1a hash of a string's UTF-8 bytes, computed without encoding the string. Two
 * things depend on it bit for bit: the raw ids of non-numeric ids in the official data format (a
 * trained bundle's vocabulary, and producers that must map ids the same way) and the event-id
 * de-duplication kept in the job's state. It must stay equal to hashing
 * {@code s.getBytes(StandardCharsets.UTF_8)}, including that an unpaired surrogate encodes as
 * {@code '?'}.
 */
public final class Fnv1a {
    private static final long OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long PRIME = 0x100000001b3L;

    private Fnv1a() {}

    /** FNV-1a of the UTF-8 encoding of {@code s}. Allocates nothing. */
    public static long hash64(CharSequence s) {
        long h = OFFSET_BASIS;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                h = step(h, c);
            } else if (c < 0x800) {
                h = step(step(h, 0xC0 | (c >> 6)), 0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                h = step(step(step(step(h, 0xF0 | (cp >> 18)), 0x80 | ((cp >> 12) & 0x3F)), 0x80 | ((cp >> 6) & 0x3F)),
                        0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                h = step(h, '?');
            } else {
                h = step(step(step(h, 0xE0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3F)), 0x80 | (c & 0x3F));
            }
        }
        return h;
    }

    private static long step(long h, int b) {
        return (h ^ b) * PRIME;
    }
}
