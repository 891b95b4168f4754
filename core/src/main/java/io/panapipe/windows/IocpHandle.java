package io.panapipe.windows;

import io.panapipe.internal.CallerMemory;
import io.panapipe.internal.Timeouts;
import io.panapipe.internal.windows.ForeignHandle;
import io.panapipe.internal.windows.IocpEngine;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.function.LongToIntFunction;

/**
 * Drives a handle you opened yourself — an overlapped socket from
 * {@code WSASocketW(..., WSA_FLAG_OVERLAPPED)}, a file opened with {@code FILE_FLAG_OVERLAPPED} —
 * with Panapipe's I/O completion port, so a virtual thread can wait for {@code WSARecv} or
 * {@code ReadFile} without blocking its carrier.
 *
 * <p>The handle is associated with the port and put in skip-on-success mode; after that, issue
 * requests only through {@link #read} and {@link #write} (a request on it with an event or a
 * completion routine would still post a packet to the port). You make the call; Panapipe
 * supplies the OVERLAPPED, waits, cancels with {@code CancelIoEx} on timeout or interrupt, and
 * always waits for the completion before returning:
 *
 * <pre>{@code
 * try (IocpHandle h = IocpHandle.associate(socket)) {
 *     int n = h.read(ov -> {
 *         int rc = wsaRecv(socket, wsabuf, flags, ov);        // a downcall capturing WSAGetLastError
 *         return rc == 0 ? 0 : lastWsaError;                   // 0, or WSA_IO_PENDING (997), or the error
 *     }, Duration.ofSeconds(5));
 * }
 * }</pre>
 *
 * Windows only. Closing does not close the handle; close the handle after this.
 */
public final class IocpHandle implements AutoCloseable {
    /**
     * Makes one overlapped call.
     */
    @FunctionalInterface
    public interface Request {
        /**
         * Issues the call (e.g. {@code WSARecv}, {@code ReadFile}) with the given OVERLAPPED.
         *
         * @param overlapped the address of the OVERLAPPED to pass (its {@code hEvent} is 0)
         * @return 0 if the call succeeded at once; otherwise the error code it reported, which is
         *         {@code ERROR_IO_PENDING}/{@code WSA_IO_PENDING} (997) when a completion will come
         */
        int issue(long overlapped);
    }

    private final ForeignHandle handle;

    private IocpHandle(ForeignHandle handle) {
        this.handle = handle;
    }

    /**
     * Associates a {@code HANDLE} (a file or pipe opened with {@code FILE_FLAG_OVERLAPPED}) with
     * Panapipe's completion port. A failed request reports its {@code GetOverlappedResult} code.
     *
     * @param handle the {@code HANDLE}; its address is the handle value
     * @return the association, to issue requests through
     * @throws IOException if {@code CreateIoCompletionPort} or
     *         {@code SetFileCompletionNotificationModes} fails on the handle (e.g. it is already
     *         associated with another port), or the engine has failed
     * @throws IllegalStateException if the IOCP engine is unavailable (not on Windows)
     */
    public static IocpHandle associate(MemorySegment handle) throws IOException {
        return new IocpHandle(IocpEngine.associate(handle.address(), false));
    }

    /**
     * Associates a {@code SOCKET} (from {@code WSASocketW(..., WSA_FLAG_OVERLAPPED)}) with
     * Panapipe's completion port. A failed request reports its {@code WSAGetOverlappedResult}
     * code, so a reset is {@code WSAECONNRESET} (10054), as Winsock documents it.
     *
     * @param socket the {@code SOCKET} value
     * @return the association, to issue requests through
     * @throws IOException if {@code CreateIoCompletionPort} or
     *         {@code SetFileCompletionNotificationModes} fails on the socket (e.g. it is already
     *         associated with another port), or the engine has failed
     * @throws IllegalStateException if the IOCP engine is unavailable (not on Windows)
     */
    public static IocpHandle associate(long socket) throws IOException {
        return new IocpHandle(IocpEngine.associate(socket, true));
    }

