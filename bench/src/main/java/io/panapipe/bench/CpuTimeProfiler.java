package io.panapipe.bench;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;
import org.openjdk.jmh.runner.IterationType;

/**
 * CPU time per operation: the fork's process CPU time (every thread: the measured one, the echo or
 * sink thread on the far end, the poller threads of a peer, and the JVM's own) over each measurement
 * iteration, divided by the operations of that iteration. One process holds both ends, so this is
 * the CPU a round trip (or a write) costs the machine, as the C rows' two processes' rusage is.
 *
 * <p>Reported as {@code cpu.time.norm} in ns/op ({@link #METRIC}); run with
 * {@code -prof io.panapipe.bench.CpuTimeProfiler}. A spin shows here: its latency may beat C's
 * blocking round trip while its CPU per operation is several times the blocking peers'.
 */
public final class CpuTimeProfiler implements InternalProfiler {
    /** The secondary metric's name. */
    public static final String METRIC = "cpu.time.norm";

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long cpu0;

    @Override
    public String getDescription() {
        return "process CPU time per operation (all threads of the fork), ns/op";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        cpu0 = os.getProcessCpuTime();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                       IterationResult result) {
        long cpu = os.getProcessCpuTime() - cpu0;
        long ops = result.getMetadata() == null ? 0 : result.getMetadata().getAllOps();
        if (iterationParams.getType() != IterationType.MEASUREMENT || ops <= 0 || cpu0 < 0) return List.of();
        return List.of(new ScalarResult(METRIC, (double) cpu / ops, "ns/op", AggregationPolicy.AVG));
    }
}
