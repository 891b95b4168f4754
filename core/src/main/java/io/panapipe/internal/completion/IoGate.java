package io.panapipe.internal.completion;

import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The open/closing state of one handle and the count of operations using it.
 *
 * <p>Every operation on a handle runs between {@link #enter()} and {@link #exit()}. Closing is
 * {@link #startClose()} (no new operation may enter), then waking the waiters so that each cancels
 * its own operation, then {@link #awaitIdle()} — only after that may the handle and the native
 * memory its operations use be released. The state is one int (closing bit + active count) so
 * that "enter unless closing" is a single compare-and-set.
 */
public final class IoGate {
    private static final int CLOSING = 1 << 30;

    private final AtomicInteger state = new AtomicInteger();
    private volatile Thread closer;

    /**
     * Registers an operation on the handle.
     *
     * @throws ClosedChannelException if the handle is closed or closing
     */
    public void enter() throws ClosedChannelException {
        for (;;) {
            int s = state.get();
            if ((s & CLOSING) != 0) {
                throw new ClosedChannelException();
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    /** Ends an operation started with {@link #enter()}; wakes a closer waiting for the last one. */
    public void exit() {
        int s = state.decrementAndGet();
        if (s == CLOSING) {
            Thread t = closer;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    /**
     * Whether {@link #startClose()} has been called.
     *
     * @return {@code true} once closing has started
     */
    public boolean isClosing() {
        return (state.get() & CLOSING) != 0;
    }

    /**
     * Marks the handle closing; from now on {@link #enter()} fails.
     *
     * @return {@code true} for the one call that did it
     */
    public boolean startClose() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSING) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s | CLOSING)) {
                return true;
            }
        }
    }

    /**
     * Number of operations between {@link #enter()} and {@link #exit()}.
     *
     * @return the operations in progress now
     */
    public int active() {
        return state.get() & ~CLOSING;
    }

    /**
     * Waits, uninterruptibly, until every entered operation has exited. Only the thread that
     * won {@link #startClose()} calls this. The interrupt status is preserved.
     */
    public void awaitIdle() {
        closer = Thread.currentThread();
        boolean interrupted = false;
        try {
            while (active() != 0) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
        } finally {
            closer = null;
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
