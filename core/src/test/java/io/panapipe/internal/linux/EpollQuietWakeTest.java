package io.panapipe.internal.linux;

import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.Operation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many readers parked on one quiet sub-poller, woken together: the master serves the set itself
 * and, when the set holds more ready sockets than one {@code epoll_wait} takes, hands the rest to
 * the sub-poller. Every reader must wake, including those whose edges the master took (an engine
 * whose pollers take 2 events per call, so 8 sockets made ready at once are a flood).
 */
@EnabledOnOs(OS.LINUX)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EpollQuietWakeTest {
    private static final int CONNECTIONS = 8;

    @Test
    void readersWokenTogetherAfterAQuietSpellAllWakeEvenWhenTheyOverflowOneBatch() throws Exception {
        EpollEngine engine = EpollEngine.createPrivate(1, new SpinPolicy(0), 2);
        PipeName name = PipeName.of("epoll-quiet-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        List<PipeChannel> clients = new ArrayList<>();
        List<PipeChannel> served = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            for (int i = 0; i < CONNECTIONS; i++) {
                CompletableFuture<Transport> accepted = Accepts.async(server);
                clients.add(new PipeChannel(engine.connect(name, PipeOptions.defaults()), PipeMode.BYTE, 4096));
                served.add(new PipeChannel(accepted.get(10, TimeUnit.SECONDS), PipeMode.BYTE, 4096));
            }
            MemorySegment one = arena.allocate(1);
            for (int round = 0; round < 5; round++) {
                List<CompletableFuture<Object>> reads = new ArrayList<>();
                for (PipeChannel s : served) {
                    MemorySegment buf = arena.allocate(1);
                    CompletableFuture<Object> r = new CompletableFuture<>();
                    Thread.ofVirtual().start(() -> {
                        try {
                            r.complete(s.read(buf, TimeUnit.SECONDS.toNanos(10)));
                        } catch (Throwable t) {
                            r.complete(t);
                        }
                    });
                    reads.add(r);
                }
                for (int i = 0; i < 500 && engine.pollers.parkedOn(0) < CONNECTIONS; i++) { // one sub-poller: any key is its
                    Thread.sleep(2);
                }
                Thread.sleep(50); // every reader asleep, the set quiet for longer than the spell
                long before = engine.pollers.servedByMaster();
                for (PipeChannel c : clients) {
                    c.write(one, Operation.NO_TIMEOUT);
                }
                for (int i = 0; i < CONNECTIONS; i++) {
                    assertEquals(1, reads.get(i).get(20, TimeUnit.SECONDS), "round " + round + ": reader " + i + " woke");
                }
                assertTrue(engine.pollers.servedByMaster() > before, "round " + round + ": the master served the quiet set");
            }
        } finally {
            for (PipeChannel c : clients) {
                c.close();
            }
            for (PipeChannel s : served) {
                s.close();
            }
            server.gate().startClose();
            server.release();
        }
    }
}
