package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Fnv1a} against the definition: FNV-1a over {@code getBytes(UTF_8)}. */
class Fnv1aTest {
    private static long overEncodedBytes(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    @Test
    void equalsHashingTheUtf8BytesForEveryKindOfCharacter() {
        // published FNV-1a 64 test vectors
        assertThat(Fnv1a.hash64("")).isEqualTo(0xcbf29ce484222325L);
        assertThat(Fnv1a.hash64("a")).isEqualTo(0xaf63dc4c8601ec8cL);
        String[] fixed = {"event-1", "é", "€", "日本語", "😀", "a😀b", "\uD800", "x\uDC00y", "\uD83D", "\uDE00\uD83D"};
        for (String s : fixed) {
            assertThat(Fnv1a.hash64(s)).as(s).isEqualTo(overEncodedBytes(s));
        }
        SplittableRandom r = new SplittableRandom(3);
        char[] pool = {'a', 'Z', '7', '-', 'é', 'ß', 'Ω', '€', '中', '\uD83D', '\uDE00', '\uDBFF', '\uDFFF', '\u0000', '\u07FF', '\u0800', '\uFFFF'};
        for (int k = 0; k < 20_000; k++) {
            char[] c = new char[r.nextInt(12)];
            for (int i = 0; i < c.length; i++) {
                c[i] = pool[r.nextInt(pool.length)];
            }
            String s = new String(c);
            assertThat(Fnv1a.hash64(s)).as("%s", s.chars().mapToObj(Integer::toHexString).toList()).isEqualTo(overEncodedBytes(s));
        }
    }
}
