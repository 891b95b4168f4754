package io.panapipe.internal.linux;

import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.Operation;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Engine-level behaviour that the public API cannot provoke on purpose. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineInternalsTest {
    @BeforeAll
    static void requireIoUring() {
        assumeTrue(IoUringEngine.unavailableReason() == null);
    }

    /**
     * A request completes through task work of the thread that submitted it. A virtual thread's
     * carrier may exit while the request is pending (the scheduler retires idle carriers); the
     * kernel then completes it with -ECANCELED once it fires, without consuming data. The
     * transport treats such a completion, when nobody asked for a cancel, as "try again" — this
     * test shows the request never hangs and the data stays readable.
     */
    @Test
    void requestOfAnExitedSubmitterCompletesAndLosesNothing() throws Exception {
        IoUringEngine engine = IoUringEngine.instance();
        PipeName name = IoUringPipeTest.freshName("exited");
        ServerEndpoint server = engine.bind(name, PipeOptions.defaults());
        Transport client = engine.connect(name, PipeOptions.defaults());
        UringTransport accepted = (UringTransport) server.accept(TimeUnit.SECONDS.toNanos(5));
        Operation op = engine.table.allocate();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(16);
            Thread submitter = Thread.ofPlatform().start(() -> {
                op.arm();
                engine.sq.recv(accepted.fd(), buf.address(), 16, 0, op.id());
            });
            submitter.join();
            op.adoptWaiter();
            Thread.sleep(20);
            MemorySegment one = arena.allocate(1);
            one.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 42);
            client.write(one, 0, 1, Operation.NO_TIMEOUT);
            op.awaitUninterruptibly();
            int res = op.result();
            System.out.println("recv of an exited submitter completed with " + res);
            if (res == 1) {
                assertEquals(42, buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
            } else {
                assertEquals(-Errnos.ECANCELED, res);
                assertEquals(1, accepted.read(buf, 0, 16, TimeUnit.SECONDS.toNanos(5)));
                assertEquals(42, buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
            }
        } finally {
            if (op.isDone()) {
                engine.table.release(op);
            }
            accepted.gate().startClose();
            accepted.release();
            client.gate().startClose();
            client.release();
            server.gate().startClose();
            server.release();
        }
    }

    @Test
    void errnoNamesComeFromTheBindings() {
        assertEquals("ECONNREFUSED", Errnos.name(Errnos.ECONNREFUSED));
        assertEquals("EAGAIN", Errnos.name(Errnos.EAGAIN));
        assertTrue(Errnos.describe(Errnos.EPERM).startsWith("EPERM (1) "));
    }
}
