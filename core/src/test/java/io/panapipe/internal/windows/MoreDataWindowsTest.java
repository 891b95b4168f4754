package io.panapipe.internal.windows;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.bindings.WindowsLibraries;
import io.panapipe.internal.Transport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Message-mode reads smaller than the message, many times over, whatever Windows does after a
 * synchronous {@code ERROR_MORE_DATA} (OverlappedIo rule 3): every read has a timeout, so a
 * packet that never comes fails the test instead of hanging it, and every byte and every
 * {@code isMessageComplete} is checked, so a stray packet completing the wrong read shows.
 */
@EnabledOnOs(OS.WINDOWS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MoreDataWindowsTest {
    private static final int MESSAGE = 10_000;
    private static final int PIECE = 1_024;
    private static final int MESSAGES = 300;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    private static final PipeOptions OPTIONS = PipeOptions.defaults().withMode(PipeMode.MESSAGE);

    @BeforeAll
    static void load() {
        WindowsLibraries.load();
    }

    private static PipeName unique(String what) {
        return PipeName.of("moredata-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    private static byte expected(int message, int offset) {
        return (byte) (message * 31 + offset * 7 + (offset >> 8));
    }

    private static MemorySegment message(Arena arena, int m) {
        MemorySegment s = arena.allocate(MESSAGE);
        for (int i = 0; i < MESSAGE; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, expected(m, i));
        }
        return s;
    }

    /** What a reader needs: a timed read and isMessageComplete. */
    private interface Reader {
        int read(MemorySegment dst, int length) throws IOException;

        boolean complete();
    }

    /** Reads {@link #MESSAGES} messages in {@link #PIECE}-byte pieces, checking bytes and message ends. */
    private static void readAll(Reader reader) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment piece = arena.allocate(PIECE);
            for (int m = 0; m < MESSAGES; m++) {
                int offset = 0;
                while (offset < MESSAGE) {
                    int n = reader.read(piece, PIECE);
                    int want = Math.min(PIECE, MESSAGE - offset);
                    assertEquals(want, n, "message " + m + " at " + offset);
                    for (int i = 0; i < n; i++) {
                        if (piece.get(ValueLayout.JAVA_BYTE, i) != expected(m, offset + i)) {
                            throw new AssertionError("message " + m + ": wrong byte at " + (offset + i));
                        }
                    }
                    offset += n;
                    assertEquals(offset == MESSAGE, reader.complete(),
                            "isMessageComplete after message " + m + " piece ending at " + offset);
                }
            }
        }
    }

    @Test
    void probedEngineReadsLongMessagesInPieces() throws Exception {
        PipeName name = unique("probed");
        try (PipeServer server = PipeServer.bind(name, OPTIONS);
             Pipe client = PipeClient.connect(name, OPTIONS, Duration.ofSeconds(5));
             Pipe served = server.accept(Duration.ofSeconds(5))) {
            SyncMoreData answer = IocpEngine.instance().moreDataAnswer();
            assertNotNull(answer, "a MESSAGE-mode pipe runs the probe (or the answer is forced)");
            System.out.println("synchronous ERROR_MORE_DATA on this system: " + answer);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    for (int m = 0; m < MESSAGES; m++) {
                        assertEquals(MESSAGE, served.write(message(arena, m)));
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            readAll(new Reader() {
                @Override
                public int read(MemorySegment dst, int length) throws IOException {
                    return client.read(dst.asSlice(0, length), READ_TIMEOUT);
                }

                @Override
                public boolean complete() {
                    return client.isMessageComplete();
                }
            });
            writer.get(30, TimeUnit.SECONDS);
        }
    }

    /** The answer that cannot corrupt, forced on a separate engine: slots retire on every synchronous ERROR_MORE_DATA. */
    @Test
    void retiringEngineReadsLongMessagesInPieces() throws Exception {
        IocpEngine own = new IocpEngine(1, SyncMoreData.UNKNOWN);
        PipeName name = unique("retire");
        NamedPipeServer server = NamedPipeServer.bind(own, name, OPTIONS);
        NamedPipeTransport client = null;
        NamedPipeTransport served = null;
        try {
            client = NamedPipeClient.connect(own, name, OPTIONS);
            server.gate().enter();
            try {
                served = (NamedPipeTransport) server.accept(TimeUnit.SECONDS.toNanos(5));
            } finally {
                server.gate().exit();
            }
            NamedPipeTransport out = served;
            NamedPipeTransport in = client;
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    for (int m = 0; m < MESSAGES; m++) {
                        MemorySegment msg = message(arena, m);
                        assertEquals(MESSAGE, call(out, () -> out.write(msg, 0, MESSAGE, -1)));
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            readAll(new Reader() {
                @Override
                public int read(MemorySegment dst, int length) throws IOException {
                    return call(in, () -> in.read(dst, 0, length, READ_TIMEOUT.toNanos()));
                }

                @Override
                public boolean complete() {
                    return in.isMessageComplete();
                }
            });
            writer.get(30, TimeUnit.SECONDS);
            System.out.println("slots in use on the retiring engine: " + own.slotsInUse());
        } finally {
            close(client);
            close(served);
            server.gate().startClose();
            server.release();
            own.shutdown();
        }
    }

    /** The engine-wide answer does not depend on the interrupt status of the thread that asks first. */
    @Test
    void anInterruptedFirstCallerGetsTheSameAnswerAndKeepsItsInterrupt() throws Exception {
        IocpEngine plain = new IocpEngine(1, null);
        IocpEngine asked = new IocpEngine(1, null);
        try {
            plain.ensureMoreDataProbed();
            Thread.currentThread().interrupt();
            long t0 = System.nanoTime();
            try {
                asked.ensureMoreDataProbed();
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt status is restored");
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(millis < 5_000, "the probe took " + millis + " ms");
            assertEquals(plain.moreDataAnswer(), asked.moreDataAnswer());
        } finally {
            plain.shutdown();
            asked.shutdown();
        }
    }

    private interface Call {
        int run() throws IOException;
    }

    private static int call(Transport t, Call c) throws IOException {
        t.gate().enter();
        try {
            return c.run();
        } finally {
            t.gate().exit();
        }
    }

    private static void close(NamedPipeTransport t) throws IOException {
        if (t != null) {
            t.gate().startClose();
            t.release();
        }
    }
}
