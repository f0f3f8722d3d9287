package io.dienflink.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.OptionalLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.StateChangelogOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.junit.jupiter.api.Test;
import org.rocksdb.CompressionType;

/** The job's RocksDB and changelog settings for checkpoints without stalls are defaults: any setting given wins. */
class RocksDbDefaultsTest {
    @Test
    void smallUncompressedWriteBuffersWhenNothingIsSet() {
        Configuration defaults = DienScoringJob.rocksDbDefaults(new Configuration());
        assertThat(defaults.get(RocksDBConfigurableOptions.WRITE_BUFFER_SIZE)).isEqualTo(MemorySize.parse("2mb"));
        assertThat(defaults.get(RocksDBConfigurableOptions.MAX_WRITE_BUFFER_NUMBER)).isEqualTo(3);
        assertThat(defaults.get(RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL)).containsExactly(
                CompressionType.NO_COMPRESSION, CompressionType.NO_COMPRESSION, CompressionType.LZ4_COMPRESSION);
    }

    @Test
    void settingsGivenByTheJobOrTheClusterAreLeftAlone() {
        Configuration given = new Configuration();
        given.setString("state.backend.rocksdb.writebuffer.size", "64mb");
        given.setString("state.backend.rocksdb.compression.per.level", "SNAPPY_COMPRESSION");
        Configuration defaults = DienScoringJob.rocksDbDefaults(given);
        assertThat(defaults.keySet()).containsExactly(RocksDBConfigurableOptions.MAX_WRITE_BUFFER_NUMBER.key());

        Configuration merged = new Configuration(given);
        merged.addAll(defaults);
        assertThat(merged.get(RocksDBConfigurableOptions.WRITE_BUFFER_SIZE)).isEqualTo(MemorySize.parse("64mb"));
        assertThat(merged.get(RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL)).isEqualTo(List.of(CompressionType.SNAPPY_COMPRESSION));
    }

    @Test
    void changelogNextToTheCheckpointsUnlessDecidedOrNowhereToPutIt() {
        Configuration withDir = new Configuration();
        withDir.setString("execution.checkpointing.dir", "file:///data/checkpoints");
        Configuration defaults = DienScoringJob.changelogDefaults(withDir);
        assertThat(defaults.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG)).isTrue();
        assertThat(defaults.get(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE)).isEqualTo("filesystem");
        assertThat(defaults.get(DienScoringJob.CHANGELOG_BASE_PATH)).isEqualTo("file:///data/checkpoints/changelog");

        Configuration ownPath = new Configuration(withDir);
        ownPath.setString("state.changelog.dstl.dfs.base-path", "s3://bucket/changelog");
        assertThat(DienScoringJob.changelogDefaults(ownPath).getOptional(DienScoringJob.CHANGELOG_BASE_PATH)).isEmpty();

        Configuration off = new Configuration(withDir);
        off.set(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG, false);
        assertThat(DienScoringJob.changelogDefaults(off).keySet()).isEmpty();
        // no checkpoint directory: no durable place for the changes, so no changelog
        assertThat(DienScoringJob.changelogDefaults(new Configuration()).keySet()).isEmpty();
    }

    @Test
    void theChangelogIsRefusedWithMemoryStorageOrANoClaimRestore() {
        Configuration job = new Configuration();
        job.set(DienJobOptions.MODEL_PATH, "bundle");
        DienJobConfig config = DienJobConfig.from(job);
        Configuration cluster = new Configuration();
        cluster.setString("execution.checkpointing.dir", "file:///data/checkpoints");
        cluster.addAll(DienScoringJob.changelogDefaults(cluster));
        cluster.set(StateRecoveryOptions.SAVEPOINT_PATH, "file:///data/savepoints/savepoint-1");
        assertThat(JobPreflight.problems(cluster, config, OptionalLong.empty())).isEmpty();

        Configuration memory = new Configuration(cluster);
        memory.removeConfig(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE); // Flink's default: memory
        assertThat(JobPreflight.problems(memory, config, OptionalLong.empty()))
                .extracting(JobPreflight.Problem::key).containsExactly(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE.key());

        Configuration noClaim = new Configuration(cluster);
        noClaim.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.NO_CLAIM);
        assertThat(JobPreflight.problems(noClaim, config, OptionalLong.empty()))
                .extracting(JobPreflight.Problem::key).containsExactly(StateRecoveryOptions.RESTORE_MODE.key());
    }
}
