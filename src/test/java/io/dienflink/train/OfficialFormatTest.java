package io.dienflink.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the official DIEN data format, and its ids, from the sample file in the test resources. */
class OfficialFormatTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheSampleFile() throws IOException {
        List<RawSample> samples = OfficialFormat.read(Path.of("src/test/resources/official-format-sample.txt"));
        assertThat(samples).hasSize(60);
        assertThat(samples).allSatisfy(s -> {
            assertThat(s.label()).isBetween(0, 1);
            assertThat(s.items()).hasSameSizeAs(s.categories()).isNotEmpty();
            assertThat(s.user()).isNotNegative();
        });
        Dataset d = new Dataset(new RawData("sample", samples.subList(0, 50), samples.subList(50, 60), null), 1);
        assertThat(d.users).isSorted().doesNotHaveDuplicates();
        // the vocabularies come from the training file only: every training category, nothing else
        long[] trainCategories = samples.subList(0, 50).stream()
                .flatMapToLong(x -> java.util.stream.LongStream.concat(java.util.Arrays.stream(x.categories()),
                        java.util.stream.LongStream.of(x.candidateCategory())))
                .distinct().sorted().toArray();
        assertThat(d.categories).containsExactly(trainCategories);
    }

    @Test
    void withoutAHeldOutFileWholeUsersAreHeldOut() throws IOException {
        List<RawSample> samples = OfficialFormat.read(Path.of("src/test/resources/official-format-sample.txt"));
        RawData d = OfficialFormat.splitByUser("sample", samples);
        java.util.Set<Long> trainUsers = new java.util.HashSet<>();
        d.train().forEach(x -> trainUsers.add(x.user()));
        assertThat(d.test()).isNotEmpty().noneMatch(x -> trainUsers.contains(x.user()));
        assertThat(d.train().size() + d.test().size()).isEqualTo(samples.size());
        assertThatThrownBy(() -> OfficialFormat.splitByUser("one", samples.stream()
                .filter(x -> x.user() == samples.get(0).user()).toList())).hasMessageContaining("held-out file");
    }

    @Test
    void parsesFieldsAndHistoriesInOrder() {
        RawSample s = OfficialFormat.parse("1\tAUSER\t0553\tBooks\t0001\u00020002\u0002X9\tBooks\u0002Books\u0002Romance", "l");
        assertThat(s.label()).isEqualTo(1);
        assertThat(s.candidateItem()).isEqualTo(553L);
        assertThat(s.items()).containsExactly(1L, 2L, OfficialFormat.rawId("X9"));
        assertThat(s.categories()).containsExactly(OfficialFormat.rawId("Books"), OfficialFormat.rawId("Books"),
                OfficialFormat.rawId("Romance"));
        assertThat(s.user()).isEqualTo(OfficialFormat.rawId("AUSER")).isNotNegative();
    }

    @Test
    void numericIdsAreTheirValueOthersAreStableHashes() {
        assertThat(OfficialFormat.rawId("0553")).isEqualTo(553L);
        assertThat(OfficialFormat.rawId(" 42 ")).isEqualTo(42L);
        // FNV-1a 64 of the UTF-8 bytes, sign bit cleared: producers of click events must compute the same
        assertThat(OfficialFormat.rawId("a")).isEqualTo(0xaf63dc4c8601ec8cL & Long.MAX_VALUE);
        assertThat(OfficialFormat.rawId("A1")).isNotEqualTo(OfficialFormat.rawId("A2")).isNotNegative();
        assertThat(OfficialFormat.rawId("99999999999999999999")).isNotNegative(); // too long for a long: hashed
    }

    @Test
    void badLinesNameTheirLine() throws IOException {
        Path f = Files.write(tmp.resolve("bad.txt"), List.of("1\tu\t1\t2\t3\t4", "x\tu\t1\t2\t3\t4"));
        assertThatThrownBy(() -> OfficialFormat.read(f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad.txt:2").hasMessageContaining("label");
        assertThatThrownBy(() -> OfficialFormat.parse("0.9\tu\t1\t2\t3\t4", "l")).hasMessageContaining("label must be 0 or 1");
        assertThat(OfficialFormat.parse("1.0\tu\t1\t2\t3\t4", "l").label()).isEqualTo(1);
        Path g = Files.write(tmp.resolve("short.txt"), List.of("1\tu\t1\t2\t3\u00024\t5"));
        assertThatThrownBy(() -> OfficialFormat.read(g)).hasMessageContaining("short.txt:1")
                .hasMessageContaining("2 history items but 1 categories");
    }
}
