package io.panapipe.internal.unix;

import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.completion.IoGate;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code maxInstances} on Unix, where a listening socket has no instance count: a server hands out
 * at most that many connections at once. {@code accept} takes a slot before it accepts, waiting
 * (with its timeout, and woken by close or interrupt) while every slot is taken; closing a pipe
 * the server handed out frees its slot. Meanwhile new clients wait in the listen backlog, and once
 * it is full their connect gets {@code EAGAIN}, which {@code PipeClient} retries until its deadline
 * — as a Windows client retries {@code ERROR_PIPE_BUSY} when all instances are taken.
 */
public final class InstanceLimit {
    private static final long SLICE = 10_000_000L;

    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private volatile Thread waiter;

    /**
     * A limit of {@code max} open connections.
     *
     * @param max the server's {@code maxInstances}
     */
    public InstanceLimit(int max) {
        this.max = max;
    }

    /**
     * Connections handed out and not yet closed.
     *
     * @return the slots taken
     */
    public int open() {
        return open.get();
    }

    /**
     * Takes a slot, waiting while all {@code max} are in use.
     *
     * @param timeoutNanos how long to wait; negative for no deadline
     * @param gate the server's gate; once it is closing, the wait ends
     * @throws PipeTimeoutException all slots stayed taken until the deadline
     * @throws AsynchronousCloseException the server started closing
     * @throws ClosedByInterruptException the thread was interrupted
     */
    public void acquire(long timeoutNanos, IoGate gate) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        Thread self = Thread.currentThread();
        for (;;) {
            int n = open.get();
            if (n < max) {
                if (open.compareAndSet(n, n + 1)) {
                    return;
                }
                continue;
            }
            waiter = self;
            try {
                if (open.get() < max) {
                    continue;
                }
                if (gate.isClosing()) {
                    throw new AsynchronousCloseException();
                }
                if (self.isInterrupted()) {
                    throw new ClosedByInterruptException();
                }
                long left = timeoutNanos < 0 ? SLICE : deadline - System.nanoTime();
                if (left <= 0) {
                    throw new PipeTimeoutException("accept timed out: all " + max + " instances (maxInstances) are "
                            + "connected; a slot frees when one of the server's pipes is closed");
                }
                LockSupport.parkNanos(this, Math.min(left, SLICE));
            } finally {
                waiter = null;
            }
        }
    }

    /** Gives back a slot taken by {@link #acquire} (a pipe closed, or the accept failed). */
    public void release() {
        open.decrementAndGet();
        wake();
    }

    /** Wakes a thread waiting for a slot (close). */
    public void wake() {
        Thread t = waiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }
}
