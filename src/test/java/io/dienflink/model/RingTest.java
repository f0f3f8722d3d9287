package io.dienflink.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ring's arithmetic against a plain bounded queue of click numbers. */
class RingTest {
    @Test
    void slotsFollowABoundedQueueThroughEveryWrap() {
        for (int capacity = 1; capacity <= 7; capacity++) {
            int[] slots = new int[capacity];
            ArrayDeque<Integer> queue = new ArrayDeque<>();
            int count = 0;
            int next = 0;
            for (int click = 0; click < 4 * capacity + 3; click++) {
                assertThat(Ring.consistent(capacity, count, next)).isTrue();
                slots[next] = click;
                next = Ring.after(next, capacity);
                count = Ring.grown(count, capacity);
                queue.addLast(click);
                if (queue.size() > capacity) {
                    queue.removeFirst();
                }
                List<Integer> window = new ArrayList<>();
                for (int t = 0; t < count; t++) {
                    window.add(slots[Ring.slot(capacity, count, next, t)]);
                }
                assertThat(window).containsExactlyElementsOf(queue);
                assertThat(slots[Ring.oldest(capacity, count, next)]).isEqualTo(queue.peekFirst());
                assertThat(slots[Ring.before(next, capacity)]).isEqualTo(queue.peekLast());
            }
        }
    }

    @Test
    void aWindowLaidOutFromSlotZeroIsConsistent() {
        assertThat(Ring.nextAfterLayout(3, 5)).isEqualTo(3);
        assertThat(Ring.nextAfterLayout(5, 5)).isZero();
        for (int count = 0; count <= 5; count++) {
            assertThat(Ring.consistent(5, count, Ring.nextAfterLayout(count, 5))).isTrue();
            for (int t = 0; t < count; t++) {
                assertThat(Ring.slot(5, count, Ring.nextAfterLayout(count, 5), t)).isEqualTo(t);
            }
        }
    }

    @Test
    void inconsistentPositionsAreRecognised() {
        assertThat(Ring.consistent(0, 0, 0)).isFalse();
        assertThat(Ring.consistent(5, 6, 0)).isFalse();
        assertThat(Ring.consistent(5, -1, 0)).isFalse();
        assertThat(Ring.consistent(5, 2, 5)).isFalse();
        assertThat(Ring.consistent(5, 2, 3)).isFalse(); // not full: the next slot must be the count
        assertThat(Ring.consistent(5, 5, 3)).isTrue();
    }
}
