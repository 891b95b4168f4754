package io.panapipe.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One-way streaming: the measured thread writes {@code size}-byte chunks, a sink thread of the
 * same kind reads and discards them. The score is writes per second; bytes per second is that
 * times {@code size} (the report converts). In steady state the socket buffer is full, so the
 * writer runs at the reader's pace. Batching and virtual threads as in {@link RoundTripBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class StreamBench {
    public static final int BATCH = 64;
    private static final Duration BATCH_LIMIT = Duration.ofSeconds(30);

    @Param({"panapipe-epoll", "panapipe-uring", "panapipe-nio", "jdk-nio", "junixsocket", "junixsocket-channel", "ipcsocket-jna", "ipcsocket-jni"})
    public String peer;

    @Param({"4096", "65536", "1048576"})
    public int size;

    @Param({"platform", "virtual"})
    public String threads;

    private Link link;
    private Link.VirtualWorker worker;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        link = Link.open(Peers.of(peer), size);
        link.startSink(threads, size);
        if (threads.equals("virtual")) worker = new Link.VirtualWorker("measured", this::batch);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (worker != null) worker.close();
        if (link != null) link.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void write() throws Exception {
        if (worker != null) worker.runOnce(BATCH_LIMIT);
        else batch();
    }

    private void batch() throws IOException {
        Transport.Conn c = link.client;
        int n = size;
        for (int i = 0; i < BATCH; i++) c.writeFully(n);
    }
}
