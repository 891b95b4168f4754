package io.panapipe.contract;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 12: other local users, and other binders of the same name. Runs on every Unix engine (the
 * build runs the contract package once per engine). The tests with a second user need root, to
 * create that user; they are skipped with the reason otherwise.
 */
@Timeout(value = 90, unit = SECONDS)
@DisabledOnOs(OS.WINDOWS)
class UnixSecurityTest {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private final List<Path> cleanup = new ArrayList<>();
    private final List<Process> children = new ArrayList<>();
    private String savedDir;

    private Path scratch(String what) {
        Path p = Path.of("/tmp", "pp-" + what + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
        cleanup.add(p);
        return p;
    }

    private void useDirectory(Path dir) {
        savedDir = System.getProperty("panapipe.dir");
        System.setProperty("panapipe.dir", dir.toString());
    }

    @AfterEach
    void tidy() throws Exception {
        if (savedDir != null) {
            System.setProperty("panapipe.dir", savedDir);
        } else {
            System.clearProperty("panapipe.dir");
        }
        for (Process p : children) {
            p.destroyForcibly().waitFor(10, SECONDS);
        }
        for (Path p : cleanup) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                try (var walk = Files.walk(p)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }

    private Process squatter(Path socket, String... more) throws Exception {
        String[] args = new String[more.length + 1];
        args[0] = socket.toString();
        System.arraycopy(more, 0, args, 1, more.length);
        Process p = OtherUser.java(Squatter.class, args);
        children.add(p);
        OtherUser.awaitReady(p);
        return p;
    }

    // ---- defect 1: the client of a logical name trusts only its own directory and its own user ----

    @Test
    void aClientRefusesADirectorySquattedByAnotherUser() throws Exception {
        OtherUser.require();
        Path dir = scratch("squat");
        Path socket = dir.resolve("svc");
        squatter(socket); // the other user creates the directory (0777) and listens in it
        assertEquals(OtherUser.otherUid(), (Integer) Files.getAttribute(dir, "unix:uid"));
        useDirectory(dir);
        PipeName name = PipeName.of("svc");
        assertEquals(socket, name.socketPath());

        PipeException e = assertThrows(PipeException.class, () -> PipeClient.connect(name, Duration.ofSeconds(2)));
        assertEquals("EACCES", e.symbolicName(), e.getMessage());
        assertTrue(e.getMessage().contains(OtherUser.NAME), "names the owner: " + e.getMessage());
        assertTrue(e.getMessage().contains("panapipe.dir"), "says how to recover: " + e.getMessage());
        PipeException s = assertThrows(PipeException.class, () -> PipeServer.bind(name));
        assertTrue(s.getMessage().contains(OtherUser.NAME), s.getMessage());
        Thread.sleep(200);
        assertFalse(Files.exists(Path.of(socket + ".got")), "the squatter received nothing");

        // a symbolic link to the squatter's directory is refused as well, whoever made it
        Path link = scratch("link");
        Files.createSymbolicLink(link, dir);
        useDirectory(link);
        PipeException l = assertThrows(PipeException.class, () -> PipeClient.connect(PipeName.of("svc")));
        assertTrue(l.getMessage().contains("symbolic link"), l.getMessage());
    }

    @Test
    void aClientOfALogicalNameRefusesAServerOfAnotherUserButAnExplicitPathAsksFirst() throws Exception {
        OtherUser.require();
        Path mine = scratch("own");
        Files.createDirectory(mine, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path theirs = scratch("theirs").resolve("svc");
        squatter(theirs);
        Path planted = mine.resolve("svc");
        Files.move(theirs, planted); // the other user's listener, reachable from this user's own directory
        useDirectory(mine);

        PipeException e = assertThrows(PipeException.class, () -> PipeClient.connect(PipeName.of("svc")));
        assertEquals("EACCES", e.symbolicName(), e.getMessage());
        assertTrue(e.getMessage().contains(OtherUser.NAME), "names the server's user: " + e.getMessage());

        // an explicit path keeps today's behaviour (system services run as other users) ...
        try (Pipe p = PipeClient.connect(PipeName.ofSocketPath(planted))) {
            byte[] hello = p.inputStream().readNBytes(6);
            assertEquals("gotcha", new String(hello));
        }
        // ... unless the option asks
        PipeException v = assertThrows(PipeException.class, () -> PipeClient.connect(PipeName.ofSocketPath(planted),
                PipeOptions.defaults().withVerifyServerUser(true)));
        assertTrue(v.getMessage().contains(OtherUser.NAME), v.getMessage());
    }

    // ---- defect 8: the fallback directory is keyed on the uid ----

    @Test
    void theFallbackDirectoryIsKeyedOnTheUid() throws Exception {
        assumeTrue(System.getenv("XDG_RUNTIME_DIR") == null || System.getenv("XDG_RUNTIME_DIR").isEmpty(),
                "XDG_RUNTIME_DIR is set, so the fallback directory is not used");
        savedDir = System.getProperty("panapipe.dir");
        System.clearProperty("panapipe.dir");
        Path dir = PipeName.of("x").socketPath().getParent();
        assertEquals("panapipe-" + OtherUser.uid(), dir.getFileName().toString());
        assertEquals(Path.of(System.getProperty("java.io.tmpdir")), dir.getParent());
    }

    // ---- defect 11: another user's dead socket in a shared directory ----

    @Test
    void bindingOverAnotherUsersDeadSocketNamesEpermAndTheOwner() throws Exception {
        OtherUser.require();
        Path shared = scratch("shared");
        Files.createDirectory(shared);
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setAttribute(shared, "unix:mode", 01777); // sticky, like /tmp
        Path socket = shared.resolve("svc.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(socket));
        dead.close(); // root's dead socket
        Process p = OtherUser.java(TryBind.class, socket.toString());
        children.add(p);
        OtherUser.awaitReady(p);
        String result = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        assertTrue(result != null && result.startsWith("PipeException EPERM"), String.valueOf(result));
        assertTrue(result.contains("root"), "names the owner: " + result);
    }

    // ---- defect 10: racing binders, and who removes the file ----

    @Test
    void binderRacingOverAStaleSocketExactlyOneWins() throws Exception {
        for (int round = 0; round < 40; round++) {
            PipeName name = TestPipes.freshName("race");
            try (PipeServer warm = PipeServer.bind(TestPipes.freshName("mkdir"))) {
                assertTrue(warm.isOpen()); // the private directory exists
            }
            ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            stale.bind(UnixDomainSocketAddress.of(name.socketPath()));
            stale.close();

            int racers = 6;
            CountDownLatch go = new CountDownLatch(1);
            ConcurrentLinkedQueue<PipeServer> winners = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Throwable> losers = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        winners.add(PipeServer.bind(name));
                    } catch (Throwable t) {
                        losers.add(t);
                    }
                }));
            }
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            try {
                assertEquals(1, winners.size(), "round " + round + ": exactly one binder wins; losers: " + losers);
                for (Throwable t : losers) {
                    assertTrue(t instanceof PipeException p && p.symbolicName().equals("EADDRINUSE"), String.valueOf(t));
                }
                PipeServer winner = winners.peek();
                try (Pipe c = PipeClient.connect(name); Pipe s = winner.accept(Duration.ofSeconds(5))) {
                    c.outputStream().write(7);
                    assertEquals(7, s.inputStream().read());
                }
            } finally {
                for (PipeServer s : winners) {
                    s.close();
                }
            }
            assertFalse(Files.exists(name.socketPath()), "the winner's close removes its file");
        }
    }

    @Test
    void aServerInAnotherProcessHoldsTheNameUntilItDiesThenItsStaleFileIsReplaced() throws Exception {
        PipeName name = TestPipes.freshName("held");
        try (PipeServer warm = PipeServer.bind(TestPipes.freshName("mkdir"))) {
            assertTrue(warm.isOpen());
        }
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-D" + io.panapipe.internal.Engines.PROPERTY + "=" + TestPipes.engine(),
                "-cp", System.getProperty("java.class.path"), HoldBind.class.getName(), name.osPath());
        Process holder = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        children.add(holder);
        OtherUser.awaitReady(holder);
        PipeException inUse = assertThrows(PipeException.class, () -> PipeServer.bind(name));
        assertEquals("EADDRINUSE", inUse.symbolicName(), inUse.getMessage());
        holder.destroyForcibly().waitFor(10, SECONDS); // SIGKILL: no clean-up; the kernel drops its lock
        assertTrue(Files.exists(name.socketPath()), "a killed server leaves its socket file");
        try (PipeServer server = PipeServer.bind(name);
             Pipe c = PipeClient.connect(name);
             Pipe s = server.accept(Duration.ofSeconds(5))) {
            c.outputStream().write(4);
            assertEquals(4, s.inputStream().read());
        }
    }

    @Test
    void closeRemovesTheSocketFileOnlyIfItIsStillTheServersOwn() throws Exception {
        PipeName name = TestPipes.freshName("own");
        PipeServer server = PipeServer.bind(name);
        Path path = name.socketPath();
        Files.delete(path);
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(path)); // someone else's socket now has the path
            server.close();
            assertTrue(Files.exists(path), "close must not delete a socket file that is no longer its own");
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                assertTrue(c.isConnected());
            }
        } finally {
            Files.deleteIfExists(path);
        }
    }

    @Test
    void aDeletedListenerStillInTheKernelsTableDoesNotBlockTheName() throws Exception {
        PipeName name = TestPipes.freshName("ghost");
        try (PipeServer warm = PipeServer.bind(TestPipes.freshName("mkdir"))) {
            assertTrue(warm.isOpen());
        }
        Path path = name.socketPath();
        try (ServerSocketChannel ghost = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ghost.bind(UnixDomainSocketAddress.of(path)); // listening, listed in /proc/net/unix under path
            Files.delete(path);                            // ... but unreachable by path from now on
            ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            stale.bind(UnixDomainSocketAddress.of(path));
            stale.close();                                 // a stale file at the same path
            try (PipeServer server = PipeServer.bind(name);
                 Pipe c = PipeClient.connect(name);
                 Pipe s = server.accept(Duration.ofSeconds(5))) {
                c.outputStream().write(3);
                assertEquals(3, s.inputStream().read());
            }
        }
    }

    // ---- defect 6: the socket never exists with a mode other than its final one ----

    @Test
    void theSocketFileAppearsWithItsFinalMode() throws Exception {
        List<PipeName> names = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            names.add(TestPipes.freshName("mode"));
        }
        try (PipeServer warm = PipeServer.bind(TestPipes.freshName("mkdir"))) {
            assertTrue(warm.isOpen());
        }
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger index = new AtomicInteger();
        ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
        Thread watcher = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                int i = index.get();
                if (i >= names.size()) {
                    break;
                }
                Path p = names.get(i).socketPath();
                try {
                    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0777;
                    if (mode != 0600) {
                        seen.add(p + " had mode " + Integer.toOctalString(mode));
                    }
                } catch (Exception absent) {
                    // not there yet
                }
            }
        });
        try {
            for (int i = 0; i < names.size(); i++) {
                index.set(i);
                Thread.sleep(0, 200_000); // let the watcher start looking at this path
                try (PipeServer s = PipeServer.bind(names.get(i))) {
                    assertEquals(0600, (Integer) Files.getAttribute(s.name().socketPath(), "unix:mode") & 0777);
                }
            }
        } finally {
            done.set(true);
            watcher.join();
        }
        assertTrue(seen.isEmpty(), "seen with another mode: " + seen);
    }
}
