package io.panapipe.internal.windows;

import io.panapipe.internal.completion.Canceller;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

/**
 * All the overlapped-I/O rules in one place: prepare, issue, wait, cancel, collect. Every pipe
 * read, write and connect goes through {@link #run}; the pipe classes only interpret
 * {@link #error()} and {@link #bytes()}.
 *
 * <ol>
 *   <li>The handle was associated with the port and put in
 *       {@code FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE} mode before its
 *       first request ({@link IocpPort#associate}), so a request that succeeds at once returns
 *       here inline and no packet will come: no park.</li>
 *   <li>{@code ERROR_IO_PENDING}: the slot and the buffer belong to the kernel until the poller
 *       dequeues the packet; {@link Operation#await} never returns before that.</li>
 *   <li>{@code ERROR_MORE_DATA} from a read is a warning status, not a failure: the I/O manager
 *       treats it as a completion and still queues a packet (skip-on-success only skips true
 *       success), so it is waited for like {@code ERROR_IO_PENDING}.</li>
 *   <li>Any other synchronous failure queues nothing: the result is final here.</li>
 *   <li>Timeout, interrupt and close: {@link #cancel} calls {@code CancelIoEx(handle, &ov)} for this
 *       one request (never {@code CancelIo}: the issuing thread may be a virtual thread on another
 *       carrier by now), then the wait goes on until the completion arrives; bytes that raced in
 *       are reported in {@link #bytes()}.</li>
 *   <li>The completion's status: 0 = success with {@code InternalHigh} bytes; anything else is
 *       turned into a Win32 code by {@code GetOverlappedResult(bWait = FALSE)}, which does not block
 *       once the request is done.</li>
 * </ol>
 *
 * One instance serves one kind of request on one handle, one request at a time.
 */
final class OverlappedIo implements Canceller {
    static final int READ = 0;
    static final int WRITE = 1;
    static final int CONNECT = 2;
    /** A caller-issued request ({@link #runCustom}): WSASend, WSARecv, or any overlapped call. */
    static final int CUSTOM = 3;

    private final Operation op;
    private final OverlappedSlot slot;
    private final long handle;
    private final IoGate gate;
    private int error;
    private int bytes;
    private int outcome;

    OverlappedIo(Operation op, OverlappedSlot slot, long handle, IoGate gate) {
        this.op = op;
        this.slot = slot;
        this.handle = handle;
        this.gate = gate;
    }

    Operation operation() {
        return op;
    }

    OverlappedSlot slot() {
        return slot;
    }

    /** The Win32 code of the last request: 0 for success. */
    int error() {
        return error;
    }

    /** Bytes the last request transferred (also after a cancel, if some raced in). */
    int bytes() {
        return bytes;
    }

    /** Why the wait ended: {@link Operation#COMPLETED}, {@code TIMED_OUT}, {@code INTERRUPTED} or {@code CLOSED}. */
    int outcome() {
        return outcome;
    }

    /** Issues a request and waits for it; afterwards read {@link #error()}, {@link #bytes()}, {@link #outcome()}. */
    void run(int kind, long buffer, int length, long timeoutNanos) {
        if (start(kind, buffer, length)) {
            finish(timeoutNanos);
        }
    }

    /**
     * Issues a request the caller makes itself and waits for it like the built-in ones.
     *
     * @param issue given the OVERLAPPED address, makes the call and returns 0 if it succeeded at
     *              once, or the error code it reported ({@code ERROR_IO_PENDING}/{@code WSA_IO_PENDING}
     *              when a completion will come)
     */
    void runCustom(java.util.function.LongToIntFunction issue, long timeoutNanos) {
        op.arm();
        slot.reset();
        int e = issue.applyAsInt(slot.address());
        outcome = Operation.COMPLETED;
        if (e == WinError.ERROR_SUCCESS) {
            error = e;
            bytes = slot.bytesTransferred();
            op.completeInline(bytes, 0);
        } else if (e == WinError.ERROR_IO_PENDING || e == WinError.ERROR_MORE_DATA) {
            finish(timeoutNanos);
        } else {
            error = e;
            bytes = 0;
            op.completeInline(0, e);
        }
    }

    /**
     * Issues a request without waiting.
     *
     * @return {@code true} if a completion packet will come ({@link #finish} or
     *         {@link #finishUninterruptibly} must follow); {@code false} if the result is final
     */
    boolean start(int kind, long buffer, int length) {
        op.arm();
        slot.reset();
        int ok = switch (kind) {
            case READ -> Win32Calls.readFile(slot.capture(), handle, buffer, length, slot.address());
            case WRITE -> Win32Calls.writeFile(slot.capture(), handle, buffer, length, slot.address());
            case CONNECT -> Win32Calls.connectNamedPipe(slot.capture(), handle, slot.address());
            default -> throw new IllegalArgumentException("kind " + kind);
        };
        outcome = Operation.COMPLETED;
        if (ok != 0) {
            // synchronous success; skip-on-success mode means no packet will be queued
            error = WinError.ERROR_SUCCESS;
            bytes = slot.bytesTransferred();
            op.completeInline(bytes, 0);
            return false;
        }
        int e = Win32Calls.lastError(slot.capture());
        if (e == WinError.ERROR_IO_PENDING || (kind == READ && e == WinError.ERROR_MORE_DATA)) {
            return true;
        }
        error = e;
        bytes = 0;
        op.completeInline(0, e);
        return false;
    }

    /** Waits for the packet of a started request, cancelling it on timeout, interrupt or close. */
    void finish(long timeoutNanos) {
        outcome = op.await(timeoutNanos, this, gate);
        collect();
    }

    /** Waits for the packet without cancelling (the request was cancelled already, or must be reaped). */
    void finishUninterruptibly() {
        op.awaitUninterruptibly();
        collect();
    }

    /** Requests cancellation of the in-flight request; its completion still comes through the port. */
    @Override
    public void cancel(Operation o) {
        // FALSE with ERROR_NOT_FOUND means it completed already: the packet is on its way
        Win32Calls.cancelIoEx(slot.capture(), handle, slot.address());
    }

    private void collect() {
        if (op.flags() == 0) {
            error = WinError.ERROR_SUCCESS;
            bytes = op.result();
            return;
        }
        int ok = Win32Calls.getOverlappedResult(slot.capture(), handle, slot.address(), slot.outAddress(), 0);
        error = ok != 0 ? WinError.ERROR_SUCCESS : Win32Calls.lastError(slot.capture());
        bytes = ok != 0 ? slot.out() : slot.bytesTransferred();
    }
}
