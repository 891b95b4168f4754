package io.panapipe.contract;

import io.panapipe.Pipe;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.internal.Engines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Peers in other processes: a killed Java child, and non-Java programs (socat, python3). */
@Timeout(value = 90, unit = SECONDS)
@DisabledOnOs(OS.WINDOWS) // the peers here speak Unix sockets; the Windows suite has its own cross-process tests
class CrossProcessTest {

    @Test
    void aKilledChildMeansEndOfStreamAndTheServerGoesOn() throws Exception {
        PipeName name = TestPipes.freshName("kill");
        try (PipeServer server = PipeServer.bind(name); Arena arena = Arena.ofShared()) {
            // warm up everything that opens fds once (engine, poller, class loading)
            Process warm = startChild(name);
            Pipe w = server.accept(Duration.ofSeconds(30));
            warm.destroyForcibly().waitFor();
            drain(w, arena);
            w.close();
            int fdsBefore = TestPipes.awaitFds(Integer.MAX_VALUE);

            for (int round = 0; round < 3; round++) {
                Process child = startChild(name);
                Pipe pipe = server.accept(Duration.ofSeconds(30));
                MemorySegment buf = arena.allocate(4096);
                int got = 0;
                while (got < 10_000) {
                    int n = pipe.read(buf, Duration.ofSeconds(10));
                    assertTrue(n > 0);
                    got += n;
                }
                if (!Engines.get().name().equals("nio")) { // the JDK's channel does not expose the peer's pid
                    assertEquals(child.pid(), pipe.peerProcessId());
                }
                child.destroyForcibly(); // SIGKILL: no goodbye from the child
                assertTrue(child.waitFor(10, SECONDS));
                drain(pipe, arena);      // reads what was in flight, then -1
                assertEquals(-1, pipe.read(buf, Duration.ofSeconds(5)));
                MemorySegment big = arena.allocate(1 << 16);
                assertThrows(IOException.class, () -> {
                    for (int i = 0; i < 100; i++) {
                        pipe.write(big);
                    }
                });
                pipe.close();
            }
            // the server still serves
            Process last = startChild(name);
            try (Pipe pipe = server.accept(Duration.ofSeconds(30))) {
                assertTrue(pipe.read(arena.allocate(16), Duration.ofSeconds(10)) > 0);
            } finally {
                last.destroyForcibly().waitFor();
            }
            int fdsAfter = TestPipes.awaitFds(fdsBefore);
            assertTrue(fdsAfter <= fdsBefore, "fds before " + fdsBefore + ", after " + fdsAfter);
        }
    }

    @Test
    void socatTalksToAPanapipeServer() throws Exception {
        PipeName name = TestPipes.freshName("socat");
        try (PipeServer server = PipeServer.bind(name)) {
            CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
                try (Pipe pipe = server.accept(Duration.ofSeconds(30))) {
                    byte[] line = readLine(pipe);
                    pipe.outputStream().write(("echo: " + new String(line, StandardCharsets.UTF_8) + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Process socat = new ProcessBuilder("socat", "-t", "5", "-", "UNIX-CONNECT:" + name.osPath())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            socat.getOutputStream().write("hello from socat\n".getBytes(StandardCharsets.UTF_8));
            socat.getOutputStream().flush();
            BufferedReader out = new BufferedReader(new InputStreamReader(socat.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("echo: hello from socat", out.readLine());
            socat.getOutputStream().close();
            assertTrue(socat.waitFor(10, SECONDS));
            echo.get(10, SECONDS);
        }
    }

    @Test
    void python3KeepsMessageBoundariesWithAPanapipeMessageServer() throws Exception {
        if (Engines.get().name().equals("nio")) {
            return; // MESSAGE mode is refused by the nio engine (see PipeContractTest)
        }
        PipeOptions options = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        PipeName name = TestPipes.freshName("py");
        try (PipeServer server = PipeServer.bind(name, options); Arena arena = Arena.ofShared()) {
            String script = String.join("\n",
                    "import socket, sys",
                    "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)",
                    "s.connect(sys.argv[1])",
                    "for m in [b'one', b'', b'three!', b'x' * 5000]:",
                    "    s.send(m)",
                    "reply = s.recv(65536)",
                    "print(reply.decode())",
                    "s.close()");
            Process py = new ProcessBuilder("python3", "-c", script, name.osPath())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (Pipe pipe = server.accept(Duration.ofSeconds(30))) {
                MemorySegment buf = arena.allocate(8192);
                List<Integer> sizes = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    sizes.add(pipe.read(buf, Duration.ofSeconds(10)));
                    assertTrue(pipe.isMessageComplete());
                }
                assertEquals(List.of(3, 0, 6, 5000), sizes);
                pipe.write(MemorySegment.ofArray("got 4 messages".getBytes(StandardCharsets.UTF_8)));
                BufferedReader out = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
                assertEquals("got 4 messages", out.readLine());
            } finally {
                assertTrue(py.waitFor(10, SECONDS));
            }
        }
    }

    private static byte[] readLine(Pipe pipe) throws IOException {
        var line = new java.io.ByteArrayOutputStream();
        for (int b; (b = pipe.inputStream().read()) != '\n'; ) {
            if (b < 0) {
                break;
            }
            line.write(b);
        }
        return line.toByteArray();
    }

    private static void drain(Pipe pipe, Arena arena) throws IOException {
        MemorySegment buf = arena.allocate(1 << 16);
        while (pipe.read(buf, Duration.ofSeconds(10)) >= 0) {
            // what the child wrote before it died
        }
    }

    private static Process startChild(PipeName name) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-Dpanapipe.engine=" + Engines.get().name(),
                "-cp", System.getProperty("java.class.path"), ChildClient.class.getName(), name.osPath())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        assertTrue(first != null && first.startsWith("connected"), "child said " + first);
        return p;
    }
}
