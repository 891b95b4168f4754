package io.panapipe.contract;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The caller's memory is the caller's, on every engine: a segment that cannot be used fails before
 * anything is sent or consumed, and an arena closed while a call waits is never read or written
 * afterwards (by the kernel or by us), with no byte of the stream lost or invented.
 */
class CallerMemoryTest {
    private static final Duration SHORT = Duration.ofMillis(300);

    private static Pipe[] connectedPair(PipeServer server) throws Exception {
        CompletableFuture<Pipe> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return server.accept(Duration.ofSeconds(20));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Pipe client = PipeClient.connect(server.name(), PipeOptions.defaults(), Duration.ofSeconds(10));
        return new Pipe[] {accepted.get(20, SECONDS), client};
    }

    private static byte pattern(long i) {
        return (byte) (i * 31 + 7);
    }

    private static MemorySegment patterned(Arena arena, int size) {
        MemorySegment s = arena.allocate(size);
        for (int i = 0; i < size; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, pattern(i));
        }
        return s;
    }

    /** Reads exactly {@code n} bytes and checks they are the pattern from {@code from} on. */
    private static void expectPattern(Pipe pipe, long from, int n) throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(n);
            int got = 0;
            while (got < n) {
                int r = pipe.read(buf.asSlice(got), Duration.ofSeconds(10));
                assertTrue(r > 0, "end of stream after " + got + " of " + n + " bytes");
                got += r;
            }
            for (int i = 0; i < n; i++) {
                assertEquals(pattern(from + i), buf.get(ValueLayout.JAVA_BYTE, i), "byte " + (from + i));
            }
        }
    }

    @Test
    void aSegmentOfAClosedArenaFailsBeforeAnythingIsSentOrConsumed() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("closed-arena"));
             Arena live = Arena.ofConfined()) {
            Pipe[] p = connectedPair(server);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                c.write(patterned(live, 16));
                Arena closed = Arena.ofShared();
                MemorySegment dead = closed.allocate(4096);
                closed.close();
                assertThrows(IllegalStateException.class, () -> s.read(dead));
                assertThrows(IllegalStateException.class, () -> s.read(dead, SHORT));
                assertThrows(IllegalStateException.class, () -> s.write(dead));
                assertTrue(s.isOpen(), "a refused segment does not close the pipe");
                expectPattern(s, 0, 16); // nothing was consumed
                assertThrows(PipeTimeoutException.class, () -> c.read(live.allocate(16), SHORT),
                        "nothing was sent from the closed arena");
            }
        }
    }

    @Test
    void aSegmentConfinedToAnotherThreadIsRefused() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("confined")); Arena live = Arena.ofConfined()) {
            Pipe[] p = connectedPair(server);
            try (Pipe s = p[0]; Pipe c = p[1]; Arena foreign = Arena.ofConfined()) {
                c.write(patterned(live, 16));
                MemorySegment mine = foreign.allocate(64);
                AtomicReference<Throwable> readFailure = new AtomicReference<>();
                AtomicReference<Throwable> writeFailure = new AtomicReference<>();
                Thread t = Thread.ofPlatform().start(() -> {
                    try {
                        s.read(mine);
                        readFailure.set(new AssertionError("read accepted another thread's segment"));
                    } catch (Throwable e) {
                        readFailure.set(e);
                    }
                    try {
                        s.write(mine);
                        writeFailure.set(new AssertionError("write accepted another thread's segment"));
                    } catch (Throwable e) {
                        writeFailure.set(e);
                    }
                });
                assertTrue(t.join(Duration.ofSeconds(10)));
                assertInstanceOf(WrongThreadException.class, readFailure.get());
                assertInstanceOf(WrongThreadException.class, writeFailure.get());
                expectPattern(s, 0, 16);
                assertThrows(PipeTimeoutException.class, () -> c.read(live.allocate(16), SHORT));
            }
        }
    }

    @Test
    void aSharedArenaClosedWhileAReadWaitsIsNeverWrittenAndNoByteIsLost() throws Exception {
        for (boolean virtual : new boolean[] {false, true}) {
            try (PipeServer server = PipeServer.bind(TestPipes.freshName("close-during-read"));
                 Arena live = Arena.ofConfined()) {
                Pipe[] p = connectedPair(server);
                try (Pipe s = p[0]; Pipe c = p[1]) {
                    Arena shared = Arena.ofShared();
                    MemorySegment target = shared.allocate(4096);
                    AtomicReference<Object> outcome = new AtomicReference<>();
                    Runnable read = () -> {
                        try {
                            outcome.set(s.read(target, Duration.ofSeconds(20)));
                        } catch (Throwable e) {
                            outcome.set(e);
                        }
                    };
                    Thread reader = virtual ? Thread.ofVirtual().start(read) : Thread.ofPlatform().start(read);
                    Thread.sleep(300); // the read is waiting for data now
                    boolean closed;
                    try {
                        shared.close();
                        closed = true;
                    } catch (IllegalStateException inUse) {
                        closed = false; // as the JDK's channels: the arena is in use by the pending read
                    }
                    c.write(patterned(live, 32));
                    assertTrue(reader.join(Duration.ofSeconds(20)), "the read ended");
                    if (closed) {
                        assertInstanceOf(IllegalStateException.class, outcome.get(),
                                "a read whose arena was closed must not complete into it");
                        expectPattern(s, 0, 32); // the bytes are still there for the next read
                    } else {
                        assertEquals(32, outcome.get());
                        for (int i = 0; i < 32; i++) {
                            assertEquals(pattern(i), target.get(ValueLayout.JAVA_BYTE, i));
                        }
                        shared.close();
                    }
                }
            }
        }
    }

    @Test
    void aSharedArenaClosedWhileAWriteWaitsSendsOnlyWhatTheCallerWrote() throws Exception {
        int size = 8 << 20;
        for (boolean virtual : new boolean[] {false, true}) {
            try (PipeServer server = PipeServer.bind(TestPipes.freshName("close-during-write"))) {
                Pipe[] p = connectedPair(server);
                try (Pipe s = p[0]; Pipe c = p[1]) {
                    Arena shared = Arena.ofShared();
                    MemorySegment source = patterned(shared, size);
                    AtomicReference<Object> outcome = new AtomicReference<>();
                    Runnable write = () -> {
                        try {
                            outcome.set(s.write(source, Duration.ofSeconds(30)));
                        } catch (Throwable e) {
                            outcome.set(e);
                        }
                    };
                    Thread writer = virtual ? Thread.ofVirtual().start(write) : Thread.ofPlatform().start(write);
                    Thread.sleep(300); // the socket buffers are full; the write waits
                    boolean closed;
                    try {
                        shared.close();
                        closed = true;
                    } catch (IllegalStateException inUse) {
                        closed = false;
                    }
                    long received = drainChecked(c, writer);
                    assertTrue(writer.join(Duration.ofSeconds(30)), "the write ended");
                    if (closed) {
                        assertInstanceOf(IllegalStateException.class, outcome.get(),
                                "a write whose arena was closed must not go on from it");
                        assertTrue(received < size, "received " + received);
                    } else {
                        assertEquals(size, outcome.get());
                        assertEquals(size, received);
                        shared.close();
                    }
                }
            }
        }
    }

    /** Reads until the writer is done and nothing more comes; every byte must be the pattern's. */
    private static long drainChecked(Pipe c, Thread writer) throws Exception {
        long received = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64 * 1024);
            long deadline = System.nanoTime() + SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                int n;
                try {
                    n = c.read(buf, Duration.ofMillis(500));
                } catch (PipeTimeoutException quiet) {
                    if (!writer.isAlive()) {
                        return received;
                    }
                    continue;
                }
                assertTrue(n > 0, "end of stream");
                for (int i = 0; i < n; i++) {
                    if (buf.get(ValueLayout.JAVA_BYTE, i) != pattern(received + i)) {
                        fail("byte " + (received + i) + " is not what the caller wrote (freed memory sent?)");
                    }
                }
                received += n;
            }
        }
        fail("the stream did not go quiet within 60 s");
        return received;
    }

    @Test
    void automaticArenaSegmentsStayValidUnderGcPressure() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("auto-arena"))) {
            Pipe[] p = connectedPair(server);
            AtomicBoolean stop = new AtomicBoolean();
            Thread gc = Thread.ofPlatform().daemon().start(() -> {
                while (!stop.get()) {
                    System.gc();
                    byte[][] garbage = new byte[64][];
                    for (int i = 0; i < garbage.length; i++) {
                        garbage[i] = new byte[16 * 1024];
                    }
                }
            });
            try (Pipe s = p[0]; Pipe c = p[1]) {
                long deadline = System.nanoTime() + SECONDS.toNanos(20);
                for (int round = 0; round < 300 && System.nanoTime() < deadline; round++) {
                    int size = 4096 + round;
                    CompletableFuture<Integer> sent = CompletableFuture.supplyAsync(() -> {
                        try {
                            return c.write(patterned(Arena.ofAuto(), size)); // unreachable once passed in
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    MemorySegment in = Arena.ofAuto().allocate(size);
                    int got = 0;
                    while (got < size) {
                        int n = s.read(in.asSlice(got), Duration.ofSeconds(10));
                        assertTrue(n > 0);
                        got += n;
                    }
                    assertEquals(size, sent.get(10, SECONDS));
                    for (int i = 0; i < size; i++) {
                        assertEquals(pattern(i), in.get(ValueLayout.JAVA_BYTE, i), "round " + round + " byte " + i);
                    }
                }
            } finally {
                stop.set(true);
                gc.join(Duration.ofSeconds(10));
            }
        }
    }
}
