package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;

/**
 * One connected named-pipe handle, server or client end. {@code ReadFile}/{@code WriteFile} get
 * native memory the kernel may hold until the completion: the caller's own when
 * {@link io.panapipe.internal.CallerMemory#mayLendToKernel} allows it, else the pipe's staging
 * buffer ({@link #lendsBuffersToKernel}, DESIGN rule 12). The overlapped mechanics are
 * {@link OverlappedIo}'s; this class only says what a pipe's results mean ({@code ERROR_MORE_DATA}
 * is data plus "message not complete", a broken or disconnected pipe is end of stream: DESIGN
 * rule 7) and keeps the
 * write-timeout contract (BYTE writes in pieces of at most {@link #MAX_BYTE_WRITE}; after a
 * cancelled write the write side is unusable).
 */
final class NamedPipeTransport implements Transport {
    private final IocpEngine engine;
    private final Win32Api api;
    private final long handle;
    private final boolean serverEnd;
    private final PipeMode mode;
    private final IoGate gate = new IoGate();
    private final Arena arena = Arena.ofShared();
    private final OverlappedIo reader;
    private final OverlappedIo writer;
    private boolean messageComplete = true; // reader thread only
    /**
     * Why the write side is unusable, or {@code null}: set when a timed-out write was cancelled
     * with an unknown number of its bytes already taken by the reader (issue 10, defect 1).
     */
    private volatile String writeSideBroken;

    /**
     * The most one BYTE-mode {@code WriteFile} carries. A cancelled {@code WriteFile} completes with
     * {@code ERROR_OPERATION_ABORTED} and 0 bytes even when the reader already took a prefix of it
     * (Wine, dlls/kernel32/tests/pipe.c, test_blocking_rw, cancelling a partially read pending
     * write), so after a timeout at most this much is unaccounted for; and {@code PipeChannel} never
     * hands the kernel gigabytes in one request.
     */
    static final int MAX_BYTE_WRITE = 64 * 1024;
    private final Runnable onRelease;

    /** @param handle an open pipe handle already associated with the engine's port */
    NamedPipeTransport(IocpEngine engine, long handle, boolean serverEnd, PipeMode mode) {
        this(engine, handle, serverEnd, mode, null);
    }

    /**
     * @param onRelease run once the handle is closed (a server counts its live instances), or null
     */
    NamedPipeTransport(IocpEngine engine, long handle, boolean serverEnd, PipeMode mode, Runnable onRelease) {
        this.onRelease = onRelease;
        this.engine = engine;
        this.api = engine.api();
        this.handle = handle;
        this.serverEnd = serverEnd;
        this.mode = mode;
        OverlappedIo r = engine.newIo(arena, handle, gate);
        OverlappedIo w;
        try {
            w = engine.newIo(arena, handle, gate);
        } catch (RuntimeException e) {
            engine.releaseIo(r); // never armed: nothing in flight
            arena.close();
            throw e;
        }
        this.reader = r;
        this.writer = w;
    }

    long handle() {
        return handle;
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public boolean lendsBuffersToKernel() {
        return true; // an overlapped ReadFile/WriteFile keeps the address until its completion packet
    }

    @Override
    public int read(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        long address = buf.address() + offset;
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            long left = timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
            reader.run(OverlappedIo.READ, address, length, left);
            int n = reader.bytes();
            int error = reader.error();
            WinError.ReadOutcome what = WinError.classifyRead(error);
            // Data first, even if a cancel raced with it: a cancelled read may still have
            // transferred bytes, and they are never dropped (DESIGN rule 2).
            if (what == WinError.ReadOutcome.PARTIAL_MESSAGE) {
                messageComplete = false; // ERROR_MORE_DATA: bytes, and the message goes on (DESIGN rule 7)
                return n;
            }
            if ((what == WinError.ReadOutcome.DATA && (n > 0 || mode == PipeMode.MESSAGE))
                    || (what == WinError.ReadOutcome.CANCELLED && n > 0)) {
                messageComplete = true; // in MESSAGE mode an empty message is data too
                return n;
            }
            if (reader.outcome() != Operation.COMPLETED) {
                throw interrupted(reader.outcome(), "read", 0);
            }
            switch (what) {
                case DATA -> {
                    // a zero-byte read in BYTE mode (someone wrote nothing): keep waiting
                }
                case END_OF_STREAM -> {
                    messageComplete = true;
                    return -1;
                }
                case CANCELLED -> throw new AsynchronousCloseException();
                default -> throw WinError.exception("ReadFile", error);
            }
        }
    }

