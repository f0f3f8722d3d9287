package io.dienflink.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RequestUsersTest {

    @Test
    void parsesUniformAndHotSets() {
        assertThat(RequestUsers.parse("uniform")).isEqualTo(RequestUsers.UNIFORM);
        assertThat(RequestUsers.parse(" UNIFORM ")).isEqualTo(RequestUsers.UNIFORM);
        assertThat(RequestUsers.parse("hot:1000").hot()).isEqualTo(1000);
        assertThat(RequestUsers.parse("hot:1_000_000").hot()).isEqualTo(1_000_000);
        assertThat(RequestUsers.parse("hot:25")).hasToString("hot:25");
        assertThat(RequestUsers.UNIFORM).hasToString("uniform");
        for (String bad : new String[] {"", "zipf", "hot:", "hot:0", "hot:-3", "hot:x", "hot:99999999999"}) {
            assertThatThrownBy(() -> RequestUsers.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("uniform or hot:K");
        }
    }

    @Test
    void uniformDrawsWhatTheGeneratorAlwaysDrew() {
        // same seed, same sequence: runs of today's default repeat the traffic they always sent
        SyntheticWorld a = SyntheticWorld.demo(1_000, 7);
        SyntheticWorld b = SyntheticWorld.demo(1_000, 7);
        for (int i = 0; i < 1_000; i++) {
            assertThat(RequestUsers.UNIFORM.pick(a)).isEqualTo(b.randomUser());
        }
    }

    @Test
    void uniformSpreadsOverEveryUser() {
        int users = 50;
        int draws = 100_000;
        int[] count = new int[users];
        SyntheticWorld world = SyntheticWorld.demo(users, 3);
        for (int i = 0; i < draws; i++) {
            count[RequestUsers.UNIFORM.pick(world)]++;
        }
        // 2,000 expected per user; the standard deviation is about 44, so ±10 % is over 4 sigma
        for (int u = 0; u < users; u++) {
            assertThat(count[u]).as("user %d", u).isBetween(1_800, 2_200);
        }
    }

    @Test
    void hotSetKeepsRequestsOnItsFirstUsers() {
        SyntheticWorld world = SyntheticWorld.demo(10_000, 3);
        RequestUsers hot = RequestUsers.parse("hot:20");
        boolean[] seen = new boolean[20];
        for (int i = 0; i < 10_000; i++) {
            int u = hot.pick(world);
            assertThat(u).isBetween(0, 19);
            seen[u] = true;
        }
        for (boolean s : seen) {
            assertThat(s).isTrue();
        }
        // a hot set larger than the world is the whole world
        SyntheticWorld small = SyntheticWorld.demo(5, 3);
        for (int i = 0; i < 1_000; i++) {
            assertThat(hot.pick(small)).isBetween(0, 4);
        }
        assertThatThrownBy(() -> small.randomUser(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