    /**
     * Runs a receiving request into {@code buffer} on the read lane; returns the bytes transferred.
     *
     * <p>The kernel writes into {@code buffer} until the completion, after this method's downcalls
     * have returned, so only memory that nobody can free meanwhile is accepted:
     * global memory, or memory confined to the calling thread (which is blocked here until the
     * completion). The segment is checked before the request is issued and kept reachable until
     * the completion.
     *
     * @param buffer the memory {@code request} passes to the kernel (e.g. in its {@code WSABUF})
     * @param request makes the call
     * @param timeout how long to wait for the completion before cancelling the request
     * @return the bytes transferred
     * @throws IllegalArgumentException if {@code timeout} is negative or absurdly long
     * @throws IOException if the request fails ({@link io.panapipe.PipeException} with the error
     *         code the call or its completion reported), does not complete in time
     *         ({@link io.panapipe.PipeTimeoutException}), the thread is interrupted
     *         ({@link java.nio.channels.ClosedByInterruptException}), or this is closed
     *         ({@link java.nio.channels.ClosedChannelException},
     *         {@link java.nio.channels.AsynchronousCloseException}); a request cut short by the
     *         timeout, an interrupt or a close was cancelled and its completion awaited
     * @throws IllegalStateException its arena is closed
     * @throws WrongThreadException it is confined to another thread
     * @throws IllegalArgumentException it is heap memory, or from a shared or automatic arena,
     *         which another thread or the garbage collector could free while the kernel holds it
     */
    public int read(MemorySegment buffer, Request request, Duration timeout) throws IOException {
        checkLendable(buffer);
        try {
            return handle.run(0, asFunction(request), Timeouts.toNanos(timeout, "timeout"));
        } finally {
            java.lang.ref.Reference.reachabilityFence(buffer);
        }
    }

    /**
     * As {@link #read(MemorySegment, Request, Duration)}, for a sending request on the write lane.
     *
     * @param buffer the memory {@code request} passes to the kernel, checked as for a read
     * @param request makes the call
     * @param timeout how long to wait for the completion before cancelling the request
     * @return the bytes transferred
     * @throws IOException as {@link #read(MemorySegment, Request, Duration)}
     */
    public int write(MemorySegment buffer, Request request, Duration timeout) throws IOException {
        checkLendable(buffer);
        try {
            return handle.run(1, asFunction(request), Timeouts.toNanos(timeout, "timeout"));
        } finally {
            java.lang.ref.Reference.reachabilityFence(buffer);
        }
    }

    /**
     * Runs a receiving request on the read lane; returns the bytes transferred. Panapipe cannot
     * see the memory {@code request} hands the kernel: keep it allocated, and unclosable by other
     * threads, until this returns. Prefer {@link #read(MemorySegment, Request, Duration)}, which
     * checks that.
     *
     * @param request makes the call
     * @param timeout how long to wait for the completion before cancelling the request
     * @return the bytes transferred
     * @throws IllegalArgumentException if {@code timeout} is negative or absurdly long
     * @throws IOException if the request fails ({@link io.panapipe.PipeException} with the error
     *         code the call or its completion reported), does not complete in time
     *         ({@link io.panapipe.PipeTimeoutException}), the thread is interrupted
     *         ({@link java.nio.channels.ClosedByInterruptException}), or this is closed
     *         ({@link java.nio.channels.ClosedChannelException},
     *         {@link java.nio.channels.AsynchronousCloseException}); a request cut short by the
     *         timeout, an interrupt or a close was cancelled and its completion awaited
     */
    public int read(Request request, Duration timeout) throws IOException {
        return handle.run(0, asFunction(request), Timeouts.toNanos(timeout, "timeout"));
    }

    /**
     * Runs a sending request on the write lane, as {@link #read(Request, Duration)}.
     *
     * @param request makes the call
     * @param timeout how long to wait for the completion before cancelling the request
     * @return the bytes transferred
     * @throws IOException as {@link #read(Request, Duration)}
     */
    public int write(Request request, Duration timeout) throws IOException {
        return handle.run(1, asFunction(request), Timeouts.toNanos(timeout, "timeout"));
    }

    private static void checkLendable(MemorySegment buffer) {
        CallerMemory.checkUsable(buffer);
        if (!CallerMemory.mayLendToKernel(buffer)) {
            throw new IllegalArgumentException("the kernel keeps this buffer until the request completes, so it must "
                    + "be native memory that no other thread or the garbage collector can free meanwhile: "
                    + "Arena.global() or Arena.ofConfined() on this thread (was " + (buffer.isNative()
                    ? "a shared or automatic arena's memory)" : "heap memory)"));
        }
    }

    private static LongToIntFunction asFunction(Request request) {
        return request::issue;
    }

    /** Cancels and waits for anything in flight. Does not close the handle. */
    @Override
    public void close() {
        handle.close();
    }
}
