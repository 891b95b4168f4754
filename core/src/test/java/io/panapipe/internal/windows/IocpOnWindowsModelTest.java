package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.Operation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IOCP engine's own cases, run on every OS against the WINDOWS MODEL ({@link WindowsModel},
 * test code): a model run, not a Windows run. Each test gets its own model and engine (own port
 * and poller), so faults can be injected. The same behaviours on real Windows are
 * {@link IocpWindowsTest}'s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IocpOnWindowsModelTest {
    /** A model with injectable faults. */
    static final class FaultyModel extends WindowsModel {
        volatile boolean poisonPoller;
        volatile boolean zeroByteWrites;

        @Override
        public int getQueuedCompletionStatusEx(MemorySegment capture, long port, long entries, int count, long removedOut,
                                               int millis, int alertable) {
            int ok = super.getQueuedCompletionStatusEx(capture, port, entries, count, removedOut, millis, alertable);
            if (poisonPoller) {
                throw new IllegalStateException("injected poller fault");
            }
            return ok;
        }

        @Override
        public int writeFile(MemorySegment capture, long handle, long buffer, int length, long overlapped) {
            if (zeroByteWrites && length > 0) {
                MemorySegment.NULL.reinterpret(Long.MAX_VALUE).set(ValueLayout.JAVA_LONG_UNALIGNED, overlapped + 8, 0L);
                return 1; // "success", nothing written: not a documented WriteFile outcome
            }
            return super.writeFile(capture, handle, buffer, length, overlapped);
        }
    }

    private FaultyModel model;
    private IocpEngine engine;
    private static int counter;

    @BeforeEach
    void start() throws Exception {
        model = new FaultyModel();
        engine = new IocpEngine(1, model, WindowsModelEngine.NAME);
    }

    @AfterEach
    void stop() throws Exception {
        engine.shutdown(); // also after a poller died: the others are stopped and the port closed
    }

    private static PipeName name(String what) {
        return PipeName.ofWindowsPath("\\\\.\\pipe\\model-" + what + "-" + (++counter));
    }

    private static Transport accept(ServerEndpoint server, long timeoutNanos) throws IOException {
        server.gate().enter();
        try {
            return server.accept(timeoutNanos);
        } finally {
            server.gate().exit();
        }
    }

    /** {server end, client end} of one connection, as PipeChannels (what Pipe wraps). */
    private PipeChannel[] pair(ServerEndpoint server, PipeName name, PipeOptions options) throws IOException {
        Transport client = engine.connect(name, options);
        Transport served = accept(server, TimeUnit.SECONDS.toNanos(5));
        return new PipeChannel[] {new PipeChannel(served, options.mode(), 4096),
                new PipeChannel(client, options.mode(), 4096)};
    }

    private static void close(ServerEndpoint server) throws IOException {
        server.gate().startClose();
        server.wakeAll();
        server.gate().awaitIdle();
        server.release();
    }

    @Test
    void roundTripAndEndOfStream() throws Exception {
        PipeName name = name("rt");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msg = arena.allocateFrom("hello", StandardCharsets.US_ASCII).asSlice(0, 5);
            p[1].write(msg, Operation.NO_TIMEOUT);
            MemorySegment buf = arena.allocate(16);
            assertEquals(5, p[0].read(buf, TimeUnit.SECONDS.toNanos(5)));
            assertEquals(ProcessHandle.current().pid(), p[0].peerProcessId());
            assertEquals(ProcessHandle.current().pid(), p[1].peerProcessId());
            p[1].close();
            assertEquals(-1, p[0].read(buf, TimeUnit.SECONDS.toNanos(5)));
            IOException e = assertThrows(IOException.class, () -> p[0].write(msg, TimeUnit.SECONDS.toNanos(5)));
            assertTrue(e.getMessage().contains("ERROR_NO_DATA"), e.getMessage());
            p[0].close();
        }
        close(server);
        assertEquals(0, engine.slotsInUse(), "every slot came back");
    }

    @Test
    void messageModeSplitsALongMessage() throws Exception {
        PipeOptions message = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        PipeName name = name("msg");
        ServerEndpoint server = engine.bind(name, message);
        PipeChannel[] p = pair(server, name, message);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hundred = arena.allocate(100);
            for (int i = 0; i < 100; i++) {
                hundred.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            p[1].write(hundred, Operation.NO_TIMEOUT);
            p[1].write(arena.allocate(0), Operation.NO_TIMEOUT);
            MemorySegment buf = arena.allocate(30);
            int[] parts = {30, 30, 30, 10};
            for (int i = 0; i < parts.length; i++) {
                assertEquals(parts[i], p[0].read(buf, TimeUnit.SECONDS.toNanos(5)));
                assertEquals(i == parts.length - 1, p[0].isMessageComplete());
                assertEquals((byte) (30 * i), buf.get(ValueLayout.JAVA_BYTE, 0));
            }
            assertEquals(0, p[0].read(buf, TimeUnit.SECONDS.toNanos(5)), "the empty message");
            assertTrue(p[0].isMessageComplete());
        }
        p[0].close();
        p[1].close();
        close(server);
    }

    /**
     * OverlappedIo rule 3's fallback, on the model's pre-Windows-8 overflow: each synchronous
     * ERROR_MORE_DATA is taken inline and retires its slot (the operation stays registered, its
     * memory kept until shutdown), and the message still arrives whole and in order.
     */
    @Test
    void aSynchronousMoreDataIsTakenInlineAndRetiresTheSlot() throws Exception {
        model.legacySynchronousOverflow = true;
        PipeOptions message = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        PipeName name = name("legacy");
        ServerEndpoint server = engine.bind(name, message);
        PipeChannel[] p = pair(server, name, message);
        int before = engine.slotsInUse();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hundred = arena.allocate(100);
            for (int i = 0; i < 100; i++) {
                hundred.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            p[1].write(hundred, Operation.NO_TIMEOUT);
            p[1].write(hundred.asSlice(0, 5), Operation.NO_TIMEOUT);
            MemorySegment buf = arena.allocate(30);
            int[] parts = {30, 30, 30, 10};
            for (int i = 0; i < parts.length; i++) {
                assertEquals(parts[i], p[0].read(buf, TimeUnit.SECONDS.toNanos(5)));
                assertEquals(i == parts.length - 1, p[0].isMessageComplete());
                assertEquals((byte) (30 * i), buf.get(ValueLayout.JAVA_BYTE, 0));
            }
            assertEquals(5, p[0].read(buf, TimeUnit.SECONDS.toNanos(5)), "the next message, on a fresh slot");
            assertTrue(p[0].isMessageComplete());
        }
        assertEquals(before + 3, engine.slotsInUse(), "three retired slots stay registered");
        p[0].close();
        p[1].close();
        close(server);
        assertEquals(3, engine.slotsInUse(), "only the retired slots remain (kept until shutdown)");
    }

    /** Issue 10, defect 7: a poller that dies fails every waiter and every later call, naming the cause. */
    @Test
    void aDeadPollerFailsWaitersAndLaterCallsLoudly() throws Exception {
        PipeName name = name("dead");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        CompletableFuture<Throwable> reader = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                p[0].read(arena.allocate(8), Operation.NO_TIMEOUT);
                reader.complete(null);
            } catch (Throwable t) {
                reader.complete(t);
            }
        });
        Thread.sleep(200); // the read is pending in the model
        model.poisonPoller = true;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = model.newCapture(arena);
            model.postQueuedCompletionStatus(capture, engine.port().handle(), 0, 99, 0L); // wakes the poller into the fault
        }
        Throwable t = reader.get(10, TimeUnit.SECONDS);
        PipeException e = assertInstanceOf(PipeException.class, t);
        assertTrue(e.getMessage().contains("injected poller fault") && e.getMessage().contains("poller"), e.getMessage());
        assertInstanceOf(IllegalStateException.class, e.getCause());
        PipeException later = assertThrows(PipeException.class, () -> engine.connect(name, PipeOptions.defaults()));
        assertTrue(later.getMessage().contains("injected poller fault"), later.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            PipeException write = assertThrows(PipeException.class,
                    () -> p[1].write(arena.allocate(4), TimeUnit.SECONDS.toNanos(5)));
            assertTrue(write.getMessage().contains("ENGINE_FAILED"), write.getMessage());
        }
    }

    /** Issue 10, defect 8: a WriteFile "success" with 0 of n bytes is an error, not an endless loop. */
    @Test
    void aZeroByteWriteSuccessIsAnError() throws Exception {
        PipeName name = name("zero");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        model.zeroByteWrites = true;
        try (Arena arena = Arena.ofConfined()) {
            PipeException e = assertThrows(PipeException.class, () -> p[1].write(arena.allocate(10), Operation.NO_TIMEOUT));
            assertTrue(e.getMessage().contains("0 of 10"), e.getMessage());
        }
        model.zeroByteWrites = false;
        p[0].close();
        p[1].close();
        close(server);
    }

    /**
     * Issue 10, defect 5: when every instance of a server has closed, the name lapses; a squatter
     * that takes it meanwhile must make the next accept fail loudly, not be joined.
     */
    @Test
    void aLapsedNameTakenByAnotherServerFailsTheNextAccept() throws Exception {
        PipeOptions one = PipeOptions.defaults().withMaxInstances(1).withAcceptBacklog(1);
        PipeName name = name("lapse");
        ServerEndpoint server = engine.bind(name, one);
        PipeChannel[] p = pair(server, name, one);
        p[0].close(); // the server's only instance: the name lapses
        p[1].close();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = model.newCapture(arena);
            MemorySegment wide = arena.allocateFrom(name.osPath(), StandardCharsets.UTF_16LE);
            long squatter = model.createNamedPipeW(capture, wide.address(), PipeFlags.serverOpenMode(false), 0, 255, 0, 0,
                    0, 0L);
            assertNotEquals(-1L, squatter);
            PipeException e = assertThrows(PipeException.class, () -> accept(server, TimeUnit.SECONDS.toNanos(2)));
            assertEquals(WinError.ERROR_ACCESS_DENIED, e.nativeCode(), e.getMessage());
            assertTrue(e.getMessage().contains("took the pipe name"), e.getMessage());
            model.closeHandle(capture, squatter);
        }
        close(server);
    }

    /** Issue 10, defect 3: verifyServerUser cannot check a remote server, so a remote path is refused up front. */
    @Test
    void verifyingARemoteServerIsRefused() {
        PipeName remote = PipeName.ofWindowsPath("\\\\localhost\\pipe\\model-remote");
        assertThrows(IllegalArgumentException.class,
                () -> engine.connect(remote, PipeOptions.defaults().withVerifyServerUser(true)));
    }

    /** The reject-remote-clients default, through the network path, and the option turned off. */
    @Test
    void remoteClientsAreRejectedUnlessAllowed() throws Exception {
        PipeName name = name("remote");
        PipeName viaNetwork = PipeName.ofWindowsPath("\\\\localhost\\pipe\\" + name.osPath().substring(9));
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeException e = assertThrows(PipeException.class, () -> engine.connect(viaNetwork, PipeOptions.defaults()));
        assertEquals(WinError.ERROR_ACCESS_DENIED, e.nativeCode());
        close(server);
        PipeOptions open = PipeOptions.defaults().withRejectRemoteClients(false);
        ServerEndpoint allowing = engine.bind(name, open);
        Transport client = engine.connect(viaNetwork, open);
        Transport served = accept(allowing, TimeUnit.SECONDS.toNanos(5));
        new PipeChannel(client, PipeMode.BYTE, 4096).close();
        new PipeChannel(served, PipeMode.BYTE, 4096).close();
        close(allowing);
    }

    /**
     * Issue 10, defect 4: on a virtual thread a remote path is opened by a platform thread of its
     * own while the caller parks (the model answers at once; what is exercised is the hand-off).
     */
    @Test
    void aRemoteOpenFromAVirtualThreadGoesThroughAPlatformThread() throws Exception {
        PipeName name = name("remote-vt");
        PipeName viaNetwork = PipeName.ofWindowsPath("\\\\localhost\\pipe\\" + name.osPath().substring(9));
        PipeOptions open = PipeOptions.defaults().withRejectRemoteClients(false);
        ServerEndpoint server = engine.bind(name, open);
        CompletableFuture<Transport> client = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                client.complete(engine.connect(viaNetwork, open));
            } catch (Throwable t) {
                client.completeExceptionally(t);
            }
        });
        Transport c = client.get(10, TimeUnit.SECONDS);
        Transport s = accept(server, TimeUnit.SECONDS.toNanos(5));
        CompletableFuture<Throwable> refused = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                engine.connect(PipeName.ofWindowsPath("\\\\elsewhere\\pipe\\x"), open);
                refused.complete(null);
            } catch (Throwable t) {
                refused.complete(t);
            }
        });
        PipeException e = assertInstanceOf(PipeException.class, refused.get(10, TimeUnit.SECONDS));
        assertEquals(WindowsModel.ERROR_BAD_NETPATH, e.nativeCode());
        new PipeChannel(c, PipeMode.BYTE, 4096).close();
        new PipeChannel(s, PipeMode.BYTE, 4096).close();
        close(server);
    }

    @Test
    void busyInstancesThenAFreeOne() throws Exception {
        PipeOptions one = PipeOptions.defaults().withMaxInstances(1).withAcceptBacklog(1);
        PipeName name = name("busy");
        ServerEndpoint server = engine.bind(name, one);
        PipeChannel[] p = pair(server, name, one);
        PipeException busy = assertThrows(PipeException.class, () -> engine.connect(name, one));
        assertTrue(engine.isBusy(busy), busy.getMessage());
        p[0].close();
        p[1].close();
        CompletableFuture<Transport> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return accept(server, TimeUnit.SECONDS.toNanos(10));
            } catch (IOException ex) {
                throw new RuntimeException(ex);
            }
        });
        Transport client = null;
        for (int i = 0; i < 200 && client == null; i++) {
            try {
                client = engine.connect(name, one);
            } catch (PipeException ex) {
                assertTrue(engine.isBusy(ex) || engine.isAbsent(ex), ex.getMessage());
                Thread.sleep(10);
            }
        }
        assertTrue(client != null, "a free instance came back");
        new PipeChannel(accepted.get(10, TimeUnit.SECONDS), PipeMode.BYTE, 4096).close();
        new PipeChannel(client, PipeMode.BYTE, 4096).close();
        close(server);
    }

    @Test
    void readTimeoutsRacingWithWritesNeverLoseBytes() throws Exception {
        PipeName name = name("race");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        int total = 20_000;
        Thread writer = Thread.ofVirtual().start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seven = arena.allocate(7);
                int sent = 0;
                while (sent < total) {
                    int n = Math.min(1 + ThreadLocalRandom.current().nextInt(7), total - sent);
                    for (int i = 0; i < n; i++) {
                        seven.set(ValueLayout.JAVA_BYTE, i, (byte) ((sent + i) % 251));
                    }
                    p[1].write(seven.asSlice(0, n), Operation.NO_TIMEOUT);
                    sent += n;
                }
                p[1].close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        int received = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64);
            for (;;) {
                int n;
                try {
                    n = p[0].read(buf, ThreadLocalRandom.current().nextInt(300_000));
                } catch (PipeTimeoutException e) {
                    continue;
                }
                if (n < 0) {
                    break;
                }
                for (int i = 0; i < n; i++) {
                    assertEquals((byte) ((received + i) % 251), buf.get(ValueLayout.JAVA_BYTE, i), "byte " + (received + i));
                }
                received += n;
            }
        }
        writer.join();
        assertEquals(total, received);
        p[0].close();
        close(server);
        assertEquals(0, engine.slotsInUse());
    }

    @Test
    void closeAndInterruptRacingWithReadsAlwaysEnd() throws Exception {
        PipeName name = name("closerace");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        for (int round = 0; round < 100; round++) {
            PipeChannel[] p = pair(server, name, PipeOptions.defaults());
            boolean interrupt = round % 2 == 0;
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    p[0].read(arena.allocate(16), Operation.NO_TIMEOUT);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            Thread.sleep(0, ThreadLocalRandom.current().nextInt(500_000));
            if (interrupt) {
                reader.interrupt();
            } else {
                p[0].close();
            }
            Throwable t = outcome.get(10, TimeUnit.SECONDS);
            assertInstanceOf(ClosedChannelException.class, t, "round " + round);
            reader.join();
            p[0].close();
            p[1].close();
        }
        close(server);
        assertEquals(0, engine.slotsInUse(), "every slot came back");
    }

    @Test
    void closeRacingWithTheStartOfAnAcceptAlwaysWakesIt() throws Exception {
        for (int i = 0; i < 100; i++) {
            ServerEndpoint server = engine.bind(name("acceptrace"), PipeOptions.defaults());
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    accept(server, -1);
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            long spin = System.nanoTime() + ThreadLocalRandom.current().nextLong(200_000);
            while (System.nanoTime() < spin) {
                Thread.onSpinWait();
            }
            close(server);
            assertInstanceOf(ClosedChannelException.class, outcome.get(5, TimeUnit.SECONDS), "round " + i);
        }
    }

    @Test
    void writeTimeoutMakesTheWriteSideUnusableAndReadsGoOn() throws Exception {
        PipeName name = name("wto");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment big = arena.allocate(1 << 20);
            PipeTimeoutException e = assertThrows(PipeTimeoutException.class,
                    () -> p[1].write(big, TimeUnit.MILLISECONDS.toNanos(200)));
            // the model's quota is 4096 and nobody reads: the first 64 KiB piece pends, nothing completed
            assertEquals(0, e.bytesTransferred);
            IOException after = assertThrows(IOException.class, () -> p[1].write(arena.allocate(1), Operation.NO_TIMEOUT));
            assertTrue(after.getMessage().contains("write side is unusable"), after.getMessage());
            // what the reader still gets is at most the cancelled piece's prefix (here: none was read)
            p[0].write(arena.allocate(3), Operation.NO_TIMEOUT);
            assertEquals(3, p[1].read(arena.allocate(8), TimeUnit.SECONDS.toNanos(5)), "the read side works");
        }
        p[0].close();
        p[1].close();
        close(server);
    }

    @Test
    void closeWakesAPendingAccept() throws Exception {
        ServerEndpoint server = engine.bind(name("closeaccept"), PipeOptions.defaults());
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                accept(server, -1);
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        Thread.sleep(100);
        close(server);
        assertInstanceOf(AsynchronousCloseException.class, outcome.get(5, TimeUnit.SECONDS));
    }

    /** Many virtual-thread clients against one accept loop: the backlog, its replacements, the echo. */
    @Test
    void manyConcurrentVirtualThreadClients() throws Exception {
        PipeName name = name("many");
        PipeOptions options = PipeOptions.defaults().withAcceptBacklog(8);
        ServerEndpoint server = engine.bind(name, options);
        int clients = 300;
        java.util.concurrent.atomic.AtomicLong echoed = new java.util.concurrent.atomic.AtomicLong();
        try (var vts = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Thread acceptor = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < clients; i++) {
                    try {
                        PipeChannel c = new PipeChannel(accept(server, TimeUnit.SECONDS.toNanos(30)), PipeMode.BYTE, 4096);
                        vts.submit(() -> {
                            try (Arena arena = Arena.ofConfined()) {
                                MemorySegment buf = arena.allocate(64);
                                for (int n; (n = c.read(buf, Operation.NO_TIMEOUT)) >= 0; ) {
                                    c.write(buf.asSlice(0, n), Operation.NO_TIMEOUT);
                                    echoed.addAndGet(n);
                                }
                            } finally {
                                c.close();
                            }
                            return null;
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            java.util.List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int id = i;
                results.add(vts.submit(() -> {
                    Transport t = null;
                    for (int attempt = 0; t == null; attempt++) {
                        try {
                            t = engine.connect(name, options);
                        } catch (PipeException e) {
                            assertTrue(engine.isBusy(e) && attempt < 10_000, e.getMessage());
                            Thread.sleep(1);
                        }
                    }
                    PipeChannel c = new PipeChannel(t, PipeMode.BYTE, 4096);
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment msg = arena.allocate(16);
                        msg.fill((byte) id);
                        c.write(msg, Operation.NO_TIMEOUT);
                        MemorySegment back = arena.allocate(16);
                        int got = 0;
                        while (got < 16) {
                            int n = c.read(back.asSlice(got), TimeUnit.SECONDS.toNanos(30));
                            assertTrue(n > 0);
                            got += n;
                        }
                        return back.mismatch(msg) == -1;
                    } finally {
                        c.close();
                    }
                }));
            }
            for (var r : results) {
                assertTrue(r.get(60, TimeUnit.SECONDS));
            }
            acceptor.join();
        }
        close(server);
        assertEquals(16L * clients, echoed.get());
        assertEquals(0, engine.slotsInUse());
    }

    /** Several pollers on one port all stop at shutdown (one may dequeue several wake-up packets). */
    @Test
    void manyPollersAllStopAtShutdown() throws Exception {
        for (int round = 0; round < 10; round++) {
            IocpEngine own = new IocpEngine(8, new WindowsModel(), WindowsModelEngine.NAME);
            CompletableFuture.runAsync(() -> {
                try {
                    own.shutdown();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }).get(10, TimeUnit.SECONDS);
        }
    }

    // ---- the kernel never holds caller memory that can be freed meanwhile (DESIGN rule 12), on the
    // IOCP path (the model writes into whatever address it was given) ----

    /** A shared arena closed by another thread during a pending read: the kernel held the pipe's staging buffer, not it. */
    @Test
    void sharedArenaClosedDuringAPendingRead() throws Exception {
        PipeName name = name("life-read");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        Arena shared = Arena.ofShared();
        MemorySegment dst = shared.allocate(64);
        CompletableFuture<Throwable> reader = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                p[0].read(dst, TimeUnit.SECONDS.toNanos(10));
                reader.complete(null);
            } catch (Throwable t) {
                reader.complete(t);
            }
        });
        Thread.sleep(100);
        shared.close(); // succeeds: nothing of it was lent to the kernel
        try (Arena arena = Arena.ofConfined()) {
            p[1].write(arena.allocateFrom("after close", StandardCharsets.US_ASCII), Operation.NO_TIMEOUT);
            assertInstanceOf(IllegalStateException.class, reader.get(10, TimeUnit.SECONDS));
            // The bytes the failed read took from the kernel are held for the next read, not lost.
            MemorySegment held = arena.allocate(64);
            int n = p[0].read(held, TimeUnit.SECONDS.toNanos(5));
            assertEquals(12, n, "\"after close\" and its NUL");
            assertEquals("after close", held.getString(0, StandardCharsets.US_ASCII));
            p[1].write(arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 7), Operation.NO_TIMEOUT);
            MemorySegment one = arena.allocate(1);
            assertEquals(1, p[0].read(one, TimeUnit.SECONDS.toNanos(5)), "the pipe goes on");
            assertEquals(7, one.get(ValueLayout.JAVA_BYTE, 0));
        }
        p[0].close();
        p[1].close();
        close(server);
    }

    /** A shared arena closed by another thread during a pending write: the reader gets the bytes as they were. */
    @Test
    void sharedArenaClosedDuringAPendingWrite() throws Exception {
        PipeName name = name("life-write");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        Arena shared = Arena.ofShared();
        MemorySegment src = shared.allocate(100_000);
        for (int i = 0; i < src.byteSize(); i++) {
            src.set(ValueLayout.JAVA_BYTE, i, (byte) (i % 253));
        }
        CompletableFuture<Throwable> writer = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                p[1].write(src, TimeUnit.SECONDS.toNanos(20));
                writer.complete(null);
            } catch (Throwable t) {
                writer.complete(t);
            }
        });
        Thread.sleep(100); // pending: the model's quota is 4 KiB and nobody reads
        try {
            shared.close();
        } catch (IllegalStateException busy) {
            // a copy from it was running at that moment: also safe
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(1 << 16);
            long got = 0;
            while (got < 4096) { // at least what went out before the close, intact
                int n = p[0].read(buf, TimeUnit.SECONDS.toNanos(5));
                for (int i = 0; i < n; i++) {
                    assertEquals((byte) ((got + i) % 253), buf.get(ValueLayout.JAVA_BYTE, i), "byte " + (got + i));
                }
                got += n;
            }
        }
        Throwable t = writer.get(10, TimeUnit.SECONDS);
        assertTrue(t == null || t instanceof IllegalStateException, String.valueOf(t));
        p[0].close();
        p[1].close();
        close(server);
    }

    /** An Arena.ofAuto() segment dropped by its caller, with forced GCs while the read is pending. */
    @Test
    void autoArenaSegmentWithForcedGcDuringAPendingRead() throws Exception {
        PipeName name = name("life-auto");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        PipeChannel[] p = pair(server, name, PipeOptions.defaults());
        CompletableFuture<byte[]> reader = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                MemorySegment dst = Arena.ofAuto().allocate(32);
                int n = p[0].read(dst, TimeUnit.SECONDS.toNanos(10));
                reader.complete(dst.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            } catch (Throwable t) {
                reader.completeExceptionally(t);
            }
        });
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        byte[] sent = "auto arena".getBytes(StandardCharsets.US_ASCII);
        try (Arena arena = Arena.ofConfined()) {
            p[1].write(arena.allocateFrom(ValueLayout.JAVA_BYTE, sent), Operation.NO_TIMEOUT);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(sent, reader.get(10, TimeUnit.SECONDS));
        p[0].close();
        p[1].close();
        close(server);
    }

    /** The model's GetProcessHandleCount: every handle the engine opened is closed again. */
    @Test
    void noHandleLeaksAfterManyConnections() throws Exception {
        int before = model.openHandles();
        for (int round = 0; round < 50; round++) {
            PipeName name = name("leak");
            ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
            PipeChannel[] p = pair(server, name, PipeOptions.defaults());
            p[0].close();
            p[1].close();
            close(server);
        }
        assertEquals(before, model.openHandles());
        assertEquals(0, engine.slotsInUse());
    }
}
