package io.dienflink.offline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link SeenRequests} answers as a set of the strings does, through several growths. */
class SeenRequestsTest {
    @Test
    void answersAsAHashSetOfTheIds() {
        SeenRequests seen = new SeenRequests();
        Set<String> reference = new HashSet<>();
        Random random = new Random(3);
        for (int i = 0; i < 50_000; i++) {
            String id = "req-" + random.nextInt(30_000); // about 40 % repeats
            assertThat(seen.add(id)).as(id).isEqualTo(reference.add(id));
        }
        assertThat(seen.size()).isEqualTo(reference.size());
    }
}
