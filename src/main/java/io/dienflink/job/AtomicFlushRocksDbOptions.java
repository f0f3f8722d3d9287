package io.dienflink.job;

import java.util.Collection;
import org.apache.flink.state.rocksdb.RocksDBOptionsFactory;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;

/**
 * RocksDB options factory ({@code state.backend.rocksdb.options-factory}) that flushes all column
 * families of a checkpoint in one atomic flush: one flush job and one MANIFEST write instead of one
 * per column family (user headers, windows, timers) run one after the other while the checkpoint's
 * synchronous phase waits.
 */
public final class AtomicFlushRocksDbOptions implements RocksDBOptionsFactory {
    private static final long serialVersionUID = 1L;

    @Override
    public DBOptions createDBOptions(DBOptions current, Collection<AutoCloseable> handlesToClose) {
        return current.setAtomicFlush(true);
    }

    @Override
    public ColumnFamilyOptions createColumnOptions(ColumnFamilyOptions current, Collection<AutoCloseable> handlesToClose) {
        return current;
    }
}
