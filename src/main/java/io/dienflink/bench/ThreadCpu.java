package io.dienflink.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * CPU time of this JVM's threads, by thread, for the embedded runs ({@code demo}), where the job's
 * tasks are threads of this process named after their operators (a Flink task thread is named
 * after its chain, e.g. {@code "DIEN interest state and scoring -> (Kafka CTR scores: Writer, …) (1/2)#0"}).
 * The difference of two snapshots over the threads whose name matches gives the CPU a group of
 * operators spent in between, on two shared cores where a wall-clock rate would measure the
 * neighbours. A thread that ended between the snapshots is missed; one that started counts from 0.
 */
public final class ThreadCpu {
    /** One thread's name and CPU time (ns) at the snapshot. */
    public record Sample(String name, long cpuNanos) {}

    private final Map<Long, Sample> threads;

    private ThreadCpu(Map<Long, Sample> threads) {
        this.threads = threads;
    }

    /** The CPU time of every live thread now. */
    public static ThreadCpu now() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Sample> out = new HashMap<>();
        for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null) {
                continue; // ended meanwhile
            }
            long cpu = mx.getThreadCpuTime(info.getThreadId());
            if (cpu >= 0) {
                out.put(info.getThreadId(), new Sample(info.getThreadName(), cpu));
            }
        }
        return new ThreadCpu(out);
    }

    /** CPU nanoseconds the threads whose name matches spent since {@code before}. */
    public long since(ThreadCpu before, Predicate<String> name) {
        long sum = 0;
        for (Map.Entry<Long, Sample> e : threads.entrySet()) {
            if (!name.test(e.getValue().name())) {
                continue;
            }
            Sample then = before.threads.get(e.getKey());
            sum += e.getValue().cpuNanos() - (then == null ? 0 : then.cpuNanos());
        }
        return sum;
    }
}
