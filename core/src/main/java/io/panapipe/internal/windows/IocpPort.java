package io.panapipe.internal.windows;

import io.panapipe.PipeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The engine's one I/O completion port: creating it, associating handles with it (before their
 * first I/O, in skip-on-success mode: DESIGN rule 4), waking its pollers, closing it.
 */
final class IocpPort {
    /** Completion key of every associated handle; the OVERLAPPED, not the key, identifies the operation. */
    static final long KEY_IO = 0;
    /** Completion key of the packets that wake pollers for shutdown (posted with a NULL OVERLAPPED). */
    static final long KEY_WAKE = 1;
    /** {@code INVALID_HANDLE_VALUE}: {@code (HANDLE) -1}. */
    static final long INVALID_HANDLE = -1L;

    private final Win32Api api;
    private final long handle;

    IocpPort(Win32Api api) throws PipeException {
        this.api = api;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(arena);
            long h = api.createIoCompletionPort(capture, INVALID_HANDLE, 0L, 0L, 0);
            if (h == 0) {
                throw WinError.exception("CreateIoCompletionPort", api.lastError(capture));
            }
            handle = h;
        }
    }

    Win32Api api() {
        return api;
    }

    long handle() {
        return handle;
    }

    /**
     * Associates {@code fileHandle} with the port and puts it in
     * {@code FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE} mode. Must run
     * before the handle's first overlapped request.
     *
     * @param capture a capture area the calling thread owns
     */
    void associate(long fileHandle, MemorySegment capture) throws PipeException {
        long h = api.createIoCompletionPort(capture, fileHandle, handle, KEY_IO, 0);
        if (h == 0) {
            throw WinError.exception("CreateIoCompletionPort (associate)", api.lastError(capture));
        }
        if (api.setFileCompletionNotificationModes(capture, fileHandle, PipeFlags.completionModes()) == 0) {
            throw WinError.exception("SetFileCompletionNotificationModes", api.lastError(capture));
        }
    }

    /** Posts one wake-up packet (key {@link #KEY_WAKE}, NULL OVERLAPPED). */
    void wake(MemorySegment capture) throws PipeException {
        if (api.postQueuedCompletionStatus(capture, handle, 0, KEY_WAKE, 0L) == 0) {
            throw WinError.exception("PostQueuedCompletionStatus", api.lastError(capture));
        }
    }

    void close(MemorySegment capture) {
        api.closeHandle(capture, handle);
    }
}
