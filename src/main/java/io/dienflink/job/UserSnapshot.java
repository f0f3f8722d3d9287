package io.dienflink.job;

/**
 * One user's stored state as a record that can travel through a batch job (the savepoint
 * migration): the header and the window entries, entry t for ring slot t.
 */
public final class UserSnapshot {
    public long userId;
    public UserHeader header;
    public ClickEntry[] entries;

    public UserSnapshot() {}

    UserSnapshot(long userId, UserHeader header, ClickEntry[] entries) {
        this.userId = userId;
        this.header = header;
        this.entries = entries;
    }

    /**
     * A placeholder for a key a reader does not emit (no header, or seen before): the State
     * Processor API's source turns a key without output into a null record, which breaks the job,
     * so readers emit this and the next step drops it.
     */
    static UserSnapshot skipped(long userId) {
        return new UserSnapshot(userId, null, null);
    }
}
