package io.panapipe.internal.windows;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;
import io.panapipe.bindings.WindowsLibraries;
import io.panapipe.bindings.windows.Win32;
import io.panapipe.internal.Engines;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What only Windows has: run by the windows-latest CI jobs. */
@EnabledOnOs(OS.WINDOWS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IocpWindowsTest {
    private static IocpEngine engine;

    @BeforeAll
    static void engine() {
        WindowsLibraries.load();
        assertEquals("iocp", Engines.get().name(), "auto-selection picks IOCP on Windows");
        engine = IocpEngine.instance();
    }

    private static PipeName unique(String what) {
        return PipeName.of("iocp-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    private static MemorySegment bytes(Arena arena, int n, int seed) {
        MemorySegment s = arena.allocate(n);
        for (int i = 0; i < n; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i));
        }
        return s;
    }

    @Test
    void messageModeSplitsALongMessageWithMoreData() throws Exception {
        PipeName name = unique("msg");
        PipeOptions message = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        try (PipeServer server = PipeServer.bind(name, message);
             Pipe client = PipeClient.connect(name, message, Duration.ofSeconds(5));
             Pipe served = server.accept(Duration.ofSeconds(5));
             Arena arena = Arena.ofConfined()) {
            client.write(bytes(arena, 100, 7));
            client.write(arena.allocate(0));          // an empty message
            client.write(bytes(arena, 5, 1));
            MemorySegment buf = arena.allocate(30);
            int[] expected = {30, 30, 30, 10};
            int offset = 0;
            for (int i = 0; i < expected.length; i++) {
                int n = served.read(buf, Duration.ofSeconds(5));
                assertEquals(expected[i], n);
                assertEquals(i == expected.length - 1, served.isMessageComplete(), "ERROR_MORE_DATA until the last part");
                for (int j = 0; j < n; j++) {
                    assertEquals((byte) (7 + offset + j), buf.get(ValueLayout.JAVA_BYTE, j));
                }
                offset += n;
            }
            assertEquals(0, served.read(buf, Duration.ofSeconds(5)));
            assertTrue(served.isMessageComplete());
            assertEquals(5, served.read(buf, Duration.ofSeconds(5)));
            assertTrue(served.isMessageComplete());
            // and the other direction, into a buffer that fits
            served.write(bytes(arena, 20, 3));
            MemorySegment big = arena.allocate(64);
            assertEquals(20, client.read(big, Duration.ofSeconds(5)));
            assertTrue(client.isMessageComplete());
        }
    }

    @Test
    void busyInstancesAreRetriedUntilTheDeadline() throws Exception {
        PipeName name = unique("busy");
        PipeOptions one = PipeOptions.defaults().withMaxInstances(1).withAcceptBacklog(1);
        try (PipeServer server = PipeServer.bind(name, one)) {
            Pipe first = PipeClient.connect(name, Duration.ofSeconds(5));
            Pipe served = server.accept(Duration.ofSeconds(5));
            PipeTimeoutException busy = assertThrows(PipeTimeoutException.class,
                    () -> PipeClient.connect(name, Duration.ofMillis(300)));
            PipeException cause = assertInstanceOf(PipeException.class, busy.getCause());
            assertEquals(231, cause.nativeCode());
            assertEquals("ERROR_PIPE_BUSY", cause.symbolicName());
            assertTrue(engine.isBusy(cause));
            // the raw attempt says the same, immediately
            PipeException raw = assertThrows(PipeException.class, () -> engine.connect(name, PipeOptions.defaults()));
            assertEquals(231, raw.nativeCode());

            CompletableFuture<Pipe> second = CompletableFuture.supplyAsync(() -> {
                try {
                    return PipeClient.connect(name, Duration.ofSeconds(10));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(200);
            first.close();
            served.close();
            try (Pipe next = server.accept(Duration.ofSeconds(10)); Pipe c = second.get(10, TimeUnit.SECONDS)) {
                assertTrue(c.isOpen() && next.isOpen());
            }
        }
    }

    @Test
    void absentNameFailsFastUnlessAskedToWait() {
        PipeName name = unique("absent");
        PipeException e = assertThrows(PipeException.class, () -> PipeClient.connect(name));
        assertEquals(2, e.nativeCode());
        assertTrue(engine.isAbsent(e));
        assertThrows(PipeTimeoutException.class, () -> PipeClient.connect(name, Duration.ofMillis(200)));
    }

    @Test
    void firstInstanceSquattingIsRefused() throws Exception {
        PipeName name = unique("squat");
        try (PipeServer server = PipeServer.bind(name)) {
            PipeException again = assertThrows(PipeException.class, () -> PipeServer.bind(name));
            assertEquals(5, again.nativeCode(), again.getMessage());
            assertTrue(server.isOpen());
        }
        // a squatter creates an instance first (no FILE_FLAG_FIRST_PIPE_INSTANCE): binding must refuse the name
        PipeName squatted = unique("squatted");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = engine.api().newCapture(arena);
            MemorySegment wide = arena.allocateFrom(squatted.osPath(), StandardCharsets.UTF_16LE);
            long h = engine.api().createNamedPipeW(capture, wide.address(), PipeFlags.serverOpenMode(false), 0, 255, 0, 0,
                    0, 0L);
            assertTrue(h != -1L && h != 0, "squatter instance");
            try {
                PipeException refused = assertThrows(PipeException.class, () -> PipeServer.bind(squatted));
                assertEquals(5, refused.nativeCode(), refused.getMessage());
            } finally {
                engine.api().closeHandle(capture, h);
            }
        }
    }

    @Test
    void serverPipeInfoAndRemoteClientRejection() throws Exception {
        PipeName name = unique("remote");
        PipeOptions options = PipeOptions.defaults().withMode(PipeMode.MESSAGE).withMaxInstances(7);
        try (ServerHandle s = ServerHandle.open(name, options); Arena arena = Arena.ofConfined()) {
            MemorySegment capture = engine.api().newCapture(arena);
            MemorySegment flags = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment max = arena.allocate(ValueLayout.JAVA_INT);
            assertTrue(engine.api().getNamedPipeInfo(capture, s.served.handle(), flags.address(), 0L, 0L, max.address()) != 0);
            int f = flags.get(ValueLayout.JAVA_INT, 0);
            assertEquals(Win32.PIPE_SERVER_END(), f & Win32.PIPE_SERVER_END());
            assertEquals(Win32.PIPE_TYPE_MESSAGE(), f & Win32.PIPE_TYPE_MESSAGE());
            assertEquals(7, max.get(ValueLayout.JAVA_INT, 0));
            // the mode word passed to CreateNamedPipeW carries the reject flag
            assertEquals(Win32.PIPE_REJECT_REMOTE_CLIENTS(),
                    PipeFlags.serverPipeMode(options) & Win32.PIPE_REJECT_REMOTE_CLIENTS());
        }
        // through the SMB loopback a client counts as remote: with the default it is refused
        PipeName rejecting = unique("reject");
        try (PipeServer server = PipeServer.bind(rejecting)) {
            PipeName viaNetwork = PipeName.ofWindowsPath("\\\\localhost\\pipe\\" + rejecting.logicalName());
            assertThrows(IOException.class, () -> {
                try (Pipe p = PipeClient.connect(viaNetwork)) {
                    fail("a remote client got in: " + p);
                }
            });
        }
    }

    @Test
    void defaultDaclGrantsTheCurrentUserAndNobodyElse() throws Exception {
        String me = PipeSecurity.currentUserSid(engine.api());
        assertTrue(me.startsWith("S-1-"), me);
        try (ServerHandle s = ServerHandle.open(unique("dacl"), PipeOptions.defaults())) {
            String sddl = daclOf(s.client.handle());
            assertTrue(sddl.startsWith("D:P"), "protected DACL: " + sddl);
            List<String> trustees = trustees(sddl);
            assertFalse(trustees.isEmpty(), sddl);
            for (String trustee : trustees) {
                assertEquals(me, trustee, "only the current user may be granted anything: " + sddl);
            }
            for (String other : List.of("WD", "S-1-1-0", "AU", "BU", "BA", "SY", "AN", "S-1-5-32-545", "NU")) {
                assertFalse(trustees.contains(other), other + " must not be granted: " + sddl);
            }
        }
        try (ServerHandle s = ServerHandle.open(unique("sddl"),
                PipeOptions.defaults().withSddl("D:P(A;;GA;;;" + me + ")(A;;GR;;;WD)"))) {
            List<String> trustees = trustees(daclOf(s.client.handle()));
            assertTrue(trustees.contains("WD") || trustees.contains("S-1-1-0"), trustees.toString());
        }
    }

    @Test
    void peerProcessIdsAndServerUserCheck() throws Exception {
        PipeName name = unique("pid");
        try (PipeServer server = PipeServer.bind(name);
             Pipe client = PipeClient.connect(name, PipeOptions.defaults().withVerifyServerUser(true), Duration.ofSeconds(5));
             Pipe served = server.accept(Duration.ofSeconds(5))) {
            long me = ProcessHandle.current().pid();
            assertEquals(me, client.peerProcessId());
            assertEquals(me, served.peerProcessId());
        }
    }

    @Test
    void readTimeoutsRacingWithWritesNeverLoseBytes() throws Exception {
        PipeName name = unique("race");
        int total = 20_000;
        try (PipeServer server = PipeServer.bind(name);
             Pipe client = PipeClient.connect(name, Duration.ofSeconds(5));
             Pipe served = server.accept(Duration.ofSeconds(5))) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment one = arena.allocate(7);
                    int sent = 0;
                    while (sent < total) {
                        int n = Math.min(1 + ThreadLocalRandom.current().nextInt(7), total - sent);
                        for (int i = 0; i < n; i++) {
                            one.set(ValueLayout.JAVA_BYTE, i, (byte) ((sent + i) % 251));
                        }
                        client.write(one.asSlice(0, n));
                        sent += n;
                        if (ThreadLocalRandom.current().nextInt(4) == 0) {
                            Thread.sleep(0, ThreadLocalRandom.current().nextInt(200_000));
                        }
                    }
                    client.close();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            int received = 0;
            int timeouts = 0;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(64);
                for (;;) {
                    int n;
                    try {
                        n = served.read(buf, Duration.ofNanos(ThreadLocalRandom.current().nextInt(300_000)));
                    } catch (PipeTimeoutException e) {
                        timeouts++;
                        continue; // the pipe stays usable
                    }
                    if (n < 0) {
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        assertEquals((byte) ((received + i) % 251), buf.get(ValueLayout.JAVA_BYTE, i),
                                "byte " + (received + i));
                    }
                    received += n;
                }
            }
            writer.join();
            assertEquals(total, received, "every byte, in order, whatever the cancels (" + timeouts + " timeouts)");
        }
    }

    @Test
    void closeAndInterruptRacingWithReadsAlwaysEnd() throws Exception {
        int before = engine.slotsInUse();
        PipeName name = unique("closerace");
        try (PipeServer server = PipeServer.bind(name)) {
            for (int round = 0; round < 200; round++) {
                Pipe client = PipeClient.connect(name, Duration.ofSeconds(5));
                Pipe served = server.accept(Duration.ofSeconds(5));
                boolean interrupt = round % 2 == 0;
                CompletableFuture<Throwable> outcome = new CompletableFuture<>();
                Thread reader = Thread.ofVirtual().start(() -> {
                    try (Arena arena = Arena.ofConfined()) {
                        served.read(arena.allocate(16));
                        outcome.complete(null);
                    } catch (Throwable t) {
                        outcome.complete(t);
                    }
                });
                Thread.sleep(0, ThreadLocalRandom.current().nextInt(500_000));
                if (interrupt) {
                    reader.interrupt();
                } else {
                    served.close();
                }
                Throwable t = outcome.get(10, TimeUnit.SECONDS);
                assertTrue(t instanceof ClosedChannelException, "round " + round + ": " + t);
                reader.join();
                served.close();
                client.close();
            }
        }
        assertEquals(before, engine.slotsInUse(), "every slot came back");
    }

    @Test
    void closeWakesAPendingAcceptPromptly() throws Exception {
        PipeServer server = PipeServer.bind(unique("closeaccept"));
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                server.accept();
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        Thread.sleep(100);
        server.close();
        assertInstanceOf(AsynchronousCloseException.class, outcome.get(5, TimeUnit.SECONDS));
    }

    /**
     * close() racing with the start of an accept without a timeout: the accept must always end
     * (it once could park after close's wake-up had found nobody to wake, and close then waited
     * for it forever).
     */
    @Test
    void closeRacingWithTheStartOfAnAcceptAlwaysWakesIt() throws Exception {
        for (int i = 0; i < 300; i++) {
            PipeServer server = PipeServer.bind(unique("closerace"));
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    server.accept();
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            long spin = System.nanoTime() + ThreadLocalRandom.current().nextLong(200_000);
            while (System.nanoTime() < spin) {
                Thread.onSpinWait();
            }
            CompletableFuture<Void> closed = CompletableFuture.runAsync(() -> {
                try {
                    server.close();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            closed.get(5, TimeUnit.SECONDS);
            Throwable t = outcome.get(5, TimeUnit.SECONDS);
            // AsynchronousCloseException if the accept had started, ClosedChannelException if not
            assertInstanceOf(ClosedChannelException.class, t, "round " + i);
        }
    }

    @Test
    void thousandConcurrentVirtualThreadClients() throws Exception {
        PipeName name = unique("thousand");
        int clients = 1000;
        AtomicLong echoed = new AtomicLong();
        try (PipeServer server = PipeServer.bind(name, PipeOptions.defaults().withAcceptBacklog(64));
             ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor()) {
            Thread acceptor = Thread.ofVirtual().start(() -> {
                while (server.isOpen()) {
                    try {
                        Pipe p = server.accept();
                        vts.submit(() -> {
                            try (p; Arena arena = Arena.ofConfined()) {
                                MemorySegment buf = arena.allocate(64);
                                for (int n; (n = p.read(buf)) >= 0; ) {
                                    p.write(buf.asSlice(0, n));
                                    echoed.addAndGet(n);
                                }
                            }
                            return null;
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int id = i;
                results.add(vts.submit(() -> {
                    try (Pipe p = PipeClient.connect(name, Duration.ofSeconds(60)); Arena arena = Arena.ofConfined()) {
                        MemorySegment msg = bytes(arena, 16, id);
                        p.write(msg);
                        MemorySegment back = arena.allocate(16);
                        int got = 0;
                        while (got < 16) {
                            int n = p.read(back.asSlice(got), Duration.ofSeconds(60));
                            assertTrue(n > 0);
                            got += n;
                        }
                        return back.mismatch(msg) == -1;
                    }
                }));
            }
            for (Future<Boolean> r : results) {
                assertTrue(r.get(100, TimeUnit.SECONDS));
            }
            server.close();
            acceptor.join();
        }
        assertEquals(16L * clients, echoed.get());
    }

    @Test
    void handleCountReturnsToItsStartAfterManyConnections() throws Exception {
        churn(unique("warm"), 5); // load classes, start pollers, fill caches
        int before = handleCount();
        churn(unique("handles"), 200);
        int after = handleCount();
        assertTrue(after <= before + 10, "handles before " + before + ", after " + after);
    }

    @Test
    void aSeparateEngineShutsDownItsPollers() throws Exception {
        IocpEngine own = new IocpEngine(2);
        long t0 = System.nanoTime();
        own.shutdown();
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
    }

    /**
     * More pollers than processors: one poller may dequeue several wake-up packets in one batch,
     * and shutdown must still stop every poller (it once joined the starved one forever).
     */
    @Test
    void manyPollersAllStopAtShutdown() throws Exception {
        int pollers = Math.min(64, Runtime.getRuntime().availableProcessors() * 4);
        for (int round = 0; round < 20; round++) {
            IocpEngine own = new IocpEngine(pollers);
            CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
                try {
                    own.shutdown();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            done.get(10, TimeUnit.SECONDS);
        }
    }

    private static void churn(PipeName name, int rounds) throws Exception {
        for (int i = 0; i < rounds; i++) {
            try (PipeServer server = PipeServer.bind(name);
                 Pipe client = PipeClient.connect(name, Duration.ofSeconds(5));
                 Pipe served = server.accept(Duration.ofSeconds(5));
                 Arena arena = Arena.ofConfined()) {
                client.write(bytes(arena, 10, i));
                assertEquals(10, served.read(arena.allocate(10), Duration.ofSeconds(5)));
            }
        }
    }

    private static int handleCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            assertTrue(Win32.GetProcessHandleCount(Win32.GetCurrentProcess(), count) != 0);
            return count.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** The DACL of the pipe object behind {@code handle}, as SDDL. */
    private static String daclOf(long handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dacl = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment sd = arena.allocate(ValueLayout.ADDRESS);
            int rc = Win32.GetSecurityInfo(MemorySegment.ofAddress(handle), Win32.SE_KERNEL_OBJECT(),
                    Win32.DACL_SECURITY_INFORMATION(), MemorySegment.NULL, MemorySegment.NULL, dacl, MemorySegment.NULL, sd);
            assertEquals(0, rc, "GetSecurityInfo");
            MemorySegment descriptor = sd.get(ValueLayout.ADDRESS, 0);
            try {
                MemorySegment text = arena.allocate(ValueLayout.ADDRESS);
                assertTrue(Win32.ConvertSecurityDescriptorToStringSecurityDescriptorW(descriptor, Win32.SDDL_REVISION_1(),
                        Win32.DACL_SECURITY_INFORMATION(), text, MemorySegment.NULL) != 0);
                MemorySegment str = text.get(ValueLayout.ADDRESS, 0);
                try {
                    return PipeSecurity.wideString(str.address());
                } finally {
                    Win32.LocalFree(str);
                }
            } finally {
                Win32.LocalFree(descriptor);
            }
        }
    }

    /** The trustee SIDs of the ACEs of an SDDL DACL: {@code (type;flags;rights;;;SID)}. */
    static List<String> trustees(String sddl) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\\(([^;]*);[^;]*;[^;]*;[^;]*;[^;]*;([^)]*)\\)").matcher(sddl);
        while (m.find()) {
            out.add(m.group(2));
        }
        return out;
    }

    /** A bound server with one connected client, at the transport level, so tests can reach the handles. */
    private record ServerHandle(NamedPipeServer server, NamedPipeTransport client, NamedPipeTransport served)
            implements AutoCloseable {
        static ServerHandle open(PipeName name, PipeOptions options) throws IOException {
            NamedPipeServer server = (NamedPipeServer) engine.bind(name, options);
            NamedPipeTransport client = (NamedPipeTransport) engine.connect(name, options);
            server.gate().enter();
            NamedPipeTransport served;
            try {
                served = (NamedPipeTransport) server.accept(TimeUnit.SECONDS.toNanos(5));
            } finally {
                server.gate().exit();
            }
            return new ServerHandle(server, client, served);
        }

        @Override
        public void close() throws IOException {
            close(client);
            close(served);
            server.gate().startClose();
            server.release();
        }

        private static void close(NamedPipeTransport t) throws IOException {
            t.gate().startClose();
            t.release();
        }
    }
}
