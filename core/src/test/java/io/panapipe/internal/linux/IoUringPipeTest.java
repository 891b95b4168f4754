package io.panapipe.internal.linux;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.Engines;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The io_uring engine through the public API (selected with {@code -Dpanapipe.engine=io_uring}). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IoUringPipeTest {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @BeforeAll
    static void requireIoUring() {
        assumeTrue(IoUringEngine.unavailableReason() == null, () -> "io_uring unavailable: " + IoUringEngine.unavailableReason());
        String forced = System.getProperty(Engines.PROPERTY, "auto");
        assumeTrue(forced.startsWith("io"), "runs in the surefire execution that forces io_uring (the Linux default is epoll)");
    }

    static PipeName freshName(String what) {
        return PipeName.of("u-" + ProcessHandle.current().pid() + "-" + what + "-" + COUNTER.incrementAndGet());
    }

    static Pipe[] pair(PipeServer server, PipeOptions options) throws Exception {
        CompletableFuture<Pipe> accepted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                accepted.complete(server.accept(Duration.ofSeconds(20)));
            } catch (Throwable t) {
                accepted.completeExceptionally(t);
            }
        });
        Pipe client = PipeClient.connect(server.name(), options, Duration.ofSeconds(10));
        return new Pipe[] {accepted.get(20, TimeUnit.SECONDS), client};
    }

    @Test
    void theForcedEngineIsIoUring() {
        assertEquals("io_uring", Engines.get().name());
        assertInstanceOf(IoUringEngine.class, Engines.choose("io_uring"));
    }

    @Test
    void byteRoundTrip() throws Exception {
        try (PipeServer server = PipeServer.bind(freshName("byte")); Arena arena = Arena.ofConfined()) {
            Pipe[] p = pair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                MemorySegment out = arena.allocate(64);
                for (int i = 0; i < 64; i++) {
                    out.set(ValueLayout.JAVA_BYTE, i, (byte) i);
                }
                MemorySegment in = arena.allocate(64);
                for (int round = 0; round < 1000; round++) {
                    c.write(out);
                    int got = 0;
                    while (got < 64) {
                        got += s.read(in.asSlice(got));
                    }
                    assertEquals(-1, in.mismatch(out));
                    s.write(in);
                    got = 0;
                    while (got < 64) {
                        got += c.read(in.asSlice(got));
                    }
                    assertEquals(-1, in.mismatch(out));
                }
                byte[] heap = "hello over io_uring".getBytes();
                c.outputStream().write(heap);
                assertEquals("hello over io_uring", new String(s.inputStream().readNBytes(heap.length)));
                c.close();
                assertEquals(-1, s.read(in));
            }
        }
    }

    @Test
    void messageRoundTripKeepsBoundariesAndEmptyMessages() throws Exception {
        PipeOptions msg = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        try (PipeServer server = PipeServer.bind(freshName("msg"), msg); Arena arena = Arena.ofConfined()) {
            Pipe[] p = pair(server, msg);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                c.write(MemorySegment.ofArray("one".getBytes()));
                c.write(MemorySegment.ofArray(new byte[0]));
                c.write(MemorySegment.ofArray("three".getBytes()));
                MemorySegment buf = arena.allocate(100);
                assertEquals(3, s.read(buf));
                assertTrue(s.isMessageComplete());
                assertEquals("one", new String(buf.asSlice(0, 3).toArray(ValueLayout.JAVA_BYTE)));
                assertEquals(0, s.read(buf)); // the empty message
                assertTrue(s.isMessageComplete());
                assertEquals(5, s.read(buf));
                assertEquals("three", new String(buf.asSlice(0, 5).toArray(ValueLayout.JAVA_BYTE)));
                // waiting path: the read parks first, then the message comes
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(50);
                        c.write(MemorySegment.ofArray("late".getBytes()));
                        c.write(MemorySegment.ofArray(new byte[0]));
                        c.close(); // an empty message just before close is still delivered, then EOF
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(4, s.read(buf));
                assertEquals(0, s.read(buf));
                assertEquals(-1, s.read(buf));
                assertEquals(-1, s.read(buf));
            }
        }
    }

    @Test
    void largeMessageIsReassembledOverSeveralReads() throws Exception {
        PipeOptions msg = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        try (PipeServer server = PipeServer.bind(freshName("big"), msg); Arena arena = Arena.ofConfined()) {
            Pipe[] p = pair(server, msg);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                int size = 10_000;
                MemorySegment big = arena.allocate(size);
                for (int i = 0; i < size; i++) {
                    big.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
                }
                c.write(big);
                c.write(MemorySegment.ofArray("next".getBytes()));
                MemorySegment buf = arena.allocate(1024);
                MemorySegment got = arena.allocate(size);
                int total = 0;
                int reads = 0;
                for (;;) {
                    int n = s.read(buf);
                    MemorySegment.copy(buf, 0, got, total, n);
                    total += n;
                    reads++;
                    if (s.isMessageComplete()) {
                        break;
                    }
                    assertEquals(1024, n);
                }
                assertEquals(size, total);
                assertEquals(10, reads);
                assertEquals(-1, got.mismatch(big));
                assertEquals(4, s.read(buf));
                assertTrue(s.isMessageComplete());
                // the same through a heap array (staged)
                c.write(big);
                byte[] small = new byte[3000];
                int n = s.inputStream().read(small);
                assertEquals(3000, n);
                assertFalse(s.isMessageComplete());
            }
        }
    }

    @Test
    void largeMessageArrivingWhileTheReaderWaitsIsReassembled() throws Exception {
        PipeOptions msg = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        try (PipeServer server = PipeServer.bind(freshName("bigwait"), msg); Arena arena = Arena.ofConfined()) {
            Pipe[] p = pair(server, msg);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                byte[] message = new byte[300];
                for (int i = 0; i < message.length; i++) {
                    message[i] = (byte) (i + 1);
                }
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(50); // the reader is parked in an IORING_OP_RECV peek by then
                        c.write(MemorySegment.ofArray(message));
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                MemorySegment buf = arena.allocate(128);
                byte[] got = new byte[300];
                assertEquals(128, s.read(buf));
                assertFalse(s.isMessageComplete());
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, got, 0, 128);
                assertEquals(128, s.read(buf));
                assertFalse(s.isMessageComplete());
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, got, 128, 128);
                assertEquals(44, s.read(buf));
                assertTrue(s.isMessageComplete());
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, got, 256, 44);
                org.junit.jupiter.api.Assertions.assertArrayEquals(message, got);
            }
        }
    }

    @Test
    void timeoutsNeverLoseOrDuplicateBytes() throws Exception {
        try (PipeServer server = PipeServer.bind(freshName("race")); Arena arena = Arena.ofConfined()) {
            Pipe[] p = pair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                int count = 200_000;
                Thread writer = Thread.ofPlatform().start(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment b = a.allocate(1);
                        for (int i = 0; i < count; i++) {
                            b.set(ValueLayout.JAVA_BYTE, 0, (byte) i);
                            c.write(b);
                            if ((i & 63) == 0) {
                                Thread.onSpinWait();
                            }
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                MemorySegment buf = arena.allocate(7);
                int expected = 0;
                int timeouts = 0;
                int iterations = 0;
                while (expected < count) {
                    iterations++;
                    int n;
                    try {
                        n = s.read(buf, Duration.ofNanos((iterations % 50) * 1_000));
                    } catch (PipeTimeoutException t) {
                        timeouts++;
                        continue;
                    }
                    assertTrue(n > 0);
                    for (int i = 0; i < n; i++) {
                        assertEquals((byte) expected, buf.get(ValueLayout.JAVA_BYTE, i), "byte " + expected);
                        expected++;
                    }
                }
                writer.join();
                System.out.println("cancel race: " + iterations + " reads, " + timeouts + " timeouts");
                assertTrue(iterations > 1000);
                assertThrows(PipeTimeoutException.class, () -> s.read(buf, Duration.ofMillis(5)));
            }
        }
    }

    @Test
    void messageTimeoutsNeverLoseMessages() throws Exception {
        PipeOptions msg = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        try (PipeServer server = PipeServer.bind(freshName("mrace"), msg); Arena arena = Arena.ofConfined()) {
            Pipe[] p = pair(server, msg);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                int count = 20_000;
                Thread writer = Thread.ofPlatform().start(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment b = a.allocate(4);
                        for (int i = 0; i < count; i++) {
                            b.set(ValueLayout.JAVA_INT_UNALIGNED, 0, i);
                            c.write(b);
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                MemorySegment buf = arena.allocate(16);
                int expected = 0;
                int i = 0;
                while (expected < count) {
                    i++;
                    try {
                        assertEquals(4, s.read(buf, Duration.ofNanos((i % 20) * 1_000)));
                    } catch (PipeTimeoutException t) {
                        continue;
                    }
                    assertEquals(expected++, buf.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
                }
                writer.join();
            }
        }
    }

    @Test
    void peerProcessIdIsOurs() throws Exception {
        try (PipeServer server = PipeServer.bind(freshName("pid"))) {
            Pipe[] p = pair(server, PipeOptions.defaults().withVerifyServerUser(true));
            try (Pipe s = p[0]; Pipe c = p[1]) {
                assertEquals(ProcessHandle.current().pid(), s.peerProcessId());
                assertEquals(ProcessHandle.current().pid(), c.peerProcessId());
            }
        }
    }

    @Test
    void closeWakesABlockedReaderOnPlatformAndVirtualThreads() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            try (PipeServer server = PipeServer.bind(freshName("close"))) {
                Pipe[] p = pair(server, PipeOptions.defaults());
                try (Pipe s = p[0]; Pipe c = p[1]) {
                    AtomicReference<Throwable> thrown = new AtomicReference<>();
                    CountDownLatch started = new CountDownLatch(1);
                    Runnable reader = () -> {
                        try (Arena a = Arena.ofConfined()) {
                            started.countDown();
                            s.read(a.allocate(16));
                        } catch (Throwable t) {
                            thrown.set(t);
                        }
                    };
                    Thread t = virtual ? Thread.ofVirtual().start(reader) : Thread.ofPlatform().start(reader);
                    started.await();
                    Thread.sleep(100);
                    s.close();
                    t.join(5000);
                    assertFalse(t.isAlive());
                    assertInstanceOf(AsynchronousCloseException.class, thrown.get());
                    assertFalse(s.isOpen());
                }
            }
        }
    }

    @Test
    void interruptClosesWithClosedByInterrupt() throws Exception {
        try (PipeServer server = PipeServer.bind(freshName("intr"))) {
            Pipe[] p = pair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                AtomicReference<Throwable> thrown = new AtomicReference<>();
                Thread t = Thread.ofVirtual().start(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        s.read(a.allocate(16));
                    } catch (Throwable x) {
                        thrown.set(x);
                    }
                });
                Thread.sleep(100);
                t.interrupt();
                t.join(5000);
                assertInstanceOf(ClosedByInterruptException.class, thrown.get());
                assertFalse(s.isOpen());
            }
        }
    }

    @Test
    void closeWakesAPendingAccept() throws Exception {
        PipeServer server = PipeServer.bind(freshName("accept"));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                server.accept();
            } catch (Throwable x) {
                thrown.set(x);
            }
        });
        Thread.sleep(100);
        server.close();
        t.join(5000);
        assertInstanceOf(AsynchronousCloseException.class, thrown.get());
        assertFalse(java.nio.file.Files.exists(server.name().socketPath()));
        assertThrows(PipeTimeoutException.class, () -> {
            try (PipeServer s2 = PipeServer.bind(freshName("accept-timeout"))) {
                s2.accept(Duration.ofMillis(20));
            }
        });
    }

    @Test
    void writeToAClosedPeerFailsWithEpipeAndAbsentServerWithEnoent() throws Exception {
        try (PipeServer server = PipeServer.bind(freshName("epipe"))) {
            Pipe[] p = pair(server, PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                s.close();
                MemorySegment b = MemorySegment.ofArray(new byte[4096]);
                PipeException e = assertThrows(PipeException.class, () -> {
                    for (int i = 0; i < 1000; i++) {
                        c.write(b);
                    }
                });
                assertEquals("EPIPE", e.symbolicName());
            }
        }
        PipeException absent = assertThrows(PipeException.class, () -> PipeClient.connect(freshName("nobody")));
        assertEquals("ENOENT", absent.symbolicName());
        assertTrue(absent.getMessage().contains("ENOENT (2)"), absent.getMessage());
    }

    @Test
    void operationSlotsAndFdsAreReleased() throws Exception {
        IoUringEngine engine = IoUringEngine.instance();
        // warm up
        try (PipeServer server = PipeServer.bind(freshName("warm"))) {
            Pipe[] p = pair(server, PipeOptions.defaults());
            p[0].close();
            p[1].close();
        }
        int slots = engine.table.inUse();
        int fds = RingTest.openFds();
        for (int i = 0; i < 20; i++) {
            try (PipeServer server = PipeServer.bind(freshName("leak"))) {
                Pipe[] p = pair(server, PipeOptions.defaults().withMode(PipeMode.BYTE));
                try (Pipe s = p[0]; Pipe c = p[1]) {
                    assertThrows(PipeTimeoutException.class, () -> s.read(MemorySegment.ofArray(new byte[8]), Duration.ofMillis(1)));
                }
            }
        }
        assertEquals(slots, engine.table.inUse());
        assertEquals(fds, RingTest.openFds());
        assertNull(engine.poller.failure());
    }
}
