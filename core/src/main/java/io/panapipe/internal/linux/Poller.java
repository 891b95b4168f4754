package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The one platform daemon thread that blocks in the kernel: {@code io_uring_enter(GETEVENTS,
 * min_complete=1)}, then every CQE is matched to its {@link Operation} by {@code user_data}
 * through the {@link OperationTable} and completed, which unparks the waiting thread. Nothing on
 * this path allocates or blocks other than in {@code io_uring_enter} (DESIGN rules 3 and 8).
 *
 * <p>{@code user_data} values at or above {@link #RESERVED} are not operations: cancel requests
 * complete with {@link #CANCEL_TAG} (ignored: the cancelled operation reports its own completion),
 * and {@link #STOP_TAG} ends the loop.
 */
final class Poller implements Runnable, CompletionQueue.Handler {
    /** First {@code user_data} value that is not an operation id. */
    static final long RESERVED = 1L << 62;
    /** {@code user_data} of {@code IORING_OP_ASYNC_CANCEL} requests. */
    static final long CANCEL_TAG = RESERVED;
    /** {@code user_data} of the NOP that stops the poller. */
    static final long STOP_TAG = RESERVED + 1;

    private static final int GETEVENTS = Linux.IORING_ENTER_GETEVENTS();

    private final Ring ring;
    private final OperationTable table;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
    private final Thread thread;
    private volatile boolean stopping;
    private boolean stopSeen; // poller thread only
    private volatile Throwable failure;

    Poller(Ring ring, OperationTable table, String name) {
        this.ring = ring;
        this.table = table;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this);
    }

    void start() {
        thread.start();
    }

    @Override
    public void run() {
        CompletionQueue cq = ring.cq;
        try {
            while (!stopSeen) {
                if (cq.drain(this) != 0) {
                    continue;
                }
                int r = LibC.ioUringEnter(errno, ring.fd, 0, 1, GETEVENTS);
                if (r < 0) {
                    int e = LibC.errno(errno);
                    if (e != Errnos.EINTR && e != Errnos.EAGAIN && e != Errnos.EBUSY) {
                        throw new IllegalStateException("io_uring_enter(GETEVENTS) failed: " + Errnos.describe(e));
                    }
                }
            }
        } catch (Throwable t) {
            failure = t;
            System.getLogger(Poller.class.getName()).log(System.Logger.Level.ERROR,
                    "panapipe io_uring poller stopped", t);
        } finally {
            arena.close();
        }
    }

    @Override
    public void onCompletion(long userData, int res, int flags) {
        if (userData >= RESERVED) {
            if (userData == STOP_TAG) {
                stopSeen = true;
            }
            return; // CANCEL_TAG: the target's own CQE is what its waiter needs
        }
        Operation op = table.get(userData);
        if (op != null) {
            op.complete(res, flags);
        }
    }

    /** Stops the thread and waits for it (tests; the engine's poller lives as long as the JVM). */
    void stop() throws InterruptedException {
        if (!stopping) {
            stopping = true;
            ring.sq.nop(STOP_TAG);
        }
        thread.join();
    }

    Throwable failure() {
        return failure;
    }

    Thread thread() {
        return thread;
    }
}
