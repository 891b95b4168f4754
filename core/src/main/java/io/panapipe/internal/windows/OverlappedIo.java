package io.panapipe.internal.windows;

import io.panapipe.internal.completion.Canceller;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import io.panapipe.PipeException;

import java.lang.foreign.Arena;

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
 *   <li>{@code ERROR_MORE_DATA} returned <em>synchronously</em> by a read (message mode, buffer
 *       smaller than the message; the buffer was filled, the count is taken as
 *       {@link #inlineMoreDataBytes} says). On every Windows that JDK 22 supports this does not
 *       happen: an overflowing message read on a handle in skip-on-success mode goes
 *       <em>pending</em> and queues one packet carrying {@code STATUS_BUFFER_OVERFLOW} and the
 *       bytes (Wine, dlls/ntdll/tests/pipe.c, test_completion: {@code NtReadFile} of 1 byte from
 *       an 8-byte message returns {@code STATUS_PENDING} "win8+" and one packet is queued, while
 *       the older synchronous {@code STATUS_BUFFER_OVERFLOW} queues none). So the synchronous case
 *       is only a fallback, and the safe one: the result is final inline and the slot is
 *       <em>retired</em> ({@link #FINAL_RETIRE}): its operation stays registered but unarmed and its
 *       memory stays allocated, so a packet that comes after all is recognised by the poller and
 *       dropped, while the next request gets a fresh slot and operation id ({@link #retire}).
 *       Retired slots are never reused; the owner hands its arena to
 *       {@link IocpEngine#closeArena} instead of closing it. A foreign handle's {@link #runCustom}
 *       request is treated the same way, whatever its driver.</li>
 *   <li>Any other synchronous failure queues nothing: the result is final here.</li>
 *   <li>Timeout, interrupt and close: {@link #cancel} calls {@code CancelIoEx(handle, &ov)} for this
 *       one request (never {@code CancelIo}: the issuing thread may be a virtual thread on another
 *       carrier by now), then the wait goes on until the completion arrives; bytes that raced in
 *       are reported in {@link #bytes()}.</li>
 *   <li>The completion's status: 0 = success; anything else is turned into a Win32 code by
 *       {@code GetOverlappedResult(bWait = FALSE)}, which does not block once the request is done.
 *       The byte count is the packet's {@code dwNumberOfBytesTransferred} either way
 *       ({@link #collect}).</li>
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

    /** {@link #next}: the result is final now, no packet comes. */
    static final int FINAL = 0;
    /** {@link #next}: a packet comes; {@link #finish} waits for it. */
    static final int WAIT = 1;
    /** {@link #next}: final now, but a packet might still come: retire the slot. */
    static final int FINAL_RETIRE = 2;

    /**
     * The status an operation gets when the engine's failure, not the kernel, ended its wait: an
     * NTSTATUS with the customer bit set, which the system never produces.
     */
    static final int ENGINE_FAILED_STATUS = 0xE0DE_AD01;
    /** {@code STATUS_PENDING}: {@code OVERLAPPED.Internal} while the request is in flight. */
    static final long STATUS_PENDING = 0x103;

    private final IocpEngine engine;
    private final Win32Api api;
    private final Arena arena;
    // Volatile: replaced by the owning thread when the slot is retired, read by a closer's wakeAll.
    private volatile Operation op;
    private volatile OverlappedSlot slot;
    private final long handle;
    private final IoGate gate;
    private final boolean socket;
    private int error;
    private int bytes;
    private int outcome;
    private int retired;

    /** Use {@link IocpEngine#newIo}; {@code arena} holds this request's slots, retired ones included. */
    OverlappedIo(IocpEngine engine, Arena arena, Operation op, OverlappedSlot slot, long handle, IoGate gate,
                 boolean socket) {
        this.socket = socket;
        this.engine = engine;
        this.api = engine.api();
        this.arena = arena;
        this.op = op;
        this.slot = slot;
        this.handle = handle;
        this.gate = gate;
    }

    /**
     * What follows a request's synchronous return (pure: tested on any platform).
     *
     * @param kind       {@link #READ}, {@link #WRITE}, {@link #CONNECT} or {@link #CUSTOM}
     * @param error      0 if the call succeeded at once, else the code it reported
     * @return {@link #FINAL}, {@link #WAIT} or {@link #FINAL_RETIRE}
     */
    static int next(int kind, int error) {
        if (error == WinError.ERROR_IO_PENDING) {
            return WAIT;
        }
        if (error == WinError.ERROR_MORE_DATA && (kind == READ || kind == CUSTOM)) {
            return FINAL_RETIRE; // rule 3 above: take it inline, and never let a late packet reach a later request
        }
        return FINAL;
    }

    /** How many slots this instance has retired (each keeps its memory and operation id). */
    int retiredSlots() {
        return retired;
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
    void run(int kind, long buffer, int length, long timeoutNanos) throws PipeException {
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
    void runCustom(java.util.function.LongToIntFunction issue, long timeoutNanos) throws PipeException {
        engine.checkHealthy();
        Operation o = op;
        OverlappedSlot s = slot;
        o.arm();
        s.reset();
        int e = issue.applyAsInt(s.address());
        if (settle(CUSTOM, e, o, s, -1)) {
            finish(timeoutNanos);
        }
    }

    /**
     * Issues a request without waiting.
     *
     * @return {@code true} if a completion packet will come ({@link #finish} or
     *         {@link #finishUninterruptibly} must follow); {@code false} if the result is final
     */
    boolean start(int kind, long buffer, int length) throws PipeException {
        engine.checkHealthy();
        Operation o = op;
        OverlappedSlot s = slot;
        return settle(kind, issue(kind, buffer, length), o, s, length);
    }

    /**
     * Arms the operation and makes the call, deciding nothing: 0 if it succeeded at once, else the
     * code it reported. The caller must settle the operation (inline or by its packet).
     */
    private int issue(int kind, long buffer, int length) {
        Operation o = op;
        OverlappedSlot s = slot;
        o.arm();
        s.reset();
        int ok = switch (kind) {
            case READ -> api.readFile(s.capture(), handle, buffer, length, s.address());
            case WRITE -> api.writeFile(s.capture(), handle, buffer, length, s.address());
            case CONNECT -> api.connectNamedPipe(s.capture(), handle, s.address());
            default -> throw new IllegalArgumentException("kind " + kind);
        };
        return ok != 0 ? WinError.ERROR_SUCCESS : api.lastError(s.capture());
    }

    /**
     * Applies {@link #next} to a call's synchronous return; {@code true} if a packet will come.
     *
     * @param length the request's buffer length, or -1 if not known (a {@link #runCustom} request)
     */
    private boolean settle(int kind, int e, Operation o, OverlappedSlot s, int length) {
        outcome = Operation.COMPLETED;
        int what = next(kind, e);
        if (what == WAIT) {
            return true;
        }
        error = e;
        if (e == WinError.ERROR_SUCCESS) {
            bytes = s.bytesTransferred(); // InternalHigh: set by the system when a request completes without errors
        } else if (e == WinError.ERROR_MORE_DATA) {
            bytes = inlineMoreDataBytes(s.bytesTransferred(), length);
        } else {
            bytes = 0;
        }
        o.completeInline(bytes, e);
        if (what == FINAL_RETIRE) {
            retire();
        }
        return false;
    }

    /**
     * Leaves the current operation registered but unarmed (done), so that a packet that comes for
     * it after all is dropped by the poller, and keeps its OVERLAPPED allocated (the poller reads the
     * id after it); later requests use a fresh operation and slot.
     */
    private void retire() {
        Operation fresh = engine.allocateOperation();
        OverlappedSlot freshSlot;
        try {
            freshSlot = new OverlappedSlot(arena, fresh.id(), api.captureSize());
        } catch (RuntimeException e) {
            engine.releaseOperation(fresh);
            throw e;
        }
        retired++;
        slot = freshSlot;
        op = fresh;
    }

    /**
     * Waits for the packet of a started request, cancelling it on timeout, interrupt or close.
     *
     * @throws PipeException the engine failed ({@link IocpEngine#failure()}); the request was
     *         cancelled and the kernel has let go of its memory
     */
    void finish(long timeoutNanos) throws PipeException {
        if (!engine.isFailed()) {
            outcome = op.await(timeoutNanos, this, gate);
        }
        afterWait();
    }

    /** Waits for the packet without cancelling (the request was cancelled already, or must be reaped). */
    void finishUninterruptibly() throws PipeException {
        if (!engine.isFailed()) {
            op.awaitUninterruptibly();
        }
        afterWait();
    }

    /**
     * Wakes the owner of a request still waiting for its packet, because no poller will deliver
     * it ({@link IocpEngine#pollerDied}). The owner then {@linkplain #reapAfterFailure reaps} it.
     */
    void failPending() {
        Operation o = op;
        if (!o.isDone()) {
            o.complete(0, ENGINE_FAILED_STATUS);
        }
    }

    private void afterWait() throws PipeException {
        Operation o = op;
        // The failure check comes after the wait: a request armed before the engine failed is
        // completed by failPending (pollerDied runs after the failure is published), and one armed
        // after it sees isFailed() here, so no owner waits for a packet nobody will dequeue.
        if (engine.isFailed() && (!o.isDone() || o.flags() == ENGINE_FAILED_STATUS)) {
            reapAfterFailure(o);
            throw engine.failure();
        }
        collect();
    }

    /**
     * After the engine failed: cancels the request and waits until the kernel has finished with
     * it, which {@code OVERLAPPED.Internal} tells without any packet (the documentation of
     * {@code OVERLAPPED}: {@code STATUS_PENDING} while the request is in flight, the final status
     * once it completed; {@code HasOverlappedIoCompleted} reads the same field). Only then may the
     * slot and the buffer be reused or freed: they are the kernel's until the request completes
     * (rule 2 above; DESIGN rule 1). Parks in Java, never in the kernel.
     */
    private void reapAfterFailure(Operation o) {
        OverlappedSlot s = slot;
        api.cancelIoEx(s.capture(), handle, s.address());
        boolean interrupted = Thread.interrupted(); // parkNanos would return at once
        long pause = 10_000;
        while (OverlappedSlot.statusAt(s.address()) == STATUS_PENDING) {
            java.util.concurrent.locks.LockSupport.parkNanos(this, pause);
            pause = Math.min(pause * 2, 10_000_000);
            interrupted |= Thread.interrupted();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        bytes = 0;
        error = WinError.ERROR_OPERATION_ABORTED;
        outcome = Operation.CLOSED;
        if (!o.isDone()) {
            o.completeInline(0, ENGINE_FAILED_STATUS);
        }
    }

    /** Requests cancellation of the in-flight request; its completion still comes through the port. */
    @Override
    public void cancel(Operation o) {
        // FALSE with ERROR_NOT_FOUND means it completed already: the packet is on its way
        OverlappedSlot s = slot;
        api.cancelIoEx(s.capture(), handle, s.address());
    }

    /**
     * Reads the result of a request whose packet was dequeued. The byte count is the packet's own
     * ({@code OVERLAPPED_ENTRY.dwNumberOfBytesTransferred}, which {@code GetQueuedCompletionStatusEx}
     * documents for every entry, failed ones included), kept by the poller in
     * {@link Operation#result()}; a non-zero status is turned into its Win32 code by
     * {@code GetOverlappedResult}, whose byte count the documentation gives only on success.
     */
    private void collect() {
        Operation o = op;
        OverlappedSlot s = slot;
        bytes = o.result();
        if (o.flags() == 0) {
            error = WinError.ERROR_SUCCESS;
            return;
        }
        if (socket) {
            // A socket's code comes from WSAGetOverlappedResult: GetOverlappedResult would turn a
            // reset into ERROR_NETNAME_DELETED instead of WSAECONNRESET (issue 10, defect 6; the
            // WSAGetOverlappedResult documentation is the socket counterpart of the same call).
            int ok = api.wsaGetOverlappedResult(s.capture(), handle, s.address(), s.outAddress(), 0, s.out2Address());
            error = ok != 0 ? WinError.ERROR_SUCCESS : api.wsaLastError(s.capture());
            return;
        }
        int ok = api.getOverlappedResult(s.capture(), handle, s.address(), s.outAddress(), 0);
        error = ok != 0 ? WinError.ERROR_SUCCESS : api.lastError(s.capture());
    }

    /**
     * The byte count of a read that returned {@code ERROR_MORE_DATA} at once (pure: tested on any
     * platform). {@code ReadFile} documents the case as "the next message is longer than the
     * nNumberOfBytesToRead parameter specifies", with the remainder left for the next read: the
     * buffer was filled. {@code InternalHigh} is documented as set only "if the request is
     * completed without errors", which a FALSE return is not; so it is used only when it agrees
     * with that (within 1..length), and otherwise the buffer length is, rather than reporting 0
     * and silently dropping bytes already copied.
     *
     * @param length the buffer length, or -1 if not known (then {@code InternalHigh} as it is)
     */
    static int inlineMoreDataBytes(int internalHigh, int length) {
        if (length < 0) {
            return Math.max(0, internalHigh);
        }
        return internalHigh > 0 && internalHigh <= length ? internalHigh : length;
    }
}
