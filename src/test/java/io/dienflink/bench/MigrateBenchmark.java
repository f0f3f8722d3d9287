package io.dienflink.bench;

import io.dienflink.bootstrap.Population;
import io.dienflink.bootstrap.SyntheticBootstrap;
import io.dienflink.job.SavepointMigration;
import io.dienflink.model.ModelBundle;
import io.dienflink.reference.UntrainedBundles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throughput of {@code migrate}: a savepoint of N users with full windows (T = 100, official
 * dimensions), built by model A, rewritten for model B. The input savepoint is written by
 * {@code bootstrap} ({@link SyntheticBootstrap}: 110 clicks per user of the demo's synthetic world, through the job's
 * click path), compressed as the job writes its savepoints, or uncompressed with {@code -Dcompressed=false}
 * (savepoints of the job before it compressed them). Not part of the test suite; run with
 * {@code ./mvnw -q test -Dtest=MigrateBenchmark -Dgroups=benchmark -DexcludedGroups=none [-Dusers=N] [-Dcompressed=false]}.
 */
@Tag("benchmark")
class MigrateBenchmark {

    @Test
    void migrateThroughput() throws Exception {
        int users = Integer.getInteger("users", 20_000);
        Path dir = Files.createTempDirectory("dien-migrate-bench");
        ModelBundle a = UntrainedBundles.random(UntrainedBundles.officialArchitecture("a",
                new io.dienflink.model.ModelConfig.VocabSizes(10_000, 5_000, 50), 100), 1);
        ModelBundle b = UntrainedBundles.random(UntrainedBundles.officialArchitecture("b",
                new io.dienflink.model.ModelConfig.VocabSizes(10_000, 5_000, 50), 100), 2);
        a.writeTo(dir.resolve("a"));
        b.writeTo(dir.resolve("b"));

        String input = dir.resolve("input").toUri().toString();
        boolean compressed = Boolean.parseBoolean(System.getProperty("compressed", "true"));
        long t0 = System.nanoTime();
        SyntheticBootstrap.write(new SyntheticBootstrap.Settings(new Population(users, 3, 110), dir.resolve("a"), input, 2,
                SyntheticBootstrap.defaultMaxParallelism(2), System.currentTimeMillis(), compressed));
        System.out.printf("bootstrapped %d users in %.1f s%n", users, (System.nanoTime() - t0) / 1e9);

        // CPU time of this process (MiniCluster included) across the migration: on a machine shared with other
        // builds, wall time measures the neighbours; CPU seconds per user measure the work
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        SavepointMigration.Result r = SavepointMigration.migrate(input, dir.resolve("b").toString(),
                dir.resolve("output").toUri().toString(), 2);
        double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
        System.out.printf("migrate cpu_s=%.1f users_per_cpu_s=%.0f wall_users_per_s=%.0f load_average=%.1f cores=%d%n", cpuSeconds,
                users / cpuSeconds, r.usersPerSecond(), os.getSystemLoadAverage(), Runtime.getRuntime().availableProcessors());
        System.out.printf("| %d users, T = 100, parallelism 2, input %s | %d rebuilt | %.1f s | %.0f users/s | %d repeated keys skipped |%n",
                r.users(), compressed ? "compressed" : "uncompressed", r.rebuilt(), r.millis() / 1000.0, r.usersPerSecond(),
                r.repeatedKeys());
        // a throughput of the wrong work is no measurement
        org.assertj.core.api.Assertions.assertThat(r.users()).isEqualTo(users);
        org.assertj.core.api.Assertions.assertThat(r.rebuilt()).isEqualTo(users);
    }
}
