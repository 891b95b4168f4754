package io.panapipe.engine;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeEngine;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * PipeEngine: the running engine's name and capabilities, checked against what the engine really
 * does (runs on the default engine and, in its own surefire execution, on nio); bad and
 * impossible engine choices in child JVMs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipeEngineTest {
    @Test
    void capabilitiesMatchWhatTheEngineDoes() throws Exception {
        PipeEngine engine = PipeEngine.current();
        String forced = System.getProperty(PipeEngine.PROPERTY);
        if (forced != null) {
            assertEquals(forced, engine.name());
            assertTrue(engine.fallbackReason().isEmpty(), "a forced engine is no fallback");
        }
        PipeName name = PipeName.of("engine-" + ProcessHandle.current().pid());
        PipeOptions message = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        if (engine.supportsMessageMode()) {
            try (PipeServer server = PipeServer.bind(name, message)) {
                assertTrue(server.isOpen());
            }
        } else {
            assertThrows(UnsupportedOperationException.class, () -> PipeServer.bind(name, message).close());
        }
        try (PipeServer server = PipeServer.bind(name);
             Pipe client = PipeClient.connect(name, Duration.ofSeconds(5));
             Pipe accepted = server.accept(Duration.ofSeconds(5))) {
            if (engine.supportsPeerProcessId()) {
                assertEquals(ProcessHandle.current().pid(), accepted.peerProcessId());
                assertEquals(ProcessHandle.current().pid(), client.peerProcessId());
            } else {
                assertThrows(UnsupportedOperationException.class, accepted::peerProcessId);
            }
        }
        assertTrue(engine.toString().startsWith("PipeEngine[" + engine.name()), engine.toString());
        if (forced == null && OS.LINUX.isCurrentOs() && engine.fallbackReason().isEmpty()) {
            // the automatic choice on Linux
            assertEquals("epoll", engine.name());
            assertTrue(engine.supportsMessageMode());
            assertTrue(engine.supportsPeerProcessId());
        }
    }

    private static List<String> runChild(String... jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), EngineChoiceChild.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child JVM did not finish");
        return new String(out, StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void aBadEngineNameIsAnIllegalArgumentExceptionNamingTheAllowedValues() throws Exception {
        List<String> lines = runChild("--enable-native-access=ALL-UNNAMED", "-D" + PipeEngine.PROPERTY + "=bogus");
        List<String> threw = lines.stream().filter(l -> l.startsWith("threw ")).toList();
        assertEquals(2, threw.size(), String.join("\n", lines));
        for (String line : threw) {
            assertTrue(line.startsWith("threw java.lang.IllegalArgumentException: "), line);
            assertTrue(line.contains("bogus") && line.contains("auto") && line.contains("io_uring")
                    && line.contains("nio"), line);
        }
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void anImpossibleEngineIsAnIllegalStateException() throws Exception {
        List<String> lines = runChild("--enable-native-access=ALL-UNNAMED", "-D" + PipeEngine.PROPERTY + "=iocp");
        List<String> threw = lines.stream().filter(l -> l.startsWith("threw ")).toList();
        assertEquals(2, threw.size(), String.join("\n", lines));
        assertTrue(threw.get(1).startsWith("threw java.lang.IllegalStateException: "), threw.get(1));
    }

    /**
     * Where native access is denied (JDK 24+), epoll cannot be set up: the automatic choice
     * falls back to nio, says why, and logs it once.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void aFallbackSaysWhyAndIsLoggedOnce() throws Exception {
        assumeTrue(Runtime.version().feature() >= 24, "--illegal-native-access needs JDK 24");
        List<String> lines = runChild("--illegal-native-access=deny");
        String all = String.join("\n", lines);
        List<String> engines = lines.stream().filter(l -> l.startsWith("engine=")).toList();
        assertEquals(2, engines.size(), all);
        assertTrue(engines.get(0).startsWith("engine=nio message=false fallback=epoll is unavailable: "), all);
        long logged = lines.stream().filter(l -> l.contains("Panapipe uses the nio engine: epoll is unavailable")).count();
        assertEquals(1, logged, all);
    }
}
