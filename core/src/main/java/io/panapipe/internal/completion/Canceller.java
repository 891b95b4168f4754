package io.panapipe.internal.completion;

/**
 * Asks the kernel to cancel one submitted operation ({@code CancelIoEx(handle, &ov)}, an io_uring
 * {@code ASYNC_CANCEL}, or dropping a readiness interest). It must not block and must not complete
 * the operation itself: the completion still comes through the engine, as it always does.
 */
@FunctionalInterface
public interface Canceller {
    /**
     * Requests the cancellation of {@code op}'s request; returns at once.
     *
     * @param op the operation whose request to cancel
     */
    void cancel(Operation op);
}
