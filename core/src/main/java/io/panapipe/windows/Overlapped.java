package io.panapipe.windows;

import io.panapipe.PipeException;
import io.panapipe.bindings.WindowsLibraries;
import io.panapipe.bindings.windows.Win32;
import io.panapipe.bindings.windows._OVERLAPPED;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * An {@code OVERLAPPED} in native memory with its own manual-reset event, for code ported from the
 * classic Win32 samples: pass {@link #segment()} to {@code ReadFile}/{@code ConnectNamedPipe},
 * and wait for {@link #event()} with {@code WaitForSingleObject} or, together with others,
 * {@code WaitForMultipleObjects}.
 *
 * <pre>{@code
 * try (Overlapped ov = new Overlapped()) {
 *     if (Win32.ConnectNamedPipe(pipe, ov.segment()) == 0 && lastError == ERROR_IO_PENDING) {
 *         Win32.WaitForSingleObject(ov.event(), Win32.INFINITE());
 *     }
 * }
 * }</pre>
 *
 * <p>This is the low-level pattern; it blocks the calling thread in the kernel, so use it on
 * platform threads. {@link io.panapipe.PipeServer} and {@link io.panapipe.PipeClient} do the same
 * work on an I/O completion port without blocking virtual threads. Once a request that uses this
 * object is pending, the kernel owns the OVERLAPPED until the request completes: do not
 * {@link #close()} it before then. Windows only.
 */
public final class Overlapped implements AutoCloseable {
    /** {@code sizeof(OVERLAPPED)} on Windows x64. */
    public static final long SIZE = 32;
    /** {@code STATUS_PENDING}: the value of {@code Internal} while the request is in flight. */
    private static final long STATUS_PENDING = 0x103;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment segment;
    private final MemorySegment event;
    private final MemorySegment capture;
    private boolean closed;

    /**
     * An OVERLAPPED whose event starts non-signalled.
     *
     * @throws PipeException if {@code CreateEventW} fails
     */
    public Overlapped() throws PipeException {
        this(false);
    }

    /**
     * An OVERLAPPED whose event starts signalled or not.
     *
     * @param initiallySignaled create the event signalled, as the multi-instance server sample does
     *        so that its first wait falls through to the connect
     * @throws PipeException if {@code CreateEventW} fails
     */
    public Overlapped(boolean initiallySignaled) throws PipeException {
        try {
            segment = arena.allocate(_OVERLAPPED.layout());
            capture = arena.allocate(Linker.Option.captureStateLayout());
            MemorySegment e = Calls.createEvent(capture, initiallySignaled);
            if (e.address() == 0) {
                int error = Calls.lastError(capture);
                throw new PipeException("CreateEventW", error, "ERROR_" + error, "cannot create the OVERLAPPED's event");
            }
            event = e;
            _OVERLAPPED.hEvent(segment, event);
        } catch (PipeException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * The {@code OVERLAPPED*} to pass to the kernel.
     *
     * @return the OVERLAPPED's memory ({@value #SIZE} bytes)
     */
    public MemorySegment segment() {
        return segment;
    }

    /**
     * The manual-reset event in {@code hEvent}.
     *
     * @return the event's {@code HANDLE}
     */
    public MemorySegment event() {
        return event;
    }

    /** Zeroes the OVERLAPPED for a new request (the event stays) and resets the event. */
    public void reset() {
        _OVERLAPPED.Internal(segment, 0);
        _OVERLAPPED.InternalHigh(segment, 0);
        _OVERLAPPED.Offset(segment, 0);
        _OVERLAPPED.OffsetHigh(segment, 0);
        Calls.resetEvent(event);
    }

    /**
     * {@code HasOverlappedIoCompleted}: whether {@code Internal} is no longer {@code STATUS_PENDING}.
     *
     * <p>Meaningful only for a request that returned {@code ERROR_IO_PENDING} (or succeeded). After
     * a request that failed <em>synchronously</em> (FALSE with any code but {@code ERROR_IO_PENDING})
     * this stays {@code false} forever: kernel32 sets {@code Internal} to {@code STATUS_PENDING}
     * before it issues the request, and a request that never started is never completed, so nothing
     * writes it again. Check the call's own result first; call {@link #reset()} before reusing the
     * OVERLAPPED.
     *
     * @return {@code true} unless {@code Internal} is {@code STATUS_PENDING}
     */
    public boolean isComplete() {
        return _OVERLAPPED.Internal(segment) != STATUS_PENDING;
    }

    /**
     * {@code InternalHigh}: bytes the finished request transferred.
     *
     * @return the byte count
     */
    public int bytesTransferred() {
        return (int) _OVERLAPPED.InternalHigh(segment);
    }

    /**
     * Closes the event and frees the memory. Refused while {@code Internal} says
     * {@code STATUS_PENDING}: the kernel still owns the OVERLAPPED then, and freeing it would let
     * the kernel write into freed memory (the JDK's channels likewise refuse to free memory an
     * operation holds). After a request that failed synchronously (see
     * {@link #isComplete()}), call {@link #reset()} first.
     *
     * @throws IllegalStateException a request using this OVERLAPPED is still pending
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (!isComplete()) {
            throw new IllegalStateException("the OVERLAPPED is still in use by a pending request (Internal is "
                    + "STATUS_PENDING): wait for its completion, or reset() it after a synchronous failure");
        }
        closed = true;
        Calls.closeHandle(event);
        arena.close();
    }

    /** The few downcalls this class makes, with {@code GetLastError} captured. Windows only. */
    private static final class Calls {
        static {
            WindowsLibraries.load();
        }

        private static final Linker.Option CAPTURE = Linker.Option.captureCallState("GetLastError");
        private static final VarHandle LAST_ERROR = Linker.Option.captureStateLayout()
                .varHandle(MemoryLayout.PathElement.groupElement("GetLastError"));
        private static final MethodHandle CREATE_EVENT = Linker.nativeLinker().downcallHandle(
                Win32.CreateEventW$address(), Win32.CreateEventW$descriptor(), CAPTURE);
        private static final MethodHandle RESET_EVENT = Linker.nativeLinker().downcallHandle(
                Win32.ResetEvent$address(), Win32.ResetEvent$descriptor());
        private static final MethodHandle CLOSE_HANDLE = Linker.nativeLinker().downcallHandle(
                Win32.CloseHandle$address(), Win32.CloseHandle$descriptor());

        static MemorySegment createEvent(MemorySegment capture, boolean signaled) {
            try {
                return (MemorySegment) CREATE_EVENT.invokeExact(capture, MemorySegment.NULL, 1, signaled ? 1 : 0,
                        MemorySegment.NULL);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void resetEvent(MemorySegment event) {
            try {
                int ignored = (int) RESET_EVENT.invokeExact(event);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void closeHandle(MemorySegment handle) {
            try {
                int ignored = (int) CLOSE_HANDLE.invokeExact(handle);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static int lastError(MemorySegment capture) {
            return (int) LAST_ERROR.get(capture, 0L);
        }

        private static RuntimeException rethrow(Throwable t) {
            if (t instanceof RuntimeException r) {
                return r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            return new IllegalStateException(t);
        }
    }

    static {
        // keep ValueLayout referenced for readers who look for the OVERLAPPED field sizes here
        assert _OVERLAPPED.layout().byteSize() == SIZE && ValueLayout.ADDRESS.byteSize() == 8;
    }
}
