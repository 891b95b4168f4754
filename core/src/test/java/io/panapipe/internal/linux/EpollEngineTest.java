package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The epoll engine's own machinery: the readiness table, the spin policy, a dying poller. */
@EnabledOnOs(OS.LINUX)
class EpollEngineTest {

    private static FdReadiness readiness(EpollEngine engine, Arena arena) {
        return new FdReadiness(engine.pollers, -1, arena, arena.allocate(FdReadiness.SCRATCH_SIZE, 8),
                arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN), arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN));
    }

    @Test
    void aStaleKeyFindsNobodyAfterItsSlotIsReused() throws Exception {
        EpollEngine engine = EpollEngine.createPrivate(1);
        try (Arena arena = Arena.ofConfined()) {
            FdReadiness first = readiness(engine, arena);
            long oldKey = first.key;
            assertSame(first, engine.pollers.table.get(oldKey));
            first.release();
            assertNull(engine.pollers.table.get(oldKey), "removed");
            FdReadiness second = readiness(engine, arena);
            assertEquals((int) oldKey, (int) second.key, "the slot is reused");
            assertFalse(oldKey == second.key, "with a new generation");
            assertNull(engine.pollers.table.get(oldKey), "an event queued for the closed socket finds nobody");
            assertSame(second, engine.pollers.table.get(second.key));
            second.release();
            second.release(); // twice is harmless
        }
    }

    @Test
    void theTableGrowsPastItsFirstSize() throws Exception {
        EpollEngine engine = EpollEngine.createPrivate(1);
        try (Arena arena = Arena.ofConfined()) {
            FdReadiness[] all = new FdReadiness[2000];
            for (int i = 0; i < all.length; i++) {
                all[i] = readiness(engine, arena);
            }
            for (FdReadiness r : all) {
                assertSame(r, engine.pollers.table.get(r.key));
            }
            for (FdReadiness r : all) {
                r.release();
                assertNull(engine.pollers.table.get(r.key));
            }
        }
    }

    @Test
    void spinningStopsWhenItDoesNotPayAndWhileWokenThreadsWait() {
        SpinPolicy p = new SpinPolicy();
        int credit = SpinPolicy.initialCredit();
        assertTrue(credit > 0);
        if (SpinPolicy.SPIN_NANOS > 0) {
            assertTrue(p.tryStart(credit, 1), "a new connection may try");
            p.release();
            int cores = Math.max(1, Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                    Runtime.getRuntime().availableProcessors()));
            for (int i = 0; i < cores; i++) {
                p.woke();
            }
            assertFalse(p.tryStart(credit, 1), "as many woken threads wait as there are carriers: no spinning");
            for (int i = 0; i < cores; i++) {
                p.ran();
            }
            assertTrue(p.tryStart(credit, 1));
            int started = 1;
            while (started < cores && p.tryStart(credit, 1)) {
                started++;
            }
            assertEquals(cores, started, "one spinner per core");
            assertFalse(p.tryStart(credit, 1), "no more spinners than cores");
            for (int i = 0; i < started; i++) {
                p.release();
            }
            p.woke();
            int withOneWoken = 0;
            while (p.tryStart(credit, 1)) {
                withOneWoken++;
            }
            assertEquals(cores - 1, withOneWoken, "a woken thread keeps a core for itself");
            for (int i = 0; i < withOneWoken; i++) {
                p.release();
            }
            p.ran();
        }
        while (credit > 0) {
            credit = SpinPolicy.wasted(credit);
        }
        assertFalse(p.tryStart(credit, 1), "no credit: no spin");
        assertEquals(SpinPolicy.SPIN_NANOS > 0, p.tryStart(credit, 64), "but a re-probe now and then");
        if (SpinPolicy.SPIN_NANOS > 0) {
            p.release();
        }
        assertTrue(SpinPolicy.paid(credit) > credit);
        assertTrue(SpinPolicy.paid(Integer.MAX_VALUE - 1) <= 16, "credit is bounded");
    }

    @Test
    void withFewThreadsParkedAConnectionWithoutCreditReprobesSoonerAndACrowdedSpinEndsAtOnce() {
        SpinPolicy p = new SpinPolicy(20_000);
        int cores = p.cores();
        int[] parked = {0};
        p.countParkedBy(() -> parked[0]);
        assertTrue(p.tryStart(0, 8), "few parked (a ping-pong pair): a re-probe every 8th wait");
        p.release();
        assertFalse(p.tryStart(0, 7));
        parked[0] = cores + 1;
        assertFalse(p.tryStart(0, 8), "more parked than cores: every 64th only");
        assertTrue(p.tryStart(0, 64));
        p.release();

        IoGate gate = new IoGate();
        SpinPolicy.Spinner spinner = p.spinner(gate);
        assertTrue(spinner.retry(), "a fresh connection spins");
        for (int i = 0; i < cores; i++) {
            p.woke(); // woken threads now wait for the core this spin holds
        }
        assertFalse(spinner.retry(), "a crowded spin ends at its next retry");
        spinner.endCall();
        for (int i = 0; i < cores; i++) {
            p.ran();
        }
        assertTrue(p.tryStart(SpinPolicy.initialCredit(), 1), "and it gave its core back");
        p.release();
        assertTrue(spinner.retry(), "no credit lost for it: the next call spins again");
        spinner.endCall();
    }

    @Test
    void aDeadPollerFailsEveryWaiterAndEveryLaterWaitLoudly() throws Exception {
        EpollEngine engine = EpollEngine.createPrivate(1);
        PipeName name = PipeName.of("epoll-dead-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        try {
            CompletableFuture<Transport> accepted = Accepts.async(server);
            PipeChannel client = new PipeChannel(engine.connect(name, PipeOptions.defaults()), PipeMode.BYTE, 4096);
            PipeChannel served = new PipeChannel(accepted.get(10, TimeUnit.SECONDS), PipeMode.BYTE, 4096);
            try (Arena arena = Arena.ofShared()) {
                MemorySegment buf = arena.allocate(16);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread reader = Thread.ofVirtual().start(() -> {
                    try {
                        served.read(buf, -1);
                        failure.set(new AssertionError("the read returned"));
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
                for (int i = 0; i < 200 && reader.getState() != Thread.State.WAITING; i++) {
                    Thread.sleep(10);
                }
                engine.pollers.injectFailure(new OutOfMemoryError("injected for the test"));
                assertTrue(reader.join(Duration.ofSeconds(5)), "the waiting reader woke");
                IOException e = assertInstanceOf(IOException.class, failure.get());
                assertTrue(e.getMessage().contains("poller failed"), e.getMessage());
                assertNotNull(e.getCause());
                assertEquals("injected for the test", e.getCause().getMessage());
                // A later wait fails at once instead of hanging.
                CompletableFuture<Throwable> later = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        served.read(buf, TimeUnit.SECONDS.toNanos(30));
                        later.complete(null);
                    } catch (Throwable t) {
                        later.complete(t);
                    }
                });
                assertInstanceOf(IOException.class, later.get(5, TimeUnit.SECONDS));
                client.close();
                served.close();
            }
        } finally {
            server.gate().startClose();
            server.release();
        }
    }

    @Test
    void autoPicksEpollOnLinuxAndABadNameIsRefused() {
        assertNull(EpollEngine.unavailableReason());
        assertInstanceOf(EpollEngine.class, io.panapipe.internal.Engines.choose("auto"));
        assertThrows(IllegalArgumentException.class, () -> io.panapipe.internal.Engines.choose("bogus"));
    }
}
