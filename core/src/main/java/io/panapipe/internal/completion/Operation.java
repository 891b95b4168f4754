package io.panapipe.internal.completion;

import io.panapipe.PipeTimeoutException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.util.concurrent.locks.LockSupport;

/**
 * One pre-allocated operation slot: a connection has one for reads, one for writes and one for
 * connect/accept, reused for every call, so steady-state I/O allocates nothing.
 *
 * <p>Life of a slot: the owning thread {@link #arm() arms} it, submits the native operation
 * (identified to the kernel by {@link #id()} or by an OVERLAPPED tied to it), then
 * {@link #await awaits}; the engine's poller thread calls {@link #complete} when the kernel
 * reports the completion, which unparks the owner. Between submission and completion the slot
 * and the buffer belong to the kernel: {@code await} never returns before the completion has
 * arrived, whatever ends the wait.
 */
public final class Operation {
    /** {@link #await} outcome: the operation completed on its own. */
    public static final int COMPLETED = 0;
    /** {@link #await} outcome: the deadline passed; the operation was cancelled and has completed. */
    public static final int TIMED_OUT = 1;
    /** {@link #await} outcome: the thread was interrupted; cancelled and completed, interrupt status kept. */
    public static final int INTERRUPTED = 2;
    /** {@link #await} outcome: the handle is closing; cancelled and completed. */
    public static final int CLOSED = 3;

    /** Pass to {@link #await} for no deadline. */
    public static final long NO_TIMEOUT = -1;

    private final int id;
    private volatile boolean done = true;
    private volatile Thread waiter;
    // The memory the submitted request points at, or null; written by the owner before the
    // volatile write of done in arm(), read by an engine whose poller failed (see lent()).
    private MemorySegment lent;
    // Written by the poller before the volatile write of done; read by the owner after reading done.
    private int result;
    private int flags;

    /**
     * A slot, done (not armed) until its first {@link #arm()}.
     *
     * @param id the slot's identifier, see {@link #id()}
     */
    public Operation(int id) {
        this.id = id;
    }

    /**
     * Identifies this slot to the engine (io_uring {@code user_data}, stored beside an OVERLAPPED).
     *
     * @return the slot's identifier
     */
    public int id() {
        return id;
    }

    /** Prepares the slot for a new submission by the current thread, recording no {@link #lent() lent} memory. */
    public void arm() {
        arm(null);
    }

    /**
     * Prepares the slot for a new submission by the current thread whose request points at
     * {@code lent} (the buffer of a read or write), so that an engine whose poller failed can tell
     * whether the memory the kernel may still hold could be freed once the owner returns.
     */
    public void arm(MemorySegment lent) {
        this.lent = lent;
        waiter = Thread.currentThread();
        result = 0;
        flags = 0;
        done = false;
    }

    /** Makes the current thread the one woken by {@link #complete} (e.g. a closer reaping a backlog). */
    public void adoptWaiter() {
        waiter = Thread.currentThread();
    }

