package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongToIntFunction;

/**
 * The engine side of {@link io.panapipe.windows.IocpHandle}: a handle the caller opened and
 * issues requests on itself, associated with the engine's port and waited for through the same
 * {@link OverlappedIo} rules as the pipes. Two lanes, so one read and one write can be in flight.
 * The handle is not closed here: its owner does that, after {@link #close()}.
 */
public final class ForeignHandle implements AutoCloseable {
    private final IocpEngine engine;
    private final long handle;
    private final IoGate gate = new IoGate();
    private final Arena arena = Arena.ofShared();
    private final OverlappedIo[] lanes = new OverlappedIo[2];
    private final ReentrantLock[] locks = {new ReentrantLock(), new ReentrantLock()};
    private final ReentrantLock closeLock = new ReentrantLock();

    /** @param socket a Winsock {@code SOCKET} (failures read with {@code WSAGetOverlappedResult}) rather than a HANDLE */
    ForeignHandle(IocpEngine engine, long handle, boolean socket) throws PipeException {
        this.engine = engine;
        this.handle = handle;
        try (Arena local = Arena.ofConfined()) {
            engine.port().associate(handle, engine.api().newCapture(local));
        }
        try {
            lanes[0] = engine.newIo(arena, handle, gate, socket);
            lanes[1] = engine.newIo(arena, handle, gate, socket);
        } catch (RuntimeException e) {
            if (lanes[0] != null) {
                engine.releaseIo(lanes[0]); // never armed: nothing in flight
            }
            arena.close();
            throw e;
        }
    }

    /**
     * Issues a request on lane 0 or 1 and waits for it (cancelling it with {@code CancelIoEx} on
     * timeout, interrupt or close, then waiting for its completion).
     *
     * @param lane 0 (reads) or 1 (writes)
     * @param issue gets the OVERLAPPED address; returns 0 on synchronous success, else the error
     *              code the call reported ({@code 997} when pending)
     * @param timeoutNanos how long to wait before cancelling, or
     *              {@link io.panapipe.internal.completion.Operation#NO_TIMEOUT}
     * @return bytes transferred
     * @throws IOException a {@link PipeException} with the request's error code,
     *         {@link io.panapipe.PipeTimeoutException}, {@link java.nio.channels.ClosedByInterruptException},
     *         or {@link ClosedChannelException}/{@link java.nio.channels.AsynchronousCloseException} once closed
     */
    public int run(int lane, LongToIntFunction issue, long timeoutNanos) throws IOException {
        ReentrantLock lock = locks[lane];
        lock.lock();
        try {
            gate.enter();
            try {
                OverlappedIo io = lanes[lane];
                io.runCustom(issue, timeoutNanos);
                if (io.error() == WinError.ERROR_SUCCESS || io.error() == WinError.ERROR_MORE_DATA || io.bytes() > 0) {
                    return io.bytes();
                }
                if (io.outcome() != Operation.COMPLETED) {
                    throw NamedPipeTransport.interrupted(io.outcome(), "overlapped request", io.bytes());
                }
                throw WinError.exception("overlapped request", io.error());
            } finally {
                gate.exit();
            }
        } catch (ClosedChannelException e) {
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** Cancels what is in flight, waits for it, and returns the slots. Idempotent. */
    @Override
    public void close() {
        closeLock.lock();
        try {
            if (!gate.startClose()) {
                return;
            }
            lanes[0].operation().wakeWaiter();
            lanes[1].operation().wakeWaiter();
            gate.awaitIdle();
            engine.releaseIo(lanes[0]);
            engine.releaseIo(lanes[1]);
            engine.closeArena(arena, lanes[0], lanes[1]); // kept if a slot in it was retired
        } finally {
            closeLock.unlock();
        }
    }

    long handle() {
        return handle;
    }
}
