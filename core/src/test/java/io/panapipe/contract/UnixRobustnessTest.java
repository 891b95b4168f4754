package io.panapipe.contract;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12: deadlines, descriptor exhaustion, instance limits and one error contract, on every
 * Unix engine (the build runs the contract package once per engine).
 */
@Timeout(value = 120, unit = SECONDS)
@DisabledOnOs(OS.WINDOWS)
class UnixRobustnessTest {

    private static Pipe[] pair(PipeServer server) throws Exception {
        CompletableFuture<Pipe> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                return server.accept(Duration.ofSeconds(20));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Pipe client = PipeClient.connect(server.name(), Duration.ofSeconds(10));
        return new Pipe[] {accepted.get(20, SECONDS), client};
    }

    // ---- defect 2: connect honours its deadline when the backlog is full ----

    @Test
    void connectWithATimeoutGivesUpWhenTheBacklogStaysFull() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (PipeServer server = PipeServer.bind(TestPipes.freshName("backlog"),
                    PipeOptions.defaults().withAcceptBacklog(1))) { // never accepts
                List<Pipe> queued = new ArrayList<>();
                try {
                    PipeTimeoutException timeout = null;
                    for (int i = 0; i < 20 && timeout == null; i++) {
                        long t0 = System.nanoTime();
                        try {
                            queued.add(PipeClient.connect(server.name(), Duration.ofMillis(300)));
                        } catch (PipeTimeoutException e) {
                            timeout = e;
                            long took = System.nanoTime() - t0;
                            assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(250) && took < TimeUnit.SECONDS.toNanos(3),
                                    "gave up after " + took / 1_000_000 + " ms");
                        }
                    }
                    assertTrue(timeout != null, "a full backlog must end in a timeout");
                    assertTrue(timeout.getMessage().contains("EAGAIN"), timeout.getMessage());
                } finally {
                    for (Pipe p : queued) {
                        p.close();
                    }
                }
            }
        });
    }

    // ---- defect 3 (and 9): out of descriptors ----

    private static void setSoftFileLimit(long limit) throws Exception {
        Process p = new ProcessBuilder("prlimit", "--pid", Long.toString(ProcessHandle.current().pid()),
                "--nofile=" + limit + ":").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, SECONDS) && p.exitValue() == 0, "prlimit failed: " + out);
    }

    private static long softFileLimit() throws Exception {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring(26).trim().split("\\s+")[0]);
            }
        }
        throw new AssertionError("no open-file limit in /proc/self/limits");
    }

    @Test
    void atTheDescriptorLimitAcceptBacksOffNamesEmfileAndLaterServesEveryone() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(Path.of("/usr/bin/prlimit")),
                "needs prlimit (util-linux) to lower this JVM's open-file limit");
        int clients = 20;
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("emfile"),
                PipeOptions.defaults().withAcceptBacklog(64));
             Arena arena = Arena.ofShared()) {
            List<Pipe> clientPipes = new ArrayList<>();
            List<Pipe> served = new ArrayList<>();
            // warm up what opens descriptors once
            Pipe[] warm = pair(server);
            warm[0].close();
            warm[1].close();
            int fdsBefore = TestPipes.awaitFds(Integer.MAX_VALUE);
            for (int i = 0; i < clients; i++) {
                clientPipes.add(PipeClient.connect(server.name())); // queued in the backlog
            }
            long saved = softFileLimit();
            List<FileChannel> fillers = new ArrayList<>();
            PipeException limit = null;
            long waited = 0;
            try {
                setSoftFileLimit(TestPipes.openFds() + 32); // closing the fillers frees enough to run prlimit again
                // The JVM may free a descriptor of its own meanwhile (lazily closed ones), so fill, try,
                // and fill again if an accept got through.
                for (int attempt = 0; attempt < 5 && limit == null; attempt++) {
                    try {
                        while (true) {
                            fillers.add(FileChannel.open(Path.of("/dev/null"), StandardOpenOption.READ));
                        }
                    } catch (IOException full) {
                        // the process is at its limit now
                    }
                    long t0 = System.nanoTime();
                    try {
                        served.add(server.accept(Duration.ofMillis(400)));
                    } catch (PipeException e) {
                        limit = e;
                        waited = System.nanoTime() - t0;
                    }
                }
            } finally {
                for (FileChannel f : fillers) {
                    f.close();
                }
                setSoftFileLimit(saved);
            }
            assertTrue(limit != null, "accept at the descriptor limit must fail");
            assertEquals("EMFILE", limit.symbolicName(), limit.getMessage());
            String lower = limit.getMessage().toLowerCase(Locale.ROOT);
            assertEquals(lower.indexOf("too many open files"), lower.lastIndexOf("too many open files"),
                    "says it once: " + limit.getMessage());
            assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(300), "backed off until the deadline, not at once: "
                    + waited / 1_000_000 + " ms");

            MemorySegment buf = arena.allocate(1);
            while (served.size() < clients) {
                served.add(server.accept(Duration.ofSeconds(10)));
            }
            for (int i = 0; i < clients; i++) {
                clientPipes.get(i).outputStream().write(i);
            }
            for (Pipe s : served) {
                assertEquals(1, s.read(buf, Duration.ofSeconds(5)), "every queued client is served");
            }
            for (Pipe p : clientPipes) {
                p.close();
            }
            for (Pipe p : served) {
                p.close();
            }
            int after = TestPipes.awaitFds(fdsBefore);
            assertTrue(after <= fdsBefore, "descriptors back to " + fdsBefore + ", not " + after);
        }
    }

    // ---- defect 5: maxInstances ----

    @Test
    void maxInstancesBoundsTheConnectionsHandedOut() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("max"),
                PipeOptions.defaults().withMaxInstances(1))) {
            Pipe[] first = pair(server);
            try (Pipe c2 = PipeClient.connect(server.name(), Duration.ofSeconds(5))) {
                long t0 = System.nanoTime();
                assertThrows(PipeTimeoutException.class, () -> server.accept(Duration.ofMillis(300)));
                assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250));
                first[0].close();
                first[1].close();
                try (Pipe s2 = server.accept(Duration.ofSeconds(5))) {
                    c2.outputStream().write(5);
                    assertEquals(5, s2.inputStream().read());
                }
            }
        }
    }

    @Test
    void aPipeFromALimitedServerHalfClosesLikeAnyOther() throws Exception {
        // The slot-tracking wrapper once forwarded too little: shutdownOutput fell through to the
        // Windows default and threw UnsupportedOperationException.
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("max-half"),
                PipeOptions.defaults().withMaxInstances(2))) {
            Pipe[] p = pair(server);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                s.outputStream().write(3);
                s.shutdownOutput();
                assertEquals(3, c.inputStream().read());
                assertEquals(-1, c.inputStream().read(), "end of stream after the half-close");
                c.outputStream().write(4);
                assertEquals(4, s.inputStream().read(), "reading goes on");
            }
        }
    }

    // ---- defect 7: one contract for a gone peer ----

    @Test
    void aResetPeerIsEndOfStreamAndAWriteToAGonePeerIsEpipe() throws Exception {
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("reset"));
             Arena arena = Arena.ofShared()) {
            Pipe[] p = pair(server);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                c.write(arena.allocate(16)); // s never reads it: closing s with unread data resets the connection
                s.close();
                assertEquals(-1, c.read(arena.allocate(8), Duration.ofSeconds(5)), "a reset is end of stream");
            }
            p = pair(server);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                s.close();
                MemorySegment big = arena.allocate(1 << 16);
                PipeException e = assertThrows(PipeException.class, () -> {
                    for (int i = 0; i < 100; i++) {
                        c.write(big);
                    }
                });
                assertEquals("EPIPE", e.symbolicName(), e.getMessage());
            }
        }
    }

    // ---- defect 11: a write of 2 GiB or more ----

    @Test
    void aWriteOfMoreThanTwoGibibytesSendsItAll() throws Exception {
        long size = (1L << 31) + 1;
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("huge"));
             Arena arena = Arena.ofConfined()) { // confined to the writer: no engine needs to stage it
            Pipe[] p = pair(server);
            try (Pipe s = p[0]; Pipe c = p[1]) {
                AtomicLong received = new AtomicLong();
                Thread reader = Thread.ofPlatform().start(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment buf = a.allocate(1 << 20);
                        for (int n; (n = s.read(buf)) > 0; ) {
                            received.addAndGet(n);
                        }
                    } catch (IOException e) {
                        // end
                    }
                });
                MemorySegment huge = arena.allocate(size);
                int written = c.write(huge);
                assertEquals(Integer.MAX_VALUE, written, "write reports at most Integer.MAX_VALUE");
                c.close();
                reader.join(60_000);
                assertEquals(size, received.get(), "every byte arrived");
            }
        }
    }

    // ---- defect 4: MESSAGE mode's documented limit ----

    @Test
    void aMessageOverTheSendBufferFailsWithEmsgsizeAndThePipeStaysUsable() throws Exception {
        PipeOptions message = PipeOptions.defaults().withMode(io.panapipe.PipeMode.MESSAGE);
        if (TestPipes.engine().equals("nio")) {
            assertThrows(UnsupportedOperationException.class, () -> PipeServer.bind(TestPipes.freshName("msg"), message));
            return;
        }
        try (PipeServer server = PipeServer.bind(TestPipes.freshName("msg"), message);
             Arena arena = Arena.ofShared()) {
            CompletableFuture<Pipe> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept(Duration.ofSeconds(20));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (Pipe c = PipeClient.connect(server.name(), message, Duration.ofSeconds(10));
                 Pipe s = accepted.get(20, SECONDS)) {
                PipeException e = assertThrows(PipeException.class, () -> c.write(arena.allocate(8 << 20)));
                assertEquals("EMSGSIZE", e.symbolicName(), e.getMessage());
                assertTrue(e.getMessage().contains("withBufferSizes"), e.getMessage());
                MemorySegment small = arena.allocate(100);
                c.write(small);
                assertEquals(100, s.read(arena.allocate(1000), Duration.ofSeconds(5)), "nothing of the big one arrived");
                assertTrue(s.isMessageComplete());
            }
        }
    }

    // ---- defect 9: names ----

    @Test
    void invisibleCharactersAreRejectedInNames() {
        for (String bad : new String[] {"a\u0085b", "a\u202Eb", "a\u200Bb", "a\u2028b", "a\u009Fb"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PipeName.of(bad));
            assertTrue(e.getMessage().contains("illegal character"), e.getMessage());
        }
        assertInstanceOf(PipeName.class, PipeName.of("caf\u00e9-\u65e5\u672c"));
    }
}
