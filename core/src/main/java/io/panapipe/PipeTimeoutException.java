package io.panapipe;

import java.io.InterruptedIOException;

/**
 * A read, write, accept or connect did not finish before its deadline. The operation was cancelled
 * and its completion awaited, so the pipe (or server) is still usable: nothing was consumed, and
 * bytes that raced in before the cancel took effect were returned instead of this exception.
 * For a write, {@link #bytesTransferred} bytes were written before the deadline.
 *
 * @since 0.1
 */
public class PipeTimeoutException extends InterruptedIOException {
    private static final long serialVersionUID = 1L;

    /**
     * A timeout with nothing transferred.
     *
     * @param message what timed out, and after how long
     */
    public PipeTimeoutException(String message) {
        super(message);
    }

    /**
     * A write timeout after {@code bytesTransferred} bytes went out.
     *
     * @param message what timed out, and after how long
     * @param bytesTransferred bytes written before the deadline
     */
    public PipeTimeoutException(String message, int bytesTransferred) {
        super(message);
        this.bytesTransferred = bytesTransferred;
    }
}
