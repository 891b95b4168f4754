package io.panapipe.internal;

import io.panapipe.PipeMode;
import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.ClosedByInterruptException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * What every engine's connection shares: one reader and one writer at a time, the caller's
 * segment checked before any system call, heap data (and, for completion engines, memory that
 * could be freed while the kernel holds it) staged through a per-connection native buffer, the
 * JDK's interrupt semantics, and the close protocol of {@link IoGate}. Engine specifics are in
 * the {@link Transport}.
 */
public final class PipeChannel {
    private static final int MAX_MESSAGE = io.panapipe.PipeOptions.MAX_BUFFER_SIZE;
    /**
     * BYTE mode, on an engine that {@linkplain Transport#wantsReadAhead wants it}: a read into
     * native memory shorter than this goes through the pipe's own read-ahead buffer of this size.
     * One copy of a few bytes buys two things: the bytes that follow (a length prefix's body, the
     * next pipelined message) are served without a syscall, and the engine, reading into its own
     * memory, can tell that the socket was left empty (the epoll engine then skips the next
     * read's EAGAIN call: one syscall less per request/response).
     */
    static final int READ_AHEAD = 512;

    private final Transport transport;
    private final IoGate gate;
    private final PipeMode mode;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock closeLock = new ReentrantLock();
    private final Staging readStaging;
    /** BYTE mode on an engine that {@linkplain Transport#wantsReadAhead wants it}; else {@code null}. */
    private final Staging readAhead;
    private final Staging writeStaging;
    private final Runnable afterClose;
    private boolean messageComplete = true;
    private volatile boolean outputShutdown;
    // Bytes a staged read took from the kernel but has not yet handed to the caller: normally for
    // a moment, until copied; longer only if the copy failed (the caller's arena was closed while
    // the read waited), so that the next read delivers them instead of losing them. In BYTE mode
    // also the bytes a read took ahead of what its caller asked for.
    private MemorySegment held;
    private int heldOffset;
    private int heldLength;
    private boolean heldMessageComplete = true;

    /** An {@code afterClose} that does nothing. */
    public static final Runnable NOTHING = () -> { };

    /**
     * A connection over {@code transport}; the staging buffers are allocated on first use.
     *
     * @param transport the engine's connection, owned by this channel from now on
     * @param mode the pipe's mode
     * @param heapBufferSize size of each staging buffer ({@link io.panapipe.PipeOptions#heapBufferSize()})
     */
    public PipeChannel(Transport transport, PipeMode mode, int heapBufferSize) {
        this(transport, mode, heapBufferSize, NOTHING);
    }

    /**
     * As {@link #PipeChannel(Transport, PipeMode, int)}, running {@code afterClose} once when the
     * channel is closed, after the transport was released (a server's instance slot comes back).
     *
     * @param transport the engine's connection, owned by this channel from now on
     * @param mode the pipe's mode
     * @param heapBufferSize size of each staging buffer ({@link io.panapipe.PipeOptions#heapBufferSize()})
     * @param afterClose run once at the end of the first {@link #close()}, even if releasing failed
     */
    public PipeChannel(Transport transport, PipeMode mode, int heapBufferSize, Runnable afterClose) {
        this.transport = transport;
        this.gate = transport.gate();
        this.mode = mode;
        this.readStaging = new Staging(heapBufferSize, transport::newBufferArena);
        this.readAhead = mode == PipeMode.BYTE && transport.wantsReadAhead()
                ? new Staging(READ_AHEAD, transport::newBufferArena) : null;
        this.writeStaging = new Staging(heapBufferSize, transport::newBufferArena);
        this.afterClose = afterClose;
    }

    /**
     * The pipe's mode.
     *
     * @return BYTE or MESSAGE
     */
    public PipeMode mode() {
        return mode;
    }

    /**
     * Whether {@link #close()} has not begun.
     *
     * @return {@code true} until the channel starts closing
     */
    public boolean isOpen() {
        return !gate.isClosing();
    }

