package io.dienflink.model;

/**
 * The ring every stored user window follows, in the model core ({@link InterestState}) and in the
 * Flink job's keyed state alike: {@code capacity} slots (the building model's {@code maxHistory}),
 * {@code count} clicks stored, and {@code next}, the slot the next click goes to.
 *
 * <p>Invariant: {@code 0 ≤ count ≤ capacity}, {@code 0 ≤ next < capacity}, and while the ring is
 * not full its clicks fill slots {@code 0 … count − 1} oldest first, so {@code next == count};
 * once full, the oldest click is at {@code next}. A window rebuilt or restored from an ordered list
 * is laid out from slot 0 ({@link #nextAfterLayout}). All slot arithmetic of the project is here.
 */
public final class Ring {
    private Ring() {}

    /** Whether the three numbers satisfy the ring's invariant. */
    public static boolean consistent(int capacity, int count, int next) {
        return capacity > 0 && count >= 0 && count <= capacity && next >= 0 && next < capacity
                && (count == capacity || next == count);
    }

    /** The slot of the window's oldest click. */
    public static int oldest(int capacity, int count, int next) {
        return count < capacity ? 0 : next;
    }

    /** The slot of the t-th click of the window, oldest first ({@code 0 ≤ t < count}). */
    public static int slot(int capacity, int count, int next, int t) {
        return wrap(oldest(capacity, count, next) + t, capacity);
    }

    /** {@code i} taken modulo {@code size}, for {@code 0 ≤ i < 2·size}: a start slot plus an offset. */
    public static int wrap(int i, int size) {
        return i >= size ? i - size : i;
    }

    /** The slot after {@code slot}: where the click after the one at {@code slot} goes. */
    public static int after(int slot, int capacity) {
        return slot + 1 == capacity ? 0 : slot + 1;
    }

    /** The slot before {@code slot}: the newest click's slot when {@code slot} is {@code next}. */
    public static int before(int slot, int capacity) {
        return (slot == 0 ? capacity : slot) - 1;
    }

    /** The window length after one more click. */
    public static int grown(int count, int capacity) {
        return count < capacity ? count + 1 : capacity;
    }

    /** {@code next} of a window of {@code count} clicks laid out oldest first from slot 0. */
    public static int nextAfterLayout(int count, int capacity) {
        return count == capacity ? 0 : count;
    }
}
