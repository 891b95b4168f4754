package io.panapipe.internal.unix;

import io.panapipe.PipeException;
import io.panapipe.internal.completion.IoGate;

import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

/**
 * What every Unix server's accept does when the process or the system is out of descriptors
 * ({@code EMFILE}/{@code ENFILE}). The kernel keeps the client queued, so failing at once would
 * make a caller's retry loop spin on a core; instead the accepting thread backs off (1 ms, doubling
 * to 50 ms) and retries, for as long as the caller allowed: until the deadline of
 * {@code accept(timeout)}, or for at most {@value #UNTIMED_BUDGET_MILLIS} ms in an untimed
 * {@code accept()}. Then the {@code EMFILE} {@link PipeException} is thrown; the server stays usable.
 * Close and interrupt are noticed within one pause slice (at most 10 ms).
 *
 * <p>One instance per server; used only by the thread inside accept (accepts are serialised).
 */
public final class AcceptBackoff {
    /** How long an untimed accept backs off before it reports the descriptor limit. */
    public static final long UNTIMED_BUDGET_MILLIS = 1_000;

    private static final long FIRST_PAUSE = 1_000_000L;
    private static final long MAX_PAUSE = 50_000_000L;
    private static final long SLICE = 10_000_000L;

    private long pause;
    private long giveUpAt;
    private boolean backingOff;

    static {
        // Loaded with the server, not when descriptors have run out (loading a class opens a file).
        Errno.isDescriptorLimit(0);
        Errno.name(Errno.EMFILE);
        new PipeException("preload", Errno.EMFILE, Errno.name(Errno.EMFILE), "preload").getMessage();
    }

    /**
     * Whether {@code errno} is one this policy backs off on.
     *
     * @param errno the accept's error code
     * @return {@code true} for {@code EMFILE} and {@code ENFILE}
     */
    public static boolean appliesTo(int errno) {
        return Errno.isDescriptorLimit(errno);
    }

    /** Call after a successful accept: the next limit starts a fresh budget. */
    public void reset() {
        backingOff = false;
    }

    /**
     * Pauses after an accept failed with {@code failure} (an {@code EMFILE}/{@code ENFILE}), then
     * returns so that the caller retries; throws {@code failure} once the budget is spent.
     *
     * @param failure the accept's exception, thrown once the budget is spent
     * @param gate the server's gate; once it is closing, the pause ends
     * @param deadline the accept's {@code System.nanoTime()} deadline, ignored if {@code timed} is false
     * @param timed whether the accept has a deadline
     * @throws PipeException {@code failure}, once the budget is spent
     * @throws AsynchronousCloseException the server started closing meanwhile
     * @throws ClosedByInterruptException the thread was interrupted
     */
    public void pause(PipeException failure, IoGate gate, long deadline, boolean timed) throws IOException {
        long now = System.nanoTime();
        if (!backingOff) {
            backingOff = true;
            pause = FIRST_PAUSE;
            giveUpAt = timed ? deadline : now + UNTIMED_BUDGET_MILLIS * 1_000_000L;
        }
        if (now - giveUpAt >= 0) {
            backingOff = false;
            throw failure;
        }
        long until = Math.min(now + pause, giveUpAt);
        pause = Math.min(pause * 2, MAX_PAUSE);
        for (long left; (left = until - System.nanoTime()) > 0; ) {
            if (gate.isClosing()) {
                throw new AsynchronousCloseException();
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new ClosedByInterruptException();
            }
            LockSupport.parkNanos(this, Math.min(left, SLICE));
        }
        if (gate.isClosing()) {
            throw new AsynchronousCloseException();
        }
    }
}