    /**
     * Called by the engine's poller when the kernel reports the completion; wakes the owner.
     *
     * @param result engine-defined: bytes transferred, or a negative error code
     * @param flags engine-defined extra bits (io_uring CQE flags, a Windows error marker)
     */
    public void complete(int result, int flags) {
        this.result = result;
        this.flags = flags;
        done = true;
        Thread t = waiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Completes an operation that was never handed to the kernel, or whose result the submitting
     * thread received inline (a synchronous success): no poller is involved.
     *
     * @param result engine-defined: bytes transferred, or a negative error code
     * @param flags engine-defined extra bits
     */
    public void completeInline(int result, int flags) {
        this.result = result;
        this.flags = flags;
        done = true;
    }

    /**
     * The memory the last submission lends the kernel; read after {@link #isDone()}.
     *
     * @return the segment given to {@link #arm(MemorySegment)}, or {@code null} if none
     */
    public MemorySegment lent() {
        return lent;
    }

    /**
     * Whether the completion has arrived.
     *
     * @return {@code true} once completed (and before the first {@link #arm()})
     */
    public boolean isDone() {
        return done;
    }

    /**
     * The engine-defined result of the completed operation.
     *
     * @return bytes transferred, or a negative error code
     */
    public int result() {
        return result;
    }

    /**
     * The engine-defined flags of the completed operation.
     *
     * @return the flags passed with the completion
     */
    public int flags() {
        return flags;
    }

    /**
     * Waits for the completion. If the deadline passes, the thread is interrupted, or the gate
     * starts closing first, the operation is cancelled through {@code canceller} and the wait goes
     * on until the completion arrives (DESIGN rule 2: one path for all three, cancel then wait).
     * Never returns early.
     *
     * @param timeoutNanos how long to wait before cancelling, or {@link #NO_TIMEOUT}
     * @param canceller asks the kernel to cancel this operation
     * @param gate the handle's gate; once it is closing, the operation is cancelled
     * @return {@link #COMPLETED}, {@link #TIMED_OUT}, {@link #INTERRUPTED} or {@link #CLOSED}: why
     *         the wait ended; in all cases {@link #result()} holds what the kernel reported, which
     *         may be a partial transfer that raced with the cancel
     */
    public int await(long timeoutNanos, Canceller canceller, IoGate gate) {
        if (done) {
            return COMPLETED;
        }
        long deadline = timeoutNanos >= 0 ? System.nanoTime() + timeoutNanos : 0;
        int reason = COMPLETED;
        boolean clearedInterrupt = false;
        Thread self = Thread.currentThread();
        while (!done) {
            if (reason == COMPLETED) {
                long remaining = timeoutNanos >= 0 ? deadline - System.nanoTime() : Long.MAX_VALUE;
                if (gate.isClosing()) {
                    reason = CLOSED;
                } else if (self.isInterrupted()) {
                    reason = INTERRUPTED;
                } else if (remaining <= 0) {
                    reason = TIMED_OUT;
                }
                if (reason != COMPLETED) {
                    canceller.cancel(this);
                    continue;
                }
                if (timeoutNanos >= 0) {
                    LockSupport.parkNanos(this, remaining);
                } else {
                    LockSupport.park(this);
                }
            } else {
                // Cancelled; only the completion ends the wait. Park would return at once while the
                // interrupt status is set, so hold it back and restore it afterwards.
                if (Thread.interrupted()) {
                    clearedInterrupt = true;
                }
                if (!done) {
                    LockSupport.park(this);
                }
            }
        }
        if (clearedInterrupt) {
            self.interrupt();
        }
        return reason;
    }

    /**
     * The exception a blocking call throws when {@link #await} ended for {@code outcome} and the
     * operation transferred nothing: {@link PipeTimeoutException} (the channel stays usable),
     * {@link ClosedByInterruptException} (the caller then closes the channel, as the JDK does) or
     * {@link AsynchronousCloseException}.
     *
     * @param outcome {@link #TIMED_OUT}, {@link #INTERRUPTED} or {@link #CLOSED}
     * @param what the call, e.g. {@code "read"}, for the timeout message
     * @return the exception to throw
     * @throws IllegalArgumentException if {@code outcome} is not one of those three
     */
    public static IOException failure(int outcome, String what) {
        return switch (outcome) {
            case TIMED_OUT -> new PipeTimeoutException(what + " timed out");
            case INTERRUPTED -> new ClosedByInterruptException();
            case CLOSED -> new AsynchronousCloseException();
            default -> throw new IllegalArgumentException("not a failed outcome: " + outcome);
        };
    }

    /** Waits for the completion without cancelling anything (closing a backlog, after a cancel). */
    public void awaitUninterruptibly() {
        adoptWaiter();
        boolean interrupted = false;
        while (!done) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Wakes the owner so that it re-checks its gate (used by close). */
    public void wakeWaiter() {
        Thread t = waiter;
        if (t != null && !done) {
            LockSupport.unpark(t);
        }
    }
}
