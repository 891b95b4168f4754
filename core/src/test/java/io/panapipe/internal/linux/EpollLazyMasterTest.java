package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.Operation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The epoll engine's sub-poller sleeps without arming the master while no virtual thread is parked
 * on its sockets: writes nobody waits for wake no thread, and the next virtual thread to park arms
 * the master, so it is still woken by the next write; after a quiet spell the master serves the set
 * itself. One private engine with one sub-poller and no
 * spinning, so every wait parks.
 */
@EnabledOnOs(OS.LINUX)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollLazyMasterTest {
    private EpollEngine engine;
    private ServerEndpoint server;
    private EpollTransport servedTransport;
    private PipeChannel served;
    private PipeChannel client;
    private Arena arena;
    private EpollPollers pollers;
    /** The served socket's readiness key in {@link #pollers}. */
    private long key;
    /** One byte to write. */
    private MemorySegment one;

    @BeforeEach
    void setUp() throws Exception {
        engine = EpollEngine.createPrivate(1, new SpinPolicy(0));
        PipeName name = PipeName.of("epoll-lazy-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        server = engine.bind(name, PipeOptions.defaults());
        CompletableFuture<Transport> accepted = Accepts.async(server);
        client = new PipeChannel(engine.connect(name, PipeOptions.defaults()), PipeMode.BYTE, 4096);
        servedTransport = (EpollTransport) accepted.get(10, TimeUnit.SECONDS);
        served = new PipeChannel(servedTransport, PipeMode.BYTE, 4096);
        arena = Arena.ofShared();
        pollers = engine.pollers;
        key = servedTransport.readinessKey();
        one = arena.allocate(1);
    }

    @AfterEach
    void tearDown() throws Exception {
        client.close();
        served.close();
        server.gate().startClose();
        server.release();
        arena.close();
    }

    /** Reads one byte on a fresh virtual thread, started now; completes with the count or the failure. */
    private CompletableFuture<Object> readOneVirtual(MemorySegment buf) {
        CompletableFuture<Object> r = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                r.complete(served.read(buf, TimeUnit.SECONDS.toNanos(5)));
            } catch (Throwable t) {
                r.complete(t);
            }
        });
        return r;
    }

    private void awaitParked() throws InterruptedException {
        for (int i = 0; i < 500 && pollers.parkedOn(key) == 0; i++) {
            Thread.sleep(2);
        }
        assertEquals(1, pollers.parkedOn(key), "the reader should be parked by now");
        Thread.sleep(50); // and asleep in park
    }

    /** A reader parks on the served end (and sleeps), then a write from the client wakes it. */
    private void wakeOneParkedReader(int round) throws Exception {
        CompletableFuture<Object> read = readOneVirtual(arena.allocate(1));
        awaitParked();
        client.write(one, Operation.NO_TIMEOUT);
        assertEquals(1, read.get(10, TimeUnit.SECONDS), "round " + round + ": the parked reader woke");
    }

    @Test
    void aReaderWokenAfterAQuietSpellIsServedByTheMasterItself() throws Exception {
        for (int round = 0; round < 3; round++) {
            long before = pollers.servedByMaster(); // the reader then sleeps 50 ms: a quiet spell
            wakeOneParkedReader(round);
            assertEquals(before + 1, pollers.servedByMaster(),
                    "round " + round + ": after a quiet spell the master unparks the reader itself, not the sub-poller");
        }
    }

    @Test
    void withinTheQuietSpellTheSubPollerServesTheSet() throws Exception {
        pollers.quietSpell(TimeUnit.HOURS.toNanos(1)); // no set of this engine will have been quiet that long
        for (int round = 0; round < 3; round++) {
            wakeOneParkedReader(round);
        }
        assertEquals(0, pollers.servedByMaster(), "the master woke the sub-poller every time");
    }

    @Test
    void writesNobodyWaitsForWakeNoThreadAndTheNextParkedReaderStillWakes() throws Exception {
        for (int round = 0; round < 3; round++) {
            // A reader parks (registering the socket on the first round) and is woken by a write.
            wakeOneParkedReader(round);

            // Nobody waits now. The sub-poller may have armed the master once more before the woken
            // reader stopped counting as parked: one write may still wake it, and then it sleeps
            // lazily. From then on, writes wake nobody.
            client.write(one, Operation.NO_TIMEOUT);
            Thread.sleep(100);
            long before = pollers.masterWakes();
            for (int i = 0; i < 20; i++) {
                client.write(one, Operation.NO_TIMEOUT);
                Thread.sleep(2);
            }
            Thread.sleep(50);
            assertEquals(before, pollers.masterWakes(), "round " + round + ": writes nobody waits for woke the master");

            // The bytes are there; reading them takes no wait.
            MemorySegment twentyOne = arena.allocate(21);
            int got = 0;
            while (got < 21) {
                int n = served.read(twentyOne.asSlice(got), TimeUnit.SECONDS.toNanos(5));
                assertTrue(n > 0);
                got += n;
            }
        }
    }
}