    /**
     * See {@link io.panapipe.Pipe#read(MemorySegment, java.time.Duration)}.
     *
     * @param dst where the bytes go
     * @param timeoutNanos {@link Operation#NO_TIMEOUT} or a limit
     * @return bytes read, or -1 at end of stream
     * @throws IOException as {@link io.panapipe.Pipe#read(MemorySegment, java.time.Duration)}
     */
    public int read(MemorySegment dst, long timeoutNanos) throws IOException {
        CallerMemory.checkUsable(dst);
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("destination segment is read-only");
        }
        readLock.lock();
        try {
            begin();
            int n;
            try {
                if (dst.byteSize() == 0) {
                    return 0;
                }
                if (heldLength > 0) {
                    return handOutHeld(dst, null, 0, (int) Math.min(dst.byteSize(), Integer.MAX_VALUE));
                }
                boolean small = readAhead != null && dst.byteSize() < READ_AHEAD;
                if (passThrough(dst) && !small) {
                    n = transport.read(dst, 0, (int) Math.min(dst.byteSize(), Integer.MAX_VALUE), timeoutNanos);
                } else {
                    n = readStaged(small ? readAhead : readStaging, dst.byteSize(), timeoutNanos);
                    if (n > 0) {
                        return handOutHeld(dst, null, 0, (int) Math.min(dst.byteSize(), Integer.MAX_VALUE));
                    }
                }
                messageComplete = transport.isMessageComplete();
            } finally {
                end();
            }
            return n;
        } catch (ClosedByInterruptException e) {
            closeAfterInterrupt();
            throw e;
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Reads into part of a byte array, staged through native memory.
     *
     * @param a where the bytes go
     * @param off index of the first byte in {@code a}
     * @param len at most this many bytes
     * @param timeoutNanos {@link Operation#NO_TIMEOUT} or a limit
     * @return bytes read, or -1 at end of stream
     * @throws IOException as {@link io.panapipe.Pipe#read(MemorySegment, java.time.Duration)}
     */
    public int read(byte[] a, int off, int len, long timeoutNanos) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, a.length);
        readLock.lock();
        try {
            begin();
            int n;
            try {
                if (len == 0) {
                    return 0;
                }
                if (heldLength > 0) {
                    return handOutHeld(null, a, off, len);
                }
                n = readStaged(readStaging, len, timeoutNanos);
                if (n > 0) {
                    return handOutHeld(null, a, off, len);
                }
                messageComplete = transport.isMessageComplete();
            } finally {
                end();
            }
            return n;
        } catch (ClosedByInterruptException e) {
            closeAfterInterrupt();
            throw e;
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Reads into {@code staging} and holds what arrived for {@link #handOutHeld}. In BYTE mode it
     * asks for the whole buffer, not just the {@code wanted} bytes: the rest is read-ahead.
     *
     * @return bytes now held, or the transport's 0 / -1
     */
    private int readStaged(Staging staging, long wanted, long timeoutNanos) throws IOException {
        boolean message = mode == PipeMode.MESSAGE;
        MemorySegment buf = staging.get(wanted, message);
        int length = (int) (message ? Math.min(wanted, buf.byteSize()) : buf.byteSize());
        int n = transport.readIntoOwn(buf, 0, length, timeoutNanos);
        if (n > 0) {
            held = buf;
            heldOffset = 0;
            heldLength = n;
            heldMessageComplete = transport.isMessageComplete();
        }
        return n;
    }

    /**
     * Copies held bytes to the caller ({@code dst}, or {@code a} at {@code off} when {@code dst} is
     * null). If the copy fails, e.g. with {@code IllegalStateException} because the destination's
     * arena was closed meanwhile, the bytes stay held for the next read.
     */
    private int handOutHeld(MemorySegment dst, byte[] a, int off, int len) {
        int n = Math.min(len, heldLength);
        if (dst != null) {
            MemorySegment.copy(held, heldOffset, dst, 0, n);
        } else {
            MemorySegment.copy(held, ValueLayout.JAVA_BYTE, heldOffset, a, off, n);
        }
        heldOffset += n;
        heldLength -= n;
        messageComplete = heldLength == 0 && heldMessageComplete;
        return n;
    }

    /**
     * Writes all of {@code src} (one message in MESSAGE mode).
     *
     * @param src the bytes to write
     * @param timeoutNanos {@link Operation#NO_TIMEOUT} or a limit
     * @return {@code src.byteSize()}, capped at {@code Integer.MAX_VALUE}
     * @throws IOException as {@link io.panapipe.Pipe#write(MemorySegment, java.time.Duration)};
     *         {@link java.nio.channels.ClosedChannelException} after {@link #shutdownOutput()}
     */
    public int write(MemorySegment src, long timeoutNanos) throws IOException {
        CallerMemory.checkUsable(src);
        long size = src.byteSize();
        if (mode == PipeMode.MESSAGE && size > MAX_MESSAGE) {
            throw new IllegalArgumentException("message of " + size + " bytes exceeds the limit of " + MAX_MESSAGE);
        }
        boolean timed = timeoutNanos >= 0;
        long deadline = timed ? System.nanoTime() + timeoutNanos : 0;
        writeLock.lock();
        try {
            begin();
            if (outputShutdown) {
                end();
                throw new java.nio.channels.ClosedChannelException(); // as the JDK's channels after shutdownOutput
            }
            try {
                if (passThrough(src)) {
                    writeAll(src, size, deadline, timed, 0);
                } else {
                    MemorySegment buf = writeStaging.get(size, mode == PipeMode.MESSAGE);
                    long done = 0;
                    do {
                        int chunk = (int) Math.min(size - done, buf.byteSize());
                        MemorySegment.copy(src, done, buf, 0, chunk);
                        writeAll(buf, chunk, deadline, timed, done);
                        done += chunk;
                    } while (done < size);
                }
            } finally {
                end();
            }
            return (int) Math.min(size, Integer.MAX_VALUE);
        } catch (ClosedByInterruptException e) {
            closeAfterInterrupt();
            throw e;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Writes part of a byte array, staged through native memory.
     *
     * @param a the bytes to write
     * @param off index of the first byte in {@code a}
     * @param len how many bytes to write (one message in MESSAGE mode)
     * @param timeoutNanos {@link Operation#NO_TIMEOUT} or a limit
     * @throws IOException as {@link #write(MemorySegment, long)}
     */
    public void write(byte[] a, int off, int len, long timeoutNanos) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, a.length);
        boolean timed = timeoutNanos >= 0;
        long deadline = timed ? System.nanoTime() + timeoutNanos : 0;
        writeLock.lock();
        try {
            begin();
            if (outputShutdown) {
                end();
                throw new java.nio.channels.ClosedChannelException(); // as the JDK's channels after shutdownOutput
            }
            try {
                MemorySegment buf = writeStaging.get(len, mode == PipeMode.MESSAGE);
                int done = 0;
                do {
                    int chunk = (int) Math.min(len - done, buf.byteSize());
                    MemorySegment.copy(a, off + done, buf, ValueLayout.JAVA_BYTE, 0, chunk);
                    writeAll(buf, chunk, deadline, timed, done);
                    done += chunk;
                } while (done < len);
            } finally {
                end();
            }
        } catch (ClosedByInterruptException e) {
            closeAfterInterrupt();
            throw e;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Writes {@code length} bytes of {@code buf}: one message in MESSAGE mode, as many transport
     * writes as it takes in BYTE mode (a transport may take less than it is offered: IOCP takes at
     * most 64 KiB a {@code WriteFile}, so that a timeout loses the accounting of one piece, never of
     * gigabytes). A timeout reports every byte known to have gone out, those of earlier pieces
     * ({@code alreadyWritten}) included; a transport that cannot know the bytes of its cancelled
     * request (IOCP) also makes its write side unusable, see {@link io.panapipe.Pipe#write(MemorySegment,
     * java.time.Duration)}.
     */
    private void writeAll(MemorySegment buf, long length, long deadline, boolean timed, long alreadyWritten)
            throws IOException {
        if (length == 0 && mode == PipeMode.BYTE) {
            return;
        }
        long offset = 0;
        try {
            do {
                long left = timed ? Math.max(0, deadline - System.nanoTime()) : Operation.NO_TIMEOUT;
                offset += transport.write(buf, offset, (int) Math.min(length - offset, Integer.MAX_VALUE), left);
            } while (offset < length && mode == PipeMode.BYTE);
        } catch (PipeTimeoutException e) {
            long written = alreadyWritten + offset;
            PipeTimeoutException t = new PipeTimeoutException("write timed out after " + written + " bytes",
                    (int) Math.min(written, Integer.MAX_VALUE));
            t.initCause(e);
            throw t;
        }
    }

    /**
     * Whether the caller's segment goes to the transport as it is (zero copy) rather than through
     * the pipe's staging buffer: native memory, and for completion engines only memory that
     * cannot be freed while the kernel holds it (DESIGN rule 12).
     */
    private boolean passThrough(MemorySegment segment) {
        return segment.isNative() && (!transport.lendsBuffersToKernel() || CallerMemory.mayLendToKernel(segment));
    }

    /**
     * See {@link io.panapipe.Pipe#isMessageComplete()}.
     *
     * @return whether the last read ended a message
     */
    public boolean isMessageComplete() {
        readLock.lock();
        try {
            return messageComplete;
        } finally {
            readLock.unlock();
        }
    }

    /**
     * See {@link io.panapipe.Pipe#shutdownOutput()}. Does not wait for a blocked writer: the kernel
     * wakes it (its write then fails), and later writes throw {@code ClosedChannelException}.
     *
     * @throws IOException as {@link io.panapipe.Pipe#shutdownOutput()}
     */
    public void shutdownOutput() throws IOException {
        gate.enter();
        try {
            if (!outputShutdown) {
                transport.shutdownOutput();
                outputShutdown = true;
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Whether {@link #shutdownOutput()} has been called.
     *
     * @return {@code true} after a successful {@link #shutdownOutput()}
     */
    public boolean isOutputShutdown() {
        return outputShutdown;
    }

    /**
     * See {@link io.panapipe.Pipe#peerProcessId()}.
     *
     * @return the peer's process id
     * @throws IOException as {@link io.panapipe.Pipe#peerProcessId()}
     */
    public long peerProcessId() throws IOException {
        gate.enter();
        try {
            return transport.peerProcessId();
        } finally {
            gate.exit();
        }
    }

    /**
     * Closes the connection: blocked reads and writes are cancelled and wake with
     * {@code AsynchronousCloseException}; returns once the handle and native memory are released.
     * A second call waits for the first to finish.
     *
     * @throws IOException if the transport's release fails (the staging buffers are freed anyway)
     */
    public void close() throws IOException {
        closeLock.lock();
        try {
            if (!gate.startClose()) {
                return;
            }
            transport.wakeAll();
            gate.awaitIdle();
            try {
                transport.release();
            } finally {
                freeBuffers();
                afterClose.run();
            }
        } finally {
            closeLock.unlock();
        }
    }

    /** Frees the staging buffers, unless a failed engine's kernel may still write to them (then leaked on purpose). */
    private void freeBuffers() {
        if (transport.kernelMayHoldBuffers()) {
            return;
        }
        readStaging.free();
        if (readAhead != null) {
            readAhead.free();
        }
        writeStaging.free();
    }

    private void begin() throws IOException {
        gate.enter();
        if (Thread.currentThread().isInterrupted()) {
            gate.exit();
            throw new ClosedByInterruptException(); // as the JDK: an interrupted thread closes the channel
        }
    }

    private void end() {
        gate.exit();
    }

    private void closeAfterInterrupt() {
        try {
            close();
        } catch (IOException ignored) {
            // the ClosedByInterruptException being thrown says what happened
        }
    }

    /**
     * A native buffer allocated on first use. In BYTE mode it has a fixed size and large transfers
     * go through it in pieces; in MESSAGE mode it grows to the largest message seen, since a
     * message must be sent, and is best received, whole. Growth replaces its arena; steady state
     * allocates nothing.
     */
    private static final class Staging {
        private final int baseSize;
        private final Supplier<Arena> arenas;
        private Arena arena;
        private MemorySegment segment;

        /** @param arenas where the memory comes from ({@link Transport#newBufferArena}) */
        Staging(int baseSize, Supplier<Arena> arenas) {
            this.baseSize = baseSize;
            this.arenas = arenas;
        }

        MemorySegment get(long wanted, boolean grow) {
            long size = grow ? Math.max(baseSize, Math.min(wanted, MAX_MESSAGE)) : baseSize;
            if (segment == null || segment.byteSize() < size) {
                free();
                arena = arenas.get();
                segment = arena.allocate(size, 64);
            }
            return segment;
        }

        void free() {
            if (arena != null) {
                arena.close();
                arena = null;
                segment = null;
            }
        }
    }
}
