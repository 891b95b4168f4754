package io.panapipe.contract;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The behaviour every engine must show through the public API. The build runs this class once per
 * engine ({@code -Dpanapipe.engine=...}); nothing here knows which engine it is talking to.
 */
@Timeout(value = 60, unit = SECONDS)
class PipeContractTest {

    /** Accepts one client on a virtual thread. */
    private static CompletableFuture<Pipe> acceptAsync(PipeServer server) {
        return acceptAsync(() -> server.accept(Duration.ofSeconds(20)));
    }

    /** Accepts one client on a virtual thread with {@code accept}. */
    private static CompletableFuture<Pipe> acceptAsync(Blocking accept) {
        CompletableFuture<Pipe> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete((Pipe) accept.run());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private static Pipe[] connectedPair(PipeServer server, PipeOptions options) throws Exception {
        CompletableFuture<Pipe> accepted = acceptAsync(server);
        Pipe client = PipeClient.connect(server.name(), options, Duration.ofSeconds(10));
        return new Pipe[] {accepted.get(20, SECONDS), client};
    }

    @Test
    void roundTripWithNativeSegments() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("rt"));
             Arena arena = Arena.ofConfined()) {
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                MemorySegment out = arena.allocate(64);
                for (int i = 0; i < 64; i++) {
                    out.set(ValueLayout.JAVA_BYTE, i, (byte) i);
                }
                assertEquals(64, c.write(out));
                MemorySegment in = arena.allocate(64);
                int got = 0;
                while (got < 64) {
                    int n = s.read(in.asSlice(got));
                    assertTrue(n > 0, "read returned " + n);
                    got += n;
                }
                assertEquals(-1, in.mismatch(out));
                assertTrue(s.isMessageComplete());
            }
        }
    }

    @Test
    void readsOfEveryKindAndSizeTakeTheStreamInOrder() throws Exception {
        // Small reads go through the pipe's read-ahead and staged reads fill their buffer, so one
        // read may take bytes that the next reads (of any kind) must get first, none lost or repeated.
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("mixed"));
             Arena arena = Arena.ofShared()) {
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                byte[] data = new byte[300_000];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (i * 7 + i / 251);
                }
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        for (int off = 0; off < data.length; ) {
                            int n = Math.min(1 + (off % 1500), data.length - off); // many small writes, pipelined
                            c.outputStream().write(data, off, n);
                            off += n;
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                byte[] back = new byte[data.length];
                MemorySegment nativeBuf = arena.allocate(70_000);
                int got = 0;
                for (int round = 0; got < data.length; round++) {
                    int want = Math.min(new int[] {1, 3, 64, 511, 512, 4096, 70_000}[round % 7], data.length - got);
                    int n;
                    switch (round % 4) {
                        case 0 -> {                                                     // native segment
                            n = s.read(nativeBuf.asSlice(0, want));
                            if (n > 0) {
                                MemorySegment.copy(nativeBuf, ValueLayout.JAVA_BYTE, 0, back, got, n);
                            }
                        }
                        case 1 -> n = s.inputStream().read(back, got, want);            // byte[]
                        case 2 -> n = s.read(ByteBuffer.wrap(back, got, want));         // heap buffer
                        default -> {
                            if (want == 1) {                                            // one byte
                                int b = s.inputStream().read();
                                n = b < 0 ? -1 : 1;
                                if (b >= 0) {
                                    back[got] = (byte) b;
                                }
                            } else {                                                    // heap segment
                                n = s.read(MemorySegment.ofArray(back).asSlice(got, want));
                            }
                        }
                    }
                    assertTrue(n > 0, "end of stream after " + got + " bytes");
                    got += n;
                }
                writer.get(20, SECONDS);
                assertArrayEquals(data, back);
            }
        }
    }

    @Test
    void heapArraysBuffersAndStreamsLargerThanTheStagingBuffer() throws Exception {
        PipeOptions options = PipeOptions.defaults().withHeapBufferSize(1024);
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("heap"), options)) {
            Pipe[] p = connectedPair(server, options);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                byte[] data = new byte[100_000];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (i * 31);
                }
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        c.outputStream().write(data);                      // byte[] through the stream
                        c.write(ByteBuffer.wrap(data, 0, 1000));           // heap ByteBuffer
                        c.write(MemorySegment.ofArray(new byte[] {1, 2, 3})); // heap segment
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                byte[] back = s.inputStream().readNBytes(data.length);
                assertArrayEquals(data, back);
                ByteBuffer bb = ByteBuffer.allocate(1000);
                while (bb.hasRemaining()) {
                    assertTrue(s.read(bb) > 0);
                }
                assertArrayEquals(Arrays.copyOf(data, 1000), bb.array());
                byte[] three = new byte[3];
                MemorySegment dst = MemorySegment.ofArray(three);
                int got = 0;
                while (got < 3) {
                    got += s.read(dst.asSlice(got));
                }
                assertArrayEquals(new byte[] {1, 2, 3}, three);
                writer.get(10, SECONDS);
            }
        }
    }

    @Test
    void badNamesAreRejectedBeforeAnySyscall() {
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> PipeName.of("x".repeat(300)));
        assertTrue(tooLong.getMessage().contains("limit"), tooLong.getMessage());
        assertTrue(tooLong.getMessage().contains(String.valueOf(PipeName.MAX_SOCKET_PATH_BYTES))
                || tooLong.getMessage().contains(String.valueOf(PipeName.MAX_WINDOWS_PATH)), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PipeName.of(""));
        assertThrows(IllegalArgumentException.class, () -> PipeName.of("a/b"));
        assertThrows(IllegalArgumentException.class, () -> PipeName.of("a\\b"));
        assertThrows(IllegalArgumentException.class, () -> PipeName.of("nul\0byte"));
        assertThrows(IllegalArgumentException.class, () -> PipeName.of(".."));
        assertThrows(IllegalArgumentException.class, () -> PipeName.ofSocketPath(java.nio.file.Path.of("/tmp/" + "y".repeat(120))));
        assertThrows(IllegalArgumentException.class, () -> PipeName.ofWindowsPath("C:\\not\\a\\pipe"));
        assertThrows(IllegalArgumentException.class, () -> PipeName.ofWindowsPath("\\\\.\\pipe\\" + "z".repeat(260)));
        assertEquals("\\\\.\\pipe\\docker_engine", PipeName.ofWindowsPath("\\\\.\\pipe\\docker_engine").osPath());
    }

    @Test
    void badSizesAndTimeoutsAreRejected() throws Exception {
        PipeOptions d = PipeOptions.defaults();
        assertThrows(IllegalArgumentException.class, () -> d.withBufferSizes(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> d.withBufferSizes(0, Integer.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> d.withHeapBufferSize(0));
        assertThrows(IllegalArgumentException.class, () -> d.withAcceptBacklog(0));
        assertThrows(IllegalArgumentException.class, () -> d.withMaxInstances(256));
        assertThrows(IllegalArgumentException.class, () -> d.withPosixPermissions("rwxrwxrwxx"));
        assertThrows(IllegalArgumentException.class, () -> d.withSddl(" "));
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("badtimeout"));
             Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> server.accept(Duration.ofSeconds(-1)));
            assertThrows(IllegalArgumentException.class, () -> server.accept(Duration.ofDays(365L * 1000)));
            assertThrows(IllegalArgumentException.class,
                    () -> PipeClient.connect(server.name(), Duration.ofMillis(-5)));
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                assertThrows(IllegalArgumentException.class, () -> s.read(arena.allocate(8), Duration.ofNanos(-1)));
                // the pipe is untouched by the rejected call
                c.write(arena.allocate(8).fill((byte) 7));
                assertEquals(8, readFully(s, arena.allocate(8)));
            }
        }
    }

    @Test
    void secondServerOnALiveNameIsRefusedAndTheFirstKeepsWorking() throws Exception {
        PipeName name = TestPipes.freshName("inuse");
        try (PipeServer first = PipeServer.bind(name)) {
            PipeException e = assertThrows(PipeException.class, () -> PipeServer.bind(name));
            assertTrue(e.getMessage().contains("EADDRINUSE") || e.getMessage().contains("ERROR_ACCESS_DENIED")
                    || e.getMessage().contains("ERROR_PIPE_BUSY"), e.getMessage());
            assertTrue(e.getMessage().toLowerCase().contains("in use") || e.getMessage().contains("another server"),
                    e.getMessage());
            Pipe[] p = connectedPair(first, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                c.outputStream().write(42);
                assertEquals(42, s.inputStream().read());
            }
        }
    }

    @Test
    @DisabledOnOs(OS.WINDOWS) // socket files are a Unix matter
    void staleSocketFileOfADeadServerIsReclaimed() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(TestPipes.onWindowsModel(), "socket files are a Unix matter");
        PipeName name = TestPipes.freshName("stale");
        // First make sure the private directory exists, then leave a socket file nobody listens on.
        try (PipeServer s = PipeServer.bind(TestPipes.freshName("mkdir"))) {
            assertTrue(s.isOpen());
        }
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(name.socketPath()));
        dead.close(); // the JDK leaves the file behind, like a killed server
        assertTrue(Files.exists(name.socketPath()));
        try (PipeServer server = PipeServer.bind(name)) {
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                c.outputStream().write(1);
                assertEquals(1, s.inputStream().read());
            }
        }
        assertFalse(Files.exists(name.socketPath()), "server close removes its socket file");
    }

    @Test
    void connectToNobodyFailsFastNamingThePath() {
        PipeName name = TestPipes.freshName("nobody");
        long t0 = System.nanoTime();
        PipeException e = assertThrows(PipeException.class, () -> PipeClient.connect(name));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "should fail fast");
        assertTrue(e.getMessage().contains(TestPipes.osPath(name)), e.getMessage());
        assertTrue(e.symbolicName().equals("ENOENT") || e.symbolicName().equals("ECONNREFUSED")
                || e.symbolicName().equals("ERROR_FILE_NOT_FOUND"), e.getMessage());
    }

    @Test
    void connectWithTimeoutWaitsForTheServerOrTheDeadline() throws Exception {
        PipeName name = TestPipes.freshName("later");
        long t0 = System.nanoTime();
        PipeTimeoutException timeout = assertThrows(PipeTimeoutException.class,
                () -> PipeClient.connect(name, Duration.ofMillis(300)));
        long waited = System.nanoTime() - t0;
        assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(280), "waited only " + waited);
        assertInstanceOf(InterruptedIOException.class, timeout);

        CompletableFuture<PipeServer> late = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(300);
                return PipeServer.bind(name);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (Pipe c = PipeClient.connect(name, Duration.ofSeconds(10));
             PipeServer server = late.get(10, SECONDS);
             Pipe s = server.accept(Duration.ofSeconds(10))) {
            c.outputStream().write(9);
            assertEquals(9, s.inputStream().read());
        }
    }

    @Test
    void readTimeoutLeavesThePipeUsable() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("rto"));
             Arena arena = Arena.ofConfined()) {
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                MemorySegment buf = arena.allocate(16);
                long t0 = System.nanoTime();
                PipeTimeoutException e = assertThrows(PipeTimeoutException.class,
                        () -> s.read(buf, Duration.ofMillis(200)));
                assertInstanceOf(InterruptedIOException.class, e);
                assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(190));
                assertTrue(s.isOpen());
                c.write(arena.allocate(16).fill((byte) 5));
                assertEquals(16, readFully(s, buf));
                assertEquals(5, buf.get(ValueLayout.JAVA_BYTE, 15));
                assertThrows(PipeTimeoutException.class, () -> s.read(buf, Duration.ZERO));
            }
        }
    }

    @Test
    void writeTimeoutReportsWhatWentOutAndLeavesThePipeUsable() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("wto"));
             Arena arena = Arena.ofShared()) {
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                MemorySegment big = arena.allocate(64 << 20); // more than any socket buffer holds
                PipeTimeoutException e = assertThrows(PipeTimeoutException.class,
                        () -> c.write(big, Duration.ofMillis(300)));
                long written = e.bytesTransferred;
                if (TestPipes.engine().startsWith("iocp")) {
                    // Windows: the count covers the WriteFile pieces that completed; the cancelled
                    // one's bytes are unknown, so the write side is unusable and reads go on
                    // (see Pipe.write(MemorySegment, Duration)).
                    assertTrue(written >= 0 && written < big.byteSize(), "wrote " + written);
                    assertThrows(IOException.class, () -> c.write(MemorySegment.ofArray(new byte[] {1}), Duration.ofSeconds(10)));
                    MemorySegment buf = arena.allocate(1 << 16);
                    long got = 0;
                    while (got < written) {
                        got += s.read(buf, Duration.ofSeconds(10));
                    }
                    c.close();
                    while (s.read(buf, Duration.ofSeconds(10)) >= 0) {
                        // what else of the cancelled piece reached us, then end of stream
                    }
                    return;
                }
                assertTrue(written > 0 && written < big.byteSize(), "wrote " + written);
                // the reader gets exactly what went out, then what is written next
                CompletableFuture<Long> drained = CompletableFuture.supplyAsync(() -> {
                    try {
                        MemorySegment buf = Arena.ofAuto().allocate(1 << 16);
                        long total = 0;
                        while (total < written + 3) {
                            total += s.read(buf);
                        }
                        return total;
                    } catch (IOException ex) {
                        throw new RuntimeException(ex);
                    }
                });
                c.write(MemorySegment.ofArray(new byte[] {1, 2, 3}), Duration.ofSeconds(10));
                assertEquals(written + 3, drained.get(30, SECONDS));
            }
        }
    }

    @Test
    void bytesThatRaceATimeoutAreDeliveredNotLost() throws Exception {
        int total = 100_000;
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("race"));
             Arena arena = Arena.ofShared()) {
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try (Arena wa = Arena.ofConfined()) {
                        MemorySegment chunk = wa.allocate(7);
                        int next = 0;
                        while (next < total) {
                            int n = Math.min(7, total - next);
                            for (int i = 0; i < n; i++) {
                                chunk.set(ValueLayout.JAVA_BYTE, i, (byte) (next + i));
                            }
                            c.write(chunk.asSlice(0, n));
                            next += n;
                            // pauses of 0-100 µs, so that reads with 1-50 µs timeouts both find data
                            // and expire while it is arriving
                            java.util.concurrent.locks.LockSupport.parkNanos((next * 7919L) % 100_000);
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                MemorySegment buf = arena.allocate(5);
                int expected = 0;
                int timeouts = 0;
                while (expected < total) {
                    int n;
                    try {
                        n = s.read(buf, Duration.ofNanos(1_000 + (expected % 50_000)));
                    } catch (PipeTimeoutException t) {
                        timeouts++;
                        continue;
                    }
                    assertTrue(n > 0);
                    for (int i = 0; i < n; i++) {
                        assertEquals((byte) (expected + i), buf.get(ValueLayout.JAVA_BYTE, i),
                                "byte " + (expected + i) + " after " + timeouts + " timeouts");
                    }
                    expected += n;
                }
                writer.get(30, SECONDS);
                assertEquals(total, expected);
                assertTrue(timeouts > 0, "the test must actually race timeouts against data");
            }
        }
    }

    @Test
    void closeFromAnotherThreadWakesABlockedReadAndAccept() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            try (PipeServer server = PipeServer.bind(TestPipes.freshName("close"))) {
                Pipe[] p = connectedPair(server, PipeOptions.defaults());
                try (Pipe s = p[0]; Pipe c = p[1]; Arena arena = Arena.ofShared()) {
                    MemorySegment buf = arena.allocate(8);
                    AtomicReference<Throwable> readFailure = new AtomicReference<>();
                    AtomicReference<Throwable> acceptFailure = new AtomicReference<>();
                    Thread reader = start(virtual, () -> s.read(buf), readFailure);
                    Thread acceptor = start(virtual, server::accept, acceptFailure);
                    awaitBlocked(reader);
                    awaitBlocked(acceptor);
                    long t0 = System.nanoTime();
                    s.close();
                    server.close();
                    assertTrue(reader.join(Duration.ofSeconds(5)) && acceptor.join(Duration.ofSeconds(5)));
                    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "prompt");
                    assertInstanceOf(AsynchronousCloseException.class, readFailure.get());
                    assertInstanceOf(AsynchronousCloseException.class, acceptFailure.get());
                    assertThrows(ClosedChannelException.class, () -> s.read(buf));
                    assertThrows(ClosedChannelException.class, server::accept);
                    assertTrue(c.isOpen());
                }
            }
        }
    }

    @Test
    void interruptingABlockedReadOrAcceptClosesLikeTheJdk() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            try (PipeServer server = PipeServer.bind(TestPipes.freshName("intr"))) {
                Pipe[] p = connectedPair(server, PipeOptions.defaults());
                try (Pipe s = p[0]; Pipe c = p[1]; Arena arena = Arena.ofShared()) {
                    MemorySegment buf = arena.allocate(8);
                    AtomicReference<Throwable> readFailure = new AtomicReference<>();
                    AtomicReference<Throwable> acceptFailure = new AtomicReference<>();
                    AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
                    Thread reader = start(virtual, () -> {
                        try {
                            return s.read(buf);
                        } finally {
                            stillInterrupted.set(Thread.currentThread().isInterrupted());
                        }
                    }, readFailure);
                    Thread acceptor = start(virtual, server::accept, acceptFailure);
                    awaitBlocked(reader);
                    awaitBlocked(acceptor);
                    long t0 = System.nanoTime();
                    reader.interrupt();
                    acceptor.interrupt();
                    assertTrue(reader.join(Duration.ofSeconds(5)) && acceptor.join(Duration.ofSeconds(5)));
                    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "prompt");
                    assertInstanceOf(ClosedByInterruptException.class, readFailure.get());
                    assertInstanceOf(ClosedByInterruptException.class, acceptFailure.get());
                    assertTrue(stillInterrupted.get(), "interrupt status is kept");
                    assertFalse(s.isOpen(), "an interrupted read closes the pipe");
                    assertFalse(server.isOpen(), "an interrupted accept closes the server");
                    assertEquals(-1, readFully(c, arena.allocate(1)), "the peer sees end of stream");
                }
            }
        }
    }

    /**
     * The tests above time their first accept ({@link #connectedPair}); a server whose accepts were
     * all untimed (the nio engine then waits in the JDK's own accept) must wake on close and on
     * interrupt just the same, serve clients before and after, and take timed accepts later.
     */
    @Test
    void untimedAcceptsFromTheStartServeWakeOnCloseAndOnInterrupt() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            for (boolean byClose : new boolean[] {true, false}) {
                try (PipeServer server = PipeServer.bind(TestPipes.freshName("untimed"));
                     Arena arena = Arena.ofShared()) {
                    CompletableFuture<Pipe> first = acceptAsync(server::accept); // untimed
                    try (Pipe c = PipeClient.connect(server.name(), PipeOptions.defaults(), Duration.ofSeconds(10));
                         Pipe s = first.get(20, SECONDS)) {
                        c.write(arena.allocate(1));
                        assertEquals(1, readFully(s, arena.allocate(1)));
                    }
                    AtomicReference<Throwable> failure = new AtomicReference<>();
                    Thread acceptor = start(virtual, server::accept, failure);
                    awaitBlocked(acceptor);
                    long t0 = System.nanoTime();
                    if (byClose) {
                        server.close();
                    } else {
                        acceptor.interrupt();
                    }
                    assertTrue(acceptor.join(Duration.ofSeconds(5)), "woke");
                    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "prompt");
                    Class<? extends Throwable> expected = byClose ? AsynchronousCloseException.class
                            : ClosedByInterruptException.class;
                    assertTrue(expected.isInstance(failure.get()), String.valueOf(failure.get()));
                    assertFalse(server.isOpen());
                    assertThrows(ClosedChannelException.class, server::accept);
                    assertThrows(IOException.class, () -> PipeClient.connect(server.name(), PipeOptions.defaults()),
                            "the name is gone with the server");
                }
            }
        }
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("mixed"))) {
            assertThrows(PipeTimeoutException.class, () -> server.accept(Duration.ofMillis(50)));
            for (int i = 0; i < 2; i++) {
                CompletableFuture<Pipe> accepted = acceptAsync(server::accept); // untimed
                try (Pipe c = PipeClient.connect(server.name(), PipeOptions.defaults(), Duration.ofSeconds(10));
                     Pipe s = accepted.get(20, SECONDS)) {
                    assertTrue(s.isOpen() && c.isOpen(), "an untimed accept after a timed one serves");
                }
            }
        }
    }

    @Test
    void peerCloseMeansEndOfStreamAndWritesFail() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("eof"));
             Arena arena = Arena.ofConfined()) {
            Pipe[] p = connectedPair(server, PipeOptions.defaults());
            try (Pipe s = p[0]) {
                p[1].close();
                assertEquals(-1, s.read(arena.allocate(8)));
                MemorySegment big = arena.allocate(1 << 16);
                IOException e = assertThrows(IOException.class, () -> {
                    for (int i = 0; i < 100; i++) {
                        s.write(big);
                    }
                });
                assertFalse(e instanceof ClosedChannelException, "the pipe itself is still open: " + e);
            }
        }
    }

    @Test
    void messageModeKeepsBoundariesOrIsRefusedByTheByteOnlyEngine() throws Exception {
        PipeOptions options = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        if (TestPipes.engine().equals("nio")) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> PipeServer.bind(TestPipes.freshName("msg"), options));
            assertTrue(e.getMessage().contains("SEQPACKET"), e.getMessage());
            return;
        }
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("msg"), options);
             Arena arena = Arena.ofConfined()) {
            Pipe[] p = connectedPair(server, options);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                // Written by another thread: a message larger than the pipe's buffer may wait for
                // the reader (Windows pipes with small quotas do)
                CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                    try {
                        c.write(MemorySegment.ofArray("first".getBytes(StandardCharsets.UTF_8)));
                        c.write(MemorySegment.ofArray("second!".getBytes(StandardCharsets.UTF_8)));
                        byte[] big = new byte[10_000];
                        Arrays.fill(big, (byte) 'x');
                        c.write(MemorySegment.ofArray(big));
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                MemorySegment buf = arena.allocate(4096);
                assertEquals(5, s.read(buf));
                assertTrue(s.isMessageComplete());
                assertEquals(7, s.read(buf));
                assertTrue(s.isMessageComplete());
                int got = 0;
                int parts = 0;
                do {
                    got += s.read(buf);
                    parts++;
                } while (!s.isMessageComplete());
                assertEquals(10_000, got);
                assertEquals(3, parts, "4096 + 4096 + 1808");
                written.get(10, SECONDS);
            }
        }
    }

    @Test
    void manyIdleReadersDoNotStarveAnActiveOne() throws Exception {
        int carriers = Runtime.getRuntime().availableProcessors();
        int idle = Math.max(16, carriers * 4);
        PipeName name = TestPipes.freshName("idle");
        try (PipeServer server = PipeServer.bind(name, PipeOptions.defaults().withAcceptBacklog(64));
             Arena arena = Arena.ofShared()) {
            Pipe[] pairs = new Pipe[2 * (idle + 1)];
            for (int i = 0; i <= idle; i++) {
                Pipe[] p = connectedPair(server, PipeOptions.defaults());
                pairs[2 * i] = p[0];
                pairs[2 * i + 1] = p[1];
            }
            CountDownLatch idleDone = new CountDownLatch(idle);
            for (int i = 0; i < idle; i++) {
                Pipe s = pairs[2 * i];
                Thread.ofVirtual().start(() -> {
                    try {
                        s.read(arena.allocate(8));
                    } catch (IOException expected) {
                        // closed at the end of the test
                    } finally {
                        idleDone.countDown();
                    }
                });
            }
            Thread.sleep(300); // let them all block
            // an unrelated virtual thread still runs
            assertTrue(Thread.ofVirtual().start(() -> { }).join(Duration.ofSeconds(2)));
            // idle CPU stays near zero
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            Thread.sleep(1000);
            long idleCpu = os.getProcessCpuTime() - cpu0;
            assertTrue(idleCpu < TimeUnit.MILLISECONDS.toNanos(300), "idle readers used " + idleCpu / 1_000_000 + " ms CPU in 1 s");
            // the active reader wakes at once
            Pipe active = pairs[2 * idle];
            Pipe activePeer = pairs[2 * idle + 1];
            CompletableFuture<Long> woke = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    active.read(arena.allocate(8));
                    woke.complete(System.nanoTime());
                } catch (Throwable t) {
                    woke.completeExceptionally(t);
                }
            });
            Thread.sleep(100);
            long sent = System.nanoTime();
            activePeer.outputStream().write(1);
            long latency = woke.get(5, SECONDS) - sent;
            assertTrue(latency < TimeUnit.MILLISECONDS.toNanos(500), "active reader woke after " + latency / 1000 + " µs");
            for (Pipe pipe : pairs) {
                pipe.close();
            }
            assertTrue(idleDone.await(10, SECONDS));
        }
    }

    @Test
    void aThousandVirtualThreadClientsTalkToOneServer() throws Exception {
        int clients = 1000;
        int rounds = 5;
        PipeName name = TestPipes.freshName("thousand");
        try (PipeServer server = PipeServer.bind(name, PipeOptions.defaults().withAcceptBacklog(128))) {
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        Pipe pipe = server.accept();
                        Thread.ofVirtual().start(() -> echo(pipe));
                    }
                } catch (IOException closed) {
                    // server closed at the end
                }
            });
            try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                var results = new java.util.ArrayList<java.util.concurrent.Future<Integer>>();
                for (int i = 0; i < clients; i++) {
                    int id = i;
                    results.add(executor.submit(() -> {
                        try (Pipe c = PipeClient.connect(name, Duration.ofSeconds(30))) {
                            byte[] msg = ("client " + id + " says hello").getBytes(StandardCharsets.UTF_8);
                            OutputStream out = c.outputStream();
                            InputStream in = c.inputStream();
                            for (int r = 0; r < rounds; r++) {
                                out.write(msg);
                                assertArrayEquals(msg, in.readNBytes(msg.length));
                            }
                            return id;
                        }
                    }));
                }
                int ok = 0;
                for (var f : results) {
                    try {
                        f.get(60, SECONDS);
                        ok++;
                    } catch (ExecutionException e) {
                        throw new AssertionError("a client failed", e.getCause());
                    }
                }
                assertEquals(clients, ok);
            }
            server.close();
            assertTrue(acceptor.join(Duration.ofSeconds(5)));
        }
    }

    @Test
    void nothingLeaksAfterManyConnections() throws Exception {
        PipeName name = TestPipes.freshName("leak");
        connectionCycle(name); // warm-up: whatever the JDK or the engine opens once, it opens here
        int before = TestPipes.awaitFds(Integer.MAX_VALUE);
        for (int round = 0; round < 3; round++) {
            connectionCycle(name);
        }
        int after = TestPipes.awaitFds(before);
        assertTrue(after <= before, "fds before " + before + ", after 150 more connections " + after);
    }

    /** Binds, serves 50 connections that each exchange 100 bytes, closes everything. */
    private static void connectionCycle(PipeName name) throws Exception {
        try (PipeServer server = PipeServer.bind(name)) {
            for (int i = 0; i < 50; i++) {
                Pipe[] p = connectedPair(server, PipeOptions.defaults());
                p[1].outputStream().write(new byte[100]);
                p[0].inputStream().readNBytes(100);
                p[1].close();
                p[0].close();
            }
        }
    }

    private static void echo(Pipe pipe) {
        try (pipe; Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            for (int n; (n = pipe.read(buf)) >= 0; ) {
                pipe.write(buf.asSlice(0, n));
            }
        } catch (IOException ignored) {
            // client gone
        }
    }

    static int readFully(Pipe pipe, MemorySegment buf) throws IOException {
        int got = 0;
        while (got < buf.byteSize()) {
            int n = pipe.read(buf.asSlice(got));
            if (n < 0) {
                return got == 0 ? -1 : got;
            }
            got += n;
        }
        return got;
    }

    interface Blocking {
        Object run() throws Exception;
    }

    private static Thread start(boolean virtual, Blocking body, AtomicReference<Throwable> failure) {
        Runnable r = () -> {
            try {
                body.run();
                failure.set(new AssertionError("returned normally"));
            } catch (Throwable t) {
                failure.set(t);
            }
        };
        return virtual ? Thread.ofVirtual().start(r) : Thread.ofPlatform().start(r);
    }

    /**
     * A platform thread blocked in native code shows RUNNABLE: in a JDK channel's native read or
     * accept (nio engine), or in poll(2) in the epoll engine's platform wait.
     */
    private static boolean inNativeWait(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        if (t.getState() != Thread.State.RUNNABLE) {
            return false;
        }
        if (stack.length > 0 && stack[0].isNativeMethod() && stack[0].getClassName().startsWith("sun.nio.ch.")) {
            return true;
        }
        for (StackTraceElement e : stack) {
            if (e.getMethodName().equals("pollPlatform")) {
                return true;
            }
        }
        return false;
    }

    private static void awaitBlocked(Thread t) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            Thread.State st = t.getState();
            if (st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING || inNativeWait(t)) {
                Thread.sleep(50); // and give it time to have submitted its operation
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError(t + " never blocked: " + t.getState());
    }
}
