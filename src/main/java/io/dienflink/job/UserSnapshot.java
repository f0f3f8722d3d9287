package io.dienflink.job;

/**
 * One user's stored state as a record that can travel through a batch job (the savepoint
 * migration, the bootstrap): the user id and its {@link StoredUser}.
 */
public final class UserSnapshot {
    public long userId;
    public StoredUser user;

    public UserSnapshot() {}

    public UserSnapshot(long userId, StoredUser user) {
        this.userId = userId;
        this.user = user;
    }

    /**
     * A placeholder for a key a reader does not emit (no state, or seen before): the State
     * Processor API's source turns a key without output into a null record, which breaks the job,
     * so readers emit this and the next step drops it.
     */
    static UserSnapshot skipped(long userId) {
        return new UserSnapshot(userId, null);
    }
}
