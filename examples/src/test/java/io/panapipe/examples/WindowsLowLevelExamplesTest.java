package io.panapipe.examples;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.bindings.windows.Win32;
import io.panapipe.windows.Overlapped;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The low-level Win32 patterns (e): run by the windows-latest CI jobs. */
@EnabledOnOs(OS.WINDOWS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WindowsLowLevelExamplesTest {
    private static String path(String what) {
        return "\\\\.\\pipe\\ex-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    }

    @Test
    void overlappedHelperOwnsAnOverlappedAndAManualResetEvent() throws Exception {
        try (Overlapped ov = new Overlapped()) {
            assertEquals(Overlapped.SIZE, ov.segment().byteSize());
            assertNotEquals(0, ov.event().address());
            assertEquals(Win32.WAIT_TIMEOUT(), Win32.WaitForSingleObject(ov.event(), 0), "starts non-signalled");
            Win32.SetEvent(ov.event());
            assertEquals(Win32.WAIT_OBJECT_0(), Win32.WaitForSingleObject(ov.event(), 0));
            assertEquals(Win32.WAIT_OBJECT_0(), Win32.WaitForSingleObject(ov.event(), 0), "manual reset: stays set");
            ov.reset();
            assertEquals(Win32.WAIT_TIMEOUT(), Win32.WaitForSingleObject(ov.event(), 0));
            assertTrue(ov.isComplete());
        }
        try (Overlapped signalled = new Overlapped(true)) {
            assertEquals(Win32.WAIT_OBJECT_0(), Win32.WaitForSingleObject(signalled.event(), 0));
        }
    }

    @Test
    void eventBasedMultiInstanceServerServesSimultaneousClients() throws Exception {
        String p = path("events");
        PipeOptions message = PipeOptions.defaults().withMode(PipeMode.MESSAGE);
        try (EventMultiInstanceServer server = new EventMultiInstanceServer(p)) {
            CompletableFuture<Integer> serving = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.serve(6, 20_000);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            List<Pipe> clients = new ArrayList<>();
            for (int i = 0; i < EventMultiInstanceServer.INSTANCES; i++) {
                clients.add(PipeClient.connect(PipeName.ofWindowsPath(p), message, Duration.ofSeconds(10)));
            }
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < clients.size(); i++) {
                    byte[] req = ("client " + i + " round " + round).getBytes(StandardCharsets.UTF_8);
                    clients.get(i).write(MemorySegment.ofArray(req));
                    byte[] reply = new byte[256];
                    int n = clients.get(i).read(java.nio.ByteBuffer.wrap(reply));
                    assertEquals(new String(req, StandardCharsets.UTF_8), new String(reply, 0, n, StandardCharsets.UTF_8));
                }
            }
            for (Pipe c : clients) {
                c.close();
            }
            // two more after the first ones left: the instances reconnected
            for (int i = 0; i < 2; i++) {
                try (Pipe c = PipeClient.connect(PipeName.ofWindowsPath(p), message, Duration.ofSeconds(10))) {
                    c.write(MemorySegment.ofArray("again".getBytes(StandardCharsets.UTF_8)));
                    byte[] reply = new byte[16];
                    assertEquals(5, c.read(java.nio.ByteBuffer.wrap(reply)));
                }
            }
            assertEquals(6, serving.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void completionRoutineReadRunsInAnAlertableWait() throws Exception {
        CompletionRoutineRead.Completion c = CompletionRoutineRead.roundTrip(path("apc"), "read by an APC");
        assertEquals(0, c.error());
        assertEquals("read by an APC", c.text());
        assertEquals(c.text().length(), c.bytes());
        assertTrue(c.alertableWaits() >= 1);
    }

    @Test
    void winsockOverlappedThreeWays() throws Exception {
        WinsockOverlapped.startup();
        try {
            try (WinsockOverlapped.SocketPair pair = WinsockOverlapped.pair()) {
                assertEquals("through an event", WinsockOverlapped.viaEvents(pair, "through an event"));
                assertEquals("through a routine", WinsockOverlapped.viaCompletionRoutine(pair, "through a routine"));
            }
            try (WinsockOverlapped.SocketPair pair = WinsockOverlapped.pair()) {
                assertEquals("through the port", WinsockOverlapped.viaCompletionPort(pair, "through the port"));
                assertFalse(Thread.currentThread().isVirtual());
            }
        } finally {
            WinsockOverlapped.cleanup();
        }
    }
}
