package io.dienflink.bootstrap;

import io.dienflink.job.DienJobOptions;
import io.dienflink.job.DienScoringJob;
import io.dienflink.job.SavepointMigration;
import io.dienflink.model.DienModel;
import io.dienflink.model.ModelBundle;
import io.dienflink.traffic.SyntheticWorld;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.state.rocksdb.RocksDBOptionsFactory;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a savepoint of the scoring operator ({@link DienScoringJob#UID_SCORER}) holding N synthetic
 * users with full histories, without running the job or Kafka: a job started from it serves N users
 * from its first second, for measurements at scale and for tests.
 *
 * <p>The users are those of the demo's traffic for N users ({@link SyntheticWorld#demo(int, long)}):
 * user index i is user id {@link SyntheticWorld#id(int) id(i)} and clicked {@code clicksPerUser}
 * times, the clicks being {@link Population#history} (a random stream of the user's own, so any
 * process can regenerate them). Each click is applied through the job's own click path
 * ({@link io.dienflink.job.UserStore#click}), so the stored states are those the job would hold after
 * those clicks (streaming semantics: every click advanced the extractor, the window keeps the newest
 * T). Each user is then stored as the operator keeps it after its last event at the bootstrap's
 * {@code now}: active in that bucket, with the expiry timer the job registers for it under the
 * default {@code dien.state.inactivity-expiry} (a job run with another expiry re-arms or expires the
 * user when that timer fires, as after any change of the setting), and <b>no remembered click event
 * ids</b>: the histories did not come through Kafka, so no record on the clicks topic can repeat
 * one of them, and a job started from the savepoint applies every click it reads.
 *
 * <p>How it is built (State Processor API, on a local MiniCluster): only the users' indices travel,
 * in batches of one key group in RocksDB's key order ({@link InKeyOrder}), to the writer subtask
 * that owns the key group; it builds each user on the heap ({@link UserBuilder}: the user's clicks
 * through the job's click path) and writes its one value and timer ({@link UserWriter}). No user's
 * state crosses a network channel, is sorted or goes through Kryo, and RocksDB never compacts what it
 * is given. The savepoint is compressed, as the job writes its own ({@link SavepointMigration#environment}).
 * Nearly all of the CPU time is the model's cell steps (T + 10 clicks at most two steps each): see
 * docs/benchmarks.md, "Bootstrap".
 */
public final class SyntheticBootstrap {
    private static final Logger LOG = LoggerFactory.getLogger(SyntheticBootstrap.class);
    static final String USERS = "users";

    private SyntheticBootstrap() {}

    /**
     * What to write.
     *
     * @param population the users and their histories
     * @param model the bundle whose model builds the states (the bundle the job will run)
     * @param output the savepoint directory to write (a path or a URI; must not exist)
     * @param parallelism writer subtasks
     * @param maxParallelism key groups of the savepoint (the job adopts them on restore)
     * @param now processing time (ms) the users were last active at
     * @param compressed whether the savepoint is compressed, as the job writes its savepoints; false only to
     *     reproduce savepoints of the job from before it compressed them ({@code MigrateBenchmark})
     */
    public record Settings(Population population, Path model, String output, int parallelism, int maxParallelism,
                           long now, boolean compressed) {
        /** A compressed savepoint, as the job writes them. */
        public Settings(Population population, Path model, String output, int parallelism, int maxParallelism, long now) {
            this(population, model, output, parallelism, maxParallelism, now, true);
        }

        public Settings {
            if (population.clicksPerUser() < 1) {
                throw new IllegalArgumentException("a user without clicks has no state: clicksPerUser must be positive");
            }
            if (parallelism < 1 || parallelism > maxParallelism) {
                throw new IllegalArgumentException("parallelism must be between 1 and the max parallelism "
                        + maxParallelism + ": " + parallelism);
            }
            if (maxParallelism > KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM) {
                throw new IllegalArgumentException("max parallelism above Flink's bound "
                        + KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM + ": " + maxParallelism);
            }
        }
    }

    /**
     * What was written.
     *
     * @param users users in the savepoint (every one handed to the writers: each has clicks, so each is stored)
     * @param millis wall time of the whole bootstrap, job start to savepoint on disk
     * @param savepointBytes the savepoint's size on disk (every file under it), -1 if it is not on a local file system
     */
    public record Result(long users, long millis, long savepointBytes) {
        public double usersPerSecond() {
            return users / Math.max(1e-3, millis / 1000.0);
        }

        public double bytesPerUser() {
            return savepointBytes < 0 || users == 0 ? Double.NaN : (double) savepointBytes / users;
        }
    }

    /**
     * The max parallelism the job runs with when nothing sets one, as {@link DienScoringJob} does not:
     * Flink's default for a job of {@code parallelism} (128 up to parallelism 85). A job restored from
     * a savepoint adopts the savepoint's key groups when it sets none itself, so any value restores;
     * this one is what the job's own savepoints have.
     */
    public static int defaultMaxParallelism(int parallelism) {
        return KeyGroupRangeAssignment.computeDefaultMaxParallelism(parallelism);
    }

    /** The processing-time expiry the job applies unless {@code dien.state.inactivity-expiry} says otherwise. */
    static long defaultInactivityMs() {
        return DienJobOptions.INACTIVITY_EXPIRY.defaultValue().toMillis();
    }

    /**
     * Writes the savepoint on a local MiniCluster.
     *
     * @throws io.dienflink.model.BundleFormatException if the bundle is invalid (checked before anything runs)
     */
    public static Result write(Settings s) throws Exception {
        return write(s, ModelBundle.load(s.model()));
    }

    /**
     * Writes the savepoint on a local MiniCluster, with the bundle at {@code s.model()} already loaded
     * (and so validated) by the caller.
     *
     * <p>Streaming execution, not batch ({@link SavepointMigration#environment}): under batch
     * execution Flink 2.2's adaptive batch scheduler hands each writer a range of key groups balanced
     * by bytes, which need not be the range the State Processor API's writer owns (Flink's key-group
     * assignment), and a writer given a key outside its range failed inside the State Processor API's
     * task, which swallows the error: the job hung with one writer blocked for ever (seen at a million
     * users: 797,000 and 203,000 users to the two writers instead of half each). Streaming execution
     * partitions by Flink's assignment, and the users need no sort (they come in key order, {@link
     * InKeyOrder}).
     */
    public static Result write(Settings s, ModelBundle bundle) throws Exception {
        Population p = s.population();
        LOG.info("Bootstrapping {} users, {} clicks each, under {} ({}, T = {}) at parallelism {}, max parallelism {}",
                p.users(), p.clicksPerUser(), bundle.config().modelVersion(), bundle.fingerprint(),
                bundle.config().maxHistory(), s.parallelism(), s.maxParallelism());
        long t0 = System.nanoTime();
        StreamExecutionEnvironment env = SavepointMigration.environment(s.parallelism());
        env.getConfig().setUseSnapshotCompression(s.compressed());
        String model = s.model().toAbsolutePath().toString();
        UserBuilder.offer(model, DienModel.from(bundle));
        EmbeddedRocksDBStateBackend backend = new EmbeddedRocksDBStateBackend(true);
        backend.setRocksDBOptions(new Uncompressed());
        SavepointWriter.newSavepoint(env, backend, s.maxParallelism())
                .withOperator(OperatorIdentifier.forUid(DienScoringJob.UID_SCORER), OperatorTransformation
                        .bootstrapWith(env.fromSequence(0, s.parallelism() - 1L)
                                .flatMap(new InKeyOrder(p, s.maxParallelism(), s.parallelism()))
                                .returns(PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO))
                        // a batch's users share a key group: its first user's id routes it
                        .keyBy(batch -> SyntheticWorld.id((int) batch[0]), Types.LONG)
                        .transform((timestamp, path) -> SimpleOperatorFactory.of(new UserWriter(p, model,
                                bundle.fingerprint(), s.now(), defaultInactivityMs(), timestamp, path))))
                .write(s.output());
        JobExecutionResult run = env.execute("dien-flink bootstrap of " + p.users() + " users");
        Long users = run.getAccumulatorResult(USERS);
        Result r = new Result(users == null ? 0 : users, (System.nanoTime() - t0) / 1_000_000, sizeOnDisk(s.output()));
        LOG.info("Bootstrapped {} users in {} ms: {} bytes on disk", r.users(), r.millis(), r.savepointBytes());
        return r;
    }

    /**
     * RocksDB that does not compress its files: the writers' RocksDB is a scratch space written once
     * and read once by the savepoint (which compresses what it writes), and compressing each
     * flushed file cost a few seconds per million users.
     */
    private static final class Uncompressed implements RocksDBOptionsFactory {
        @Override
        public DBOptions createDBOptions(DBOptions current, Collection<AutoCloseable> handlesToClose) {
            return current;
        }

        @Override
        public ColumnFamilyOptions createColumnOptions(ColumnFamilyOptions current,
                                                       Collection<AutoCloseable> handlesToClose) {
            return current.setCompressionType(CompressionType.NO_COMPRESSION);
        }
    }

    /** The bytes of every file under {@code location}, or -1 when it is not a local directory. */
    static long sizeOnDisk(String location) {
        Path dir;
        try {
            URI uri = URI.create(location);
            dir = uri.getScheme() == null ? Path.of(location) : "file".equals(uri.getScheme()) ? Path.of(uri) : null;
        } catch (IllegalArgumentException e) {
            dir = Path.of(location);
        }
        if (dir == null || !Files.isDirectory(dir)) {
            return -1;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
