package io.panapipe.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * A connection's whole life, as a client that opens one per request sees it (a Docker API call, a
 * CLI talking to its daemon): connect, write {@code size} bytes, read the echo, close. The server,
 * in the same JVM on a thread of the same kind, accepts, echoes and closes each connection in
 * turn, so both ends' setup and teardown are in the time (and in the CPU and allocation per
 * operation).
 *
 * <p>Each invocation does {@value #BATCH} connections; with {@code threads=virtual} the batch runs
 * on a long-lived virtual thread ({@link Link.VirtualWorker}), as in {@link RoundTripBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class ConnectBench {
    public static final int BATCH = 20;
    private static final Duration BATCH_LIMIT = Duration.ofSeconds(30);

    @Param({"panapipe-epoll", "panapipe-uring", "panapipe-nio", "jdk-nio", "junixsocket", "junixsocket-channel", "ipcsocket-jna", "ipcsocket-jni"})
    public String peer;

    @Param({"64"})
    public int size;

    @Param({"platform", "virtual"})
    public String threads;

    private Transport transport;
    private Path dir;
    private Path sock;
    private Transport.Server server;
    private Thread acceptor;
    private volatile boolean stopping;
    private Link.VirtualWorker worker;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        transport = Peers.of(peer);
        dir = Files.createTempDirectory("ppc");
        sock = dir.resolve("s.sock");
        server = transport.bind(sock);
        acceptor = Link.start(threads, "accept-echo-close", this::serve);
        if (threads.equals("virtual")) worker = new Link.VirtualWorker("measured", this::batch);
    }

    /** Accepts, echoes one message and closes, one connection after another, until teardown. */
    private void serve() {
        while (!stopping) {
            try (Transport.Conn c = server.accept(size)) {
                c.readFully(size);
                c.writeFully(size);
            } catch (IOException e) {
                if (!stopping) {
                    System.err.println("connect bench server: " + Main.oneLine(e.toString()));
                }
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        stopping = true;
        if (worker != null) worker.close();
        Link.closeQuietly(server); // wakes the accept
        if (acceptor != null) acceptor.join(Duration.ofSeconds(5));
        Link.deleteTree(dir);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void connectEchoClose() throws Exception {
        if (worker != null) worker.runOnce(BATCH_LIMIT);
        else batch();
    }

    private void batch() throws IOException {
        for (int i = 0; i < BATCH; i++) {
            try (Transport.Conn c = transport.connect(sock, size)) {
                c.writeFully(size);
                c.readFully(size);
            }
        }
    }
}