    @Override
    public boolean isMessageComplete() {
        return mode != PipeMode.MESSAGE || messageComplete;
    }

    @Override
    public int write(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        String broken = writeSideBroken;
        if (broken != null) {
            throw new IOException(broken);
        }
        if (mode == PipeMode.BYTE) {
            length = Math.min(length, MAX_BYTE_WRITE); // PipeChannel.writeAll loops over the rest
        }
        writer.run(OverlappedIo.WRITE, buf.address() + offset, length, timeoutNanos);
        int n = writer.bytes();
        int error = writer.error();
        if (error == WinError.ERROR_SUCCESS && (n > 0 || length == 0)) {
            return n; // also when the cancel lost the race: the whole request completed
        }
        if (writer.outcome() != Operation.COMPLETED) {
            if (writer.outcome() == Operation.TIMED_OUT) {
                // Cancelled: the reader may have taken part of this request, which the completion
                // does not report. Retrying would duplicate it (or split a message), so refuse
                // further writes; the caller's count covers only the requests that completed.
                writeSideBroken = "the pipe's write side is unusable: an earlier write timed out, and up to "
                        + length + " bytes of its cancelled WriteFile may have reached the reader (Windows does not"
                        + " report them); close the pipe and reconnect";
                throw new PipeTimeoutException("write timed out; up to " + length
                        + " bytes of the cancelled WriteFile may have reached the reader, so the write side is"
                        + " now unusable", 0);
            }
            throw interrupted(writer.outcome(), "write", 0);
        }
        if (error == WinError.ERROR_SUCCESS) {
            // Success with 0 of length > 0 bytes: no progress, and writeAll would loop on it
            // forever (issue 10, defect 8). Not a documented outcome of WriteFile; report it.
            throw new PipeException("WriteFile", error, WinError.name(error),
                    "reported success with 0 of " + length + " bytes written");
        }
        if (WinError.isPeerGone(error)) {
            throw new PipeException("WriteFile", error, WinError.name(error), "Broken pipe: the other end closed the pipe");
        }
        throw WinError.exception("WriteFile", error);
    }

    static IOException interrupted(int outcome, String what, int bytes) {
        return switch (outcome) {
            case Operation.TIMED_OUT -> new PipeTimeoutException(what + " timed out", bytes);
            case Operation.INTERRUPTED -> new ClosedByInterruptException();
            default -> new AsynchronousCloseException();
        };
    }

    @Override
    public long peerProcessId() throws IOException {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(local);
            MemorySegment pid = local.allocate(ValueLayout.JAVA_INT);
            int ok = serverEnd
                    ? api.getNamedPipeClientProcessId(capture, handle, pid.address())
                    : api.getNamedPipeServerProcessId(capture, handle, pid.address());
            if (ok == 0) {
                throw WinError.exception(serverEnd ? "GetNamedPipeClientProcessId" : "GetNamedPipeServerProcessId",
                        api.lastError(capture));
            }
            return Integer.toUnsignedLong(pid.get(ValueLayout.JAVA_INT, 0));
        }
    }

    @Override
    public void wakeAll() {
        reader.operation().wakeWaiter();
        writer.operation().wakeWaiter();
    }

    /**
     * Closes the handle: no request is in flight (the gate is idle), so the slots can go too. No
     * {@code FlushFileBuffers} and no {@code DisconnectNamedPipe}: closing the handle leaves the
     * bytes already written readable by the other end, which then sees {@code ERROR_BROKEN_PIPE}.
     */
    @Override
    public void release() throws IOException {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(local);
            int ok = api.closeHandle(capture, handle);
            if (onRelease != null) {
                onRelease.run();
            }
            engine.releaseIo(reader);
            engine.releaseIo(writer);
            engine.closeArena(arena, reader, writer); // kept if a slot in it was retired
            if (ok == 0) {
                throw WinError.exception("CloseHandle", api.lastError(capture));
            }
        }
    }
}
