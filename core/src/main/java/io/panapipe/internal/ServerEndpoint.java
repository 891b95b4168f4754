package io.panapipe.internal;

import io.panapipe.internal.completion.IoGate;

import java.io.IOException;

/**
 * A bound server as an engine implements it. {@link io.panapipe.PipeServer} serialises accepts and
 * owns the close protocol; {@link #accept} is called between {@code gate().enter()} and
 * {@code gate().exit()}.
 */
public interface ServerEndpoint {
    /**
     * The gate every accept enters and the close protocol closes.
     *
     * @return this server's gate
     */
    IoGate gate();

    /**
     * Waits for the next client.
     *
     * @param timeoutNanos how long to wait, or {@link io.panapipe.internal.completion.Operation#NO_TIMEOUT}
     * @return the connection to that client
     * @throws io.panapipe.PipeTimeoutException no client came in time (the server stays usable)
     * @throws java.nio.channels.AsynchronousCloseException the server is closing
     * @throws java.nio.channels.ClosedByInterruptException the thread was interrupted
     */
    Transport accept(long timeoutNanos) throws IOException;

    /** Wakes a thread waiting in {@link #accept} so that it sees the gate closing. */
    void wakeAll();

    /**
     * Closes the listening handles (and any backlog) and frees native memory; called once, when idle.
     *
     * @throws IOException if closing the listening handles fails
     */
    void release() throws IOException;
}
