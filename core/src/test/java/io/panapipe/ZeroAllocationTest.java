package io.panapipe;

import io.panapipe.internal.Engines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Counts the bytes the two threads of a ping-pong allocate in steady state (HotSpot's per-thread
 * allocation counter, not a timer). The native engines promise zero per read and write, for
 * native segments and for heap arrays staged through the connection's buffer.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ZeroAllocationTest {
    private static final int WARMUP = 30_000;
    private static final int MEASURED = 20_000;
    /**
     * Measured windows of MEASURED round trips each, both ends in lockstep. The promise holds if one
     * window allocates nothing: on a loaded machine the JIT may still be compiling the paths in the
     * first one (its allocations are the interpreter's, not the library's).
     */
    private static final int WINDOWS = 4;

    @Test
    void steadyStateReadsAndWritesAllocateNothing() throws Exception {
        assumeFalse(Engines.get().name().equals("nio"),
                "the nio fallback allocates a ByteBuffer view per call; this promise is the native engines'");
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        PipeName name = PipeName.of("alloc-" + ProcessHandle.current().pid());
        try (PipeServer server = PipeServer.bind(name)) {
            CompletableFuture<long[]> echoAllocated = new CompletableFuture<>();
            Thread echo = Thread.ofPlatform().start(() -> {
                try (Pipe pipe = server.accept(Duration.ofSeconds(10)); Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(64);
                    byte[] heap = new byte[64];
                    long[] windows = new long[WINDOWS];
                    long start = 0;
                    for (int i = 0; i < WARMUP + WINDOWS * MEASURED; i++) {
                        if (i >= WARMUP && (i - WARMUP) % MEASURED == 0) {
                            long now = allocated(threads);
                            if (i > WARMUP) {
                                windows[(i - WARMUP) / MEASURED - 1] = now - start;
                            }
                            start = now;
                        }
                        readFully(pipe, buf);
                        pipe.write(buf);
                        pipe.inputStream().readNBytes(heap, 0, 64);
                        pipe.outputStream().write(heap, 0, 64);
                    }
                    windows[WINDOWS - 1] = allocated(threads) - start;
                    echoAllocated.complete(windows);
                } catch (Throwable t) {
                    echoAllocated.completeExceptionally(t);
                }
            });
            long[] clientWindows = new long[WINDOWS];
            try (Pipe pipe = PipeClient.connect(name, Duration.ofSeconds(10)); Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(64);
                byte[] heap = new byte[64];
                var in = pipe.inputStream();
                var out = pipe.outputStream();
                long start = 0;
                for (int i = 0; i < WARMUP + WINDOWS * MEASURED; i++) {
                    if (i >= WARMUP && (i - WARMUP) % MEASURED == 0) {
                        long now = allocated(threads);
                        if (i > WARMUP) {
                            clientWindows[(i - WARMUP) / MEASURED - 1] = now - start;
                        }
                        start = now;
                    }
                    pipe.write(buf);
                    readFully(pipe, buf);
                    out.write(heap, 0, 64);
                    in.readNBytes(heap, 0, 64);
                }
                clientWindows[WINDOWS - 1] = allocated(threads) - start;
            }
            long[] echoWindows = echoAllocated.get(120, TimeUnit.SECONDS);
            echo.join();
            System.out.printf("engine %s: windows of %d round trips (native + heap), client allocated %s bytes, echo %s bytes%n",
                    Engines.get().name(), MEASURED, java.util.Arrays.toString(clientWindows),
                    java.util.Arrays.toString(echoWindows));
            // A few hundred bytes of slack for one-off events (a lock queue node on contention,
            // a deoptimisation); anything per call would be at least MEASURED x 16 bytes.
            boolean clean = false;
            for (int w = 0; w < WINDOWS; w++) {
                clean |= clientWindows[w] < 1024 && echoWindows[w] < 1024;
            }
            assertTrue(clean, "every window of " + MEASURED + " round trips allocated: client "
                    + java.util.Arrays.toString(clientWindows) + ", echo " + java.util.Arrays.toString(echoWindows));
        }
    }

    /**
     * This thread's allocated bytes, less what the Windows model (test code standing in for the
     * kernel, on the "iocp (Windows model)" engine) allocated inside its calls: a kernel allocates
     * no Java objects, and the promise is about the engine.
     */
    private static long allocated(com.sun.management.ThreadMXBean threads) {
        long model = io.panapipe.internal.windows.WindowsModelAccounting.allocatedOnThisThread(); // first: it may load classes
        return threads.getCurrentThreadAllocatedBytes() - model;
    }

    private static void readFully(Pipe pipe, MemorySegment buf) throws Exception {
        long got = pipe.read(buf); // no slice in the common case: a slice is an allocation of the test's own
        assertTrue(got > 0);
        while (got < buf.byteSize()) {
            int n = pipe.read(buf.asSlice(got));
            assertTrue(n > 0);
            got += n;
        }
        assertEquals(buf.byteSize(), got);
    }
}
