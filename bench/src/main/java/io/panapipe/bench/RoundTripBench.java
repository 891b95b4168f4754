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
 * Ping-pong round trip between two threads of one JVM: the measured thread writes {@code size}
 * bytes and reads the echo back; an echo thread of the same kind answers.
 *
 * <p>Each invocation does {@value #BATCH} round trips and JMH divides by that. With
 * {@code threads=virtual} the whole batch runs on a long-lived virtual thread
 * ({@link Link.VirtualWorker}) that the JMH thread wakes and waits for, so every measured read and
 * write happens on a virtual thread; the hand-off (two unparks) is spread over the batch and
 * allocates nothing of the harness's own. With {@code threads=platform} the JMH thread itself runs
 * the batch. Run with {@code -prof gc} for {@code gc.alloc.rate.norm}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RoundTripBench {
    public static final int BATCH = 200;
    private static final Duration BATCH_LIMIT = Duration.ofSeconds(30);

    @Param({"panapipe-epoll", "panapipe-uring", "panapipe-nio", "jdk-nio", "junixsocket", "junixsocket-channel", "ipcsocket-jna", "ipcsocket-jni"})
    public String peer;

    @Param({"1", "64", "4096", "65536"})
    public int size;

    @Param({"platform", "virtual"})
    public String threads;

    private Link link;
    private Link.VirtualWorker worker;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        link = Link.open(Peers.of(peer), size);
        link.startEcho(threads, size);
        if (threads.equals("virtual")) worker = new Link.VirtualWorker("measured", this::batch);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (worker != null) worker.close();
        if (link != null) link.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void roundTrip() throws Exception {
        if (worker != null) worker.runOnce(BATCH_LIMIT);
        else batch();
    }

    private void batch() throws IOException {
        Transport.Conn c = link.client;
        int n = size;
        for (int i = 0; i < BATCH; i++) {
            c.writeFully(n);
            c.readFully(n);
        }
    }
}
