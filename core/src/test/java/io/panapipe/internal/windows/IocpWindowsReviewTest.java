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
import io.panapipe.windows.IocpHandle;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Windows tests issue 10's review asked for. Windows only, against the real kernel, run by the
 * windows-latest CI jobs; nothing here has run yet (no Windows machine was available when they were
 * written). The engine-level cases that can also run on the Windows model are in
 * {@link IocpOnWindowsModelTest}.
 */
@EnabledOnOs(OS.WINDOWS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class IocpWindowsReviewTest {
    private static IocpEngine engine;
    private static Win32Api api;

    @BeforeAll
    static void engine() {
        WindowsLibraries.load();
        engine = IocpEngine.instance();
        api = engine.api();
    }

    private static PipeName unique(String what) {
        return PipeName.of("review-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    private static Pipe[] pair(PipeName name, PipeOptions options) throws Exception {
        PipeServer server = PipeServer.bind(name, options);
        CompletableFuture<Pipe> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return server.accept(Duration.ofSeconds(10));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Pipe client = PipeClient.connect(name, options, Duration.ofSeconds(10));
        Pipe served = accepted.get(10, TimeUnit.SECONDS);
        server.close(); // the connected pipes stay open
        return new Pipe[] {served, client};
    }

    private static long drain(Pipe pipe, Arena arena, Duration quiet) throws IOException {
        MemorySegment buf = arena.allocate(1 << 16);
        long total = 0;
        for (;;) {
            int n;
            try {
                n = pipe.read(buf, quiet);
            } catch (PipeTimeoutException e) {
                return total;
            }
            if (n < 0) {
                return total;
            }
            total += n;
        }
    }

    // ---- cancelled-write accounting (issue 10, defect 1) ----------------------------------------

    /**
     * BYTE mode: the count is the bytes of the completed WriteFile pieces; the reader gets at least
     * that and at most one 64 KiB piece more; the write side is unusable afterwards, reads go on.
     */
    @Test
    void cancelledWriteAccountingInByteMode() throws Exception {
        Pipe[] p = pair(unique("wto-byte"), PipeOptions.defaults().withBufferSizes(4096, 4096));
        try (Pipe s = p[0]; Pipe c = p[1]; Arena arena = Arena.ofShared()) {
            MemorySegment big = arena.allocate(4 << 20);
            PipeTimeoutException e = assertThrows(PipeTimeoutException.class, () -> c.write(big, Duration.ofMillis(300)));
            long written = e.bytesTransferred;
            assertTrue(written >= 0 && written < big.byteSize(), "counted " + written);
            assertThrows(IOException.class, () -> c.write(arena.allocate(1), Duration.ofSeconds(5)));
            long got = drain(s, arena, Duration.ofMillis(500));
            assertTrue(got >= written && got <= written + NamedPipeTransport.MAX_BYTE_WRITE,
                    "counted " + written + ", the reader got " + got);
        }
    }

    /** MESSAGE mode: a timed-out message counts 0, and the write side is unusable (the reader may hold part of it). */
    @Test
    void cancelledWriteAccountingInMessageMode() throws Exception {
        PipeOptions message = PipeOptions.defaults().withMode(PipeMode.MESSAGE).withBufferSizes(4096, 4096);
        Pipe[] p = pair(unique("wto-msg"), message);
        try (Pipe s = p[0]; Pipe c = p[1]; Arena arena = Arena.ofShared()) {
            MemorySegment big = arena.allocate(1 << 20);
            PipeTimeoutException e = assertThrows(PipeTimeoutException.class, () -> c.write(big, Duration.ofMillis(300)));
            assertEquals(0, e.bytesTransferred);
            IOException after = assertThrows(IOException.class, () -> c.write(arena.allocate(8), Duration.ofSeconds(5)));
            assertTrue(after.getMessage().contains("write side is unusable"), after.getMessage());
            s.write(arena.allocate(3), Duration.ofSeconds(5));
            assertEquals(3, c.read(arena.allocate(8), Duration.ofSeconds(5)), "the read side works");
        }
    }

    // ---- buffer lifetime: the kernel never holds caller memory that can be freed meanwhile (DESIGN rule 12)

    /** A shared arena closed by another thread while a read into it is pending: no write into freed memory, the pipe goes on. */
    @Test
    void sharedArenaClosedDuringAPendingRead() throws Exception {
        Pipe[] p = pair(unique("life-read"), PipeOptions.defaults());
        try (Pipe s = p[0]; Pipe c = p[1]) {
            Arena shared = Arena.ofShared();
            MemorySegment dst = shared.allocate(64);
            CompletableFuture<Throwable> reader = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    s.read(dst, Duration.ofSeconds(10));
                    reader.complete(null);
                } catch (Throwable t) {
                    reader.complete(t);
                }
            });
            Thread.sleep(200);
            shared.close(); // the kernel holds the pipe's own staging buffer, not this memory
            c.write(MemorySegment.ofArray("after close".getBytes(StandardCharsets.US_ASCII)));
            Throwable t = reader.get(10, TimeUnit.SECONDS);
            assertInstanceOf(IllegalStateException.class, t, "the copy into the closed segment fails, nothing else");
            try (Arena arena = Arena.ofConfined()) {
                // The bytes the failed read took from the kernel are held for the next read, not lost.
                MemorySegment held = arena.allocate(64);
                int n = s.read(held, Duration.ofSeconds(5));
                assertEquals("after close", new String(held.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
            }
            c.write(MemorySegment.ofArray(new byte[] {7}));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(1);
                assertEquals(1, s.read(buf, Duration.ofSeconds(5)));
                assertEquals(7, buf.get(ValueLayout.JAVA_BYTE, 0));
            }
        }
    }

    /** A shared arena closed by another thread while a write from it is pending: the peer gets the bytes as they were. */
    @Test
    void sharedArenaClosedDuringAPendingWrite() throws Exception {
        Pipe[] p = pair(unique("life-write"), PipeOptions.defaults().withBufferSizes(4096, 4096));
        try (Pipe s = p[0]; Pipe c = p[1]) {
            Arena shared = Arena.ofShared();
            MemorySegment src = shared.allocate(256 << 10);
            for (long i = 0; i < src.byteSize(); i++) {
                src.set(ValueLayout.JAVA_BYTE, i, (byte) (i % 253));
            }
            CompletableFuture<Throwable> writer = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    c.write(src, Duration.ofSeconds(20));
                    writer.complete(null);
                } catch (Throwable t) {
                    writer.complete(t);
                }
            });
            Thread.sleep(200); // pending: nobody reads and the quota is 4 KiB
            try {
                shared.close();
            } catch (IllegalStateException inUse) {
                // also acceptable: the arena refused to close while a copy from it ran
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(1 << 16);
                long got = 0;
                while (got < (256 << 10)) {
                    int n = s.read(buf, Duration.ofSeconds(10));
                    for (int i = 0; i < n; i++) {
                        assertEquals((byte) ((got + i) % 253), buf.get(ValueLayout.JAVA_BYTE, i), "byte " + (got + i));
                    }
                    got += n;
                }
            }
            Throwable t = writer.get(10, TimeUnit.SECONDS);
            assertTrue(t == null || t instanceof IllegalStateException, String.valueOf(t));
        }
    }

    /** An Arena.ofAuto() segment, dropped by its caller, with forced GCs while the read is pending. */
    @Test
    void autoArenaSegmentSurvivesForcedGcDuringAPendingRead() throws Exception {
        Pipe[] p = pair(unique("life-auto"), PipeOptions.defaults());
        try (Pipe s = p[0]; Pipe c = p[1]) {
            CompletableFuture<byte[]> reader = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    MemorySegment dst = Arena.ofAuto().allocate(32);
                    int n = s.read(dst, Duration.ofSeconds(10));
                    reader.complete(dst.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                } catch (Throwable t) {
                    reader.completeExceptionally(t);
                }
            });
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(50);
            }
            byte[] sent = "auto arena".getBytes(StandardCharsets.US_ASCII);
            c.write(MemorySegment.ofArray(sent));
            assertArrayEquals(sent, reader.get(10, TimeUnit.SECONDS));
        }
    }

    // ---- cross-process ---------------------------------------------------------------------------

    private static Process powershell(String script) throws IOException {
        return new ProcessBuilder("powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** A .NET NamedPipeClientStream (PowerShell) against a Panapipe server: round trip and the client's pid. */
    @Test
    void dotNetClientTalksToAPanapipeServer() throws Exception {
        PipeName name = unique("ps-client");
        String short_ = name.osPath().substring("\\\\.\\pipe\\".length());
        try (PipeServer server = PipeServer.bind(name)) {
            Process ps = powershell("$c = New-Object System.IO.Pipes.NamedPipeClientStream('.', '" + short_
                    + "', [System.IO.Pipes.PipeDirection]::InOut); $c.Connect(20000); "
                    + "$b = [System.Text.Encoding]::ASCII.GetBytes('ping'); $c.Write($b, 0, 4); $c.Flush(); "
                    + "$r = New-Object byte[] 4; $n = 0; while ($n -lt 4) { $n += $c.Read($r, $n, 4 - $n) }; "
                    + "[Console]::Out.WriteLine([System.Text.Encoding]::ASCII.GetString($r)); $c.Dispose()");
            try (Pipe pipe = server.accept(Duration.ofSeconds(60)); Arena arena = Arena.ofConfined()) {
                assertEquals(ps.pid(), pipe.peerProcessId());
                MemorySegment buf = arena.allocate(4);
                int got = 0;
                while (got < 4) {
                    got += pipe.read(buf.asSlice(got), Duration.ofSeconds(30));
                }
                assertEquals("ping", new String(buf.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
                pipe.write(MemorySegment.ofArray("pong".getBytes(StandardCharsets.US_ASCII)));
                BufferedReader out = new BufferedReader(new InputStreamReader(ps.getInputStream(), StandardCharsets.US_ASCII));
                assertEquals("pong", out.readLine());
                assertEquals(-1, pipe.read(buf, Duration.ofSeconds(30)), "the client disposed its stream");
            } finally {
                ps.destroyForcibly();
            }
        }
    }

    /** A .NET NamedPipeServerStream (PowerShell) with a Panapipe client: echo, the server's pid, and its kill → end of stream. */
    @Test
    void panapipeClientTalksToADotNetServerAndSeesItsKill() throws Exception {
        PipeName name = unique("ps-server");
        String short_ = name.osPath().substring("\\\\.\\pipe\\".length());
        Process ps = powershell("$s = New-Object System.IO.Pipes.NamedPipeServerStream('" + short_
                + "', [System.IO.Pipes.PipeDirection]::InOut, 1); [Console]::Out.WriteLine('ready'); "
                + "$s.WaitForConnection(); $b = New-Object byte[] 4096; "
                + "while (($n = $s.Read($b, 0, 4096)) -gt 0) { $s.Write($b, 0, $n); $s.Flush() }");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(ps.getInputStream(), StandardCharsets.US_ASCII));
            assertEquals("ready", out.readLine());
            try (Pipe pipe = PipeClient.connect(name, Duration.ofSeconds(30)); Arena arena = Arena.ofConfined()) {
                assertEquals(ps.pid(), pipe.peerProcessId());
                pipe.write(MemorySegment.ofArray("echo".getBytes(StandardCharsets.US_ASCII)));
                MemorySegment buf = arena.allocate(4);
                int got = 0;
                while (got < 4) {
                    got += pipe.read(buf.asSlice(got), Duration.ofSeconds(30));
                }
                assertEquals("echo", new String(buf.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
                ps.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                assertEquals(-1, pipe.read(buf, Duration.ofSeconds(30)), "a killed server means end of stream");
            }
        } finally {
            ps.destroyForcibly();
        }
    }

    private static Process childJvm(String role, PipeName name) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                WindowsPeer.class.getName(), role, name.osPath())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static void awaitReady(Process p) throws IOException {
        String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        assertTrue(first != null && first.startsWith("ready"), "child said " + first);
    }

    /** A child JVM client: its pid, its data, and its kill → end of stream; the server goes on. */
    @Test
    void childJvmClientKilledMeansEndOfStream() throws Exception {
        PipeName name = unique("child-client");
        try (PipeServer server = PipeServer.bind(name); Arena arena = Arena.ofConfined()) {
            Process child = childJvm("client", name);
            try {
                awaitReady(child);
                try (Pipe pipe = server.accept(Duration.ofSeconds(30))) {
                    assertEquals(child.pid(), pipe.peerProcessId());
                    MemorySegment buf = arena.allocate(4096);
                    assertTrue(pipe.read(buf, Duration.ofSeconds(10)) > 0);
                    child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    while (pipe.read(buf, Duration.ofSeconds(10)) >= 0) {
                        // what the child wrote before it died
                    }
                }
            } finally {
                child.destroyForcibly();
            }
            Process second = childJvm("client", name);
            try {
                awaitReady(second);
                try (Pipe pipe = server.accept(Duration.ofSeconds(30))) {
                    assertEquals(second.pid(), pipe.peerProcessId());
                }
            } finally {
                second.destroyForcibly();
            }
        }
    }

    /** A child JVM server: echo, its pid, and its kill → end of stream for the client. */
    @Test
    void childJvmServerEchoesAndItsKillIsEndOfStream() throws Exception {
        PipeName name = unique("child-server");
        Process child = childJvm("server", name);
        try {
            awaitReady(child);
            try (Pipe pipe = PipeClient.connect(name, Duration.ofSeconds(30)); Arena arena = Arena.ofConfined()) {
                assertEquals(child.pid(), pipe.peerProcessId());
                pipe.write(MemorySegment.ofArray(new byte[] {1, 2, 3}));
                MemorySegment buf = arena.allocate(3);
                int got = 0;
                while (got < 3) {
                    got += pipe.read(buf.asSlice(got), Duration.ofSeconds(30));
                }
                assertArrayEquals(new byte[] {1, 2, 3}, buf.toArray(ValueLayout.JAVA_BYTE));
                child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                assertEquals(-1, pipe.read(buf, Duration.ofSeconds(30)));
            }
        } finally {
            child.destroyForcibly();
        }
    }

    // ---- ERROR_PIPE_CONNECTED and ERROR_NO_DATA, forced with raw calls ----------------------------

    /**
     * Raw kernel32 (the same facts {@link WindowsModelConformanceTest} pins on the model): a client
     * between CreateNamedPipeW and ConnectNamedPipe gives ERROR_PIPE_CONNECTED (no packet, a good
     * connection); a client that opened and closed gives ERROR_NO_DATA, and DisconnectNamedPipe lets
     * the instance listen again (ERROR_IO_PENDING).
     */
    @Test
    void pipeConnectedAndNoDataForcedWithRawCalls() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = api.newCapture(arena);
            String path = unique("raw").osPath();
            long name = arena.allocateFrom(path, StandardCharsets.UTF_16LE).address();
            MemorySegment ov = arena.allocate(64, 16);
            long server = api.createNamedPipeW(cap, name, PipeFlags.serverOpenMode(true), 0, 1, 4096, 4096, 0, 0L);
            assertNotEquals(-1L, server, "CreateNamedPipeW " + api.lastError(cap));
            try {
                long client = api.createFileW(cap, name, PipeFlags.clientAccess(), 0, 0L, 3, 0x40000000, 0L);
                assertNotEquals(-1L, client, "CreateFileW " + api.lastError(cap));
                assertEquals(0, api.connectNamedPipe(cap, server, ov.address()));
                assertEquals(WinError.ERROR_PIPE_CONNECTED, api.lastError(cap));
                api.closeHandle(cap, client);
                assertEquals(1, api.disconnectNamedPipe(cap, server));

                ov.fill((byte) 0);
                long comeAndGo = api.createFileW(cap, name, PipeFlags.clientAccess(), 0, 0L, 3, 0x40000000, 0L);
                assertNotEquals(-1L, comeAndGo);
                api.closeHandle(cap, comeAndGo);
                assertEquals(0, api.connectNamedPipe(cap, server, ov.address()));
                assertEquals(WinError.ERROR_NO_DATA, api.lastError(cap));
                assertEquals(1, api.disconnectNamedPipe(cap, server));
                ov.fill((byte) 0);
                assertEquals(0, api.connectNamedPipe(cap, server, ov.address()));
                assertEquals(WinError.ERROR_IO_PENDING, api.lastError(cap));
                assertEquals(1, api.cancelIoEx(cap, server, ov.address()));
                MemorySegment bytes = arena.allocate(ValueLayout.JAVA_INT);
                // not associated with a port: the result is in the OVERLAPPED once the cancel completed
                for (int i = 0; i < 500 && ov.get(ValueLayout.JAVA_LONG, 0) == OverlappedIo.STATUS_PENDING; i++) {
                    Thread.onSpinWait();
                }
                assertEquals(0, api.getOverlappedResult(cap, server, ov.address(), bytes.address(), 0));
                assertEquals(WinError.ERROR_OPERATION_ABORTED, api.lastError(cap));
            } finally {
                api.closeHandle(cap, server);
            }
        }
    }

    // ---- peer-gone codes --------------------------------------------------------------------------

    /** Read after the server disconnects (end of stream), write to a closed peer (ERROR_NO_DATA), a pending write when the peer closes. */
    @Test
    void peerGoneCodes() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            Pipe[] p = pair(unique("gone-disc"), PipeOptions.defaults());
            try (Pipe s = p[0]; Pipe c = p[1]) {
                // the server end's raw handle, disconnected under the client
                PipeName name = unique("gone-raw");
                NamedPipeServer server = (NamedPipeServer) engine.bind(name, PipeOptions.defaults());
                NamedPipeTransport client = (NamedPipeTransport) engine.connect(name, PipeOptions.defaults());
                server.gate().enter();
                NamedPipeTransport served;
                try {
                    served = (NamedPipeTransport) server.accept(TimeUnit.SECONDS.toNanos(5));
                } finally {
                    server.gate().exit();
                }
                MemorySegment cap = api.newCapture(arena);
                assertEquals(1, api.disconnectNamedPipe(cap, served.handle()));
                client.gate().enter();
                try {
                    assertEquals(-1, client.read(arena.allocate(8), 0, 8, TimeUnit.SECONDS.toNanos(5)),
                            "ERROR_PIPE_NOT_CONNECTED is end of stream");
                } finally {
                    client.gate().exit();
                }
                for (NamedPipeTransport t : new NamedPipeTransport[] {client, served}) {
                    t.gate().startClose();
                    t.release();
                }
                server.gate().startClose();
                server.release();

                c.close();
                PipeException e = assertThrows(PipeException.class, () -> {
                    for (int i = 0; i < 100; i++) {
                        s.write(arena.allocate(1 << 16), Duration.ofSeconds(5));
                    }
                });
                assertEquals(WinError.ERROR_NO_DATA, e.nativeCode(), e.getMessage());
            }
            Pipe[] q = pair(unique("gone-pending"), PipeOptions.defaults().withBufferSizes(4096, 4096));
            try (Pipe s = q[0]; Pipe c = q[1]) {
                CompletableFuture<Throwable> writer = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        c.write(arena.allocate(1 << 20));
                        writer.complete(null);
                    } catch (Throwable t) {
                        writer.complete(t);
                    }
                });
                Thread.sleep(300); // pending: the quota is full
                s.close();
                IOException failed = assertInstanceOf(IOException.class, writer.get(10, TimeUnit.SECONDS));
                assertTrue(failed instanceof PipeException pe
                        && (pe.nativeCode() == WinError.ERROR_NO_DATA || pe.nativeCode() == WinError.ERROR_BROKEN_PIPE
                        || pe.nativeCode() == WinError.ERROR_PIPE_NOT_CONNECTED), String.valueOf(failed));
            }
        }
    }

    // ---- remote rejection -------------------------------------------------------------------------

    /** \\localhost\pipe\... counts as remote: refused by default (ERROR_ACCESS_DENIED), admitted with the option off. */
    @Test
    void remoteClientsThroughSmbLoopback() throws Exception {
        PipeName name = unique("smb");
        PipeName viaNetwork = PipeName.ofWindowsPath("\\\\localhost\\pipe\\" + name.logicalName());
        try (PipeServer server = PipeServer.bind(name)) {
            PipeException e = assertThrows(PipeException.class, () -> PipeClient.connect(viaNetwork));
            assumeTrue(e.nativeCode() != 53 && e.nativeCode() != 67 && e.nativeCode() != 1231 && e.nativeCode() != 64,
                    "no SMB loopback on this machine (" + e.getMessage() + "): remote rejection not testable here");
            assertEquals(WinError.ERROR_ACCESS_DENIED, e.nativeCode(), e.getMessage());
        }
        PipeName open = unique("smb-open");
        PipeName openViaNetwork = PipeName.ofWindowsPath("\\\\localhost\\pipe\\" + open.logicalName());
        try (PipeServer server = PipeServer.bind(open, PipeOptions.defaults().withRejectRemoteClients(false))) {
            CompletableFuture<Pipe> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept(Duration.ofSeconds(30));
                } catch (IOException ex) {
                    throw new RuntimeException(ex);
                }
            });
            try (Pipe c = PipeClient.connect(openViaNetwork, Duration.ofSeconds(30));
                 Pipe s = accepted.get(30, TimeUnit.SECONDS)) {
                c.outputStream().write(5);
                assertEquals(5, s.inputStream().read());
            }
        }
    }

    // ---- a read that outlives its carrier's idleness ------------------------------------------------

    /**
     * A read started on a virtual thread stays pending while every carrier goes idle past the
     * scheduler's keep-alive (30 s by default), and still completes: nothing about the wait lives on
     * the carrier.
     */
    @Test
    void aReadSurvivesItsCarrierGoingIdle() throws Exception {
        Pipe[] p = pair(unique("idle"), PipeOptions.defaults());
        try (Pipe s = p[0]; Pipe c = p[1]) {
            CompletableFuture<Integer> reader = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    reader.complete(s.read(arena.allocate(8)));
                } catch (Throwable t) {
                    reader.completeExceptionally(t);
                }
            });
            Thread.sleep(40_000);
            c.write(MemorySegment.ofArray(new byte[] {1, 2}));
            assertEquals(2, reader.get(10, TimeUnit.SECONDS));
        }
    }

    // ---- IocpHandle on an overlapped file ---------------------------------------------------------

    /** A file opened with FILE_FLAG_OVERLAPPED: a read through IocpHandle returns its bytes; heap and shared memory are refused. */
    @Test
    void iocpHandleReadsAnOverlappedFile() throws Exception {
        Path file = Files.createTempFile("panapipe-iocphandle", ".bin");
        Files.write(file, "file contents".getBytes(StandardCharsets.US_ASCII));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = api.newCapture(arena);
            long wide = arena.allocateFrom(file.toString(), StandardCharsets.UTF_16LE).address();
            long h = api.createFileW(cap, wide, 0x80000000 /* GENERIC_READ */, 1 /* FILE_SHARE_READ */, 0L, 3,
                    0x40000000 /* FILE_FLAG_OVERLAPPED */, 0L);
            assertNotEquals(-1L, h, "CreateFileW " + api.lastError(cap));
            try (IocpHandle io = IocpHandle.associate(MemorySegment.ofAddress(h))) {
                MemorySegment buf = arena.allocate(64);
                MemorySegment rc = arena.allocate(16, 8);
                int n = io.read(buf, ov -> api.readFile(rc, h, buf.address(), 64, ov) != 0 ? 0 : api.lastError(rc),
                        Duration.ofSeconds(5));
                assertEquals("file contents", new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE),
                        StandardCharsets.US_ASCII));
                assertThrows(IllegalArgumentException.class,
                        () -> io.read(MemorySegment.ofArray(new byte[8]), ov -> 0, Duration.ofSeconds(1)));
                try (Arena shared = Arena.ofShared()) {
                    assertThrows(IllegalArgumentException.class,
                            () -> io.read(shared.allocate(8), ov -> 0, Duration.ofSeconds(1)));
                }
            } finally {
                api.closeHandle(cap, h);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** IocpHandle on an overlapped pipe handle opened raw: a read with nothing to read times out (cancelled, completion awaited), and close cancels another. */
    @Test
    void iocpHandleTimeoutAndCancel() throws Exception {
        PipeName name = unique("iocphandle");
        try (PipeServer server = PipeServer.bind(name); Arena arena = Arena.ofShared()) {
            MemorySegment cap = api.newCapture(arena);
            long wide = arena.allocateFrom(name.osPath(), StandardCharsets.UTF_16LE).address();
            long h = api.createFileW(cap, wide, PipeFlags.clientAccess(), 0, 0L, 3, 0x40000000, 0L);
            assertNotEquals(-1L, h, "CreateFileW " + api.lastError(cap));
            try (Pipe served = server.accept(Duration.ofSeconds(10))) {
                IocpHandle io = IocpHandle.associate(MemorySegment.ofAddress(h));
                MemorySegment buf = Arena.global().allocate(16);
                MemorySegment rc = arena.allocate(16, 8);
                long t0 = System.nanoTime();
                PipeTimeoutException timeout = assertThrows(PipeTimeoutException.class, () -> io.read(buf,
                        ov -> api.readFile(rc, h, buf.address(), 16, ov) != 0 ? 0 : api.lastError(rc), Duration.ofMillis(200)));
                assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(190), String.valueOf(timeout));
                served.write(MemorySegment.ofArray(new byte[] {9}));
                int n = io.read(buf, ov -> api.readFile(rc, h, buf.address(), 16, ov) != 0 ? 0 : api.lastError(rc),
                        Duration.ofSeconds(5));
                assertEquals(1, n, "the pipe is usable after the timeout");

                CompletableFuture<Throwable> pending = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        io.read(buf, ov -> api.readFile(rc, h, buf.address(), 16, ov) != 0 ? 0 : api.lastError(rc),
                                Duration.ofSeconds(30));
                        pending.complete(null);
                    } catch (Throwable t) {
                        pending.complete(t);
                    }
                });
                Thread.sleep(200);
                io.close();
                assertInstanceOf(java.nio.channels.AsynchronousCloseException.class, pending.get(10, TimeUnit.SECONDS));
            } finally {
                api.closeHandle(cap, h);
            }
        }
    }
}
