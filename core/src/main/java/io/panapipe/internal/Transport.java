package io.panapipe.internal;

import io.panapipe.internal.completion.IoGate;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One connected pipe as an engine implements it: the few primitives that differ between io_uring,
 * IOCP and the NIO fallback. Locking, heap-buffer staging, closing and interrupt handling are done
 * once, above, by {@link PipeChannel}; every method here is called between
 * {@code gate().enter()} and {@code gate().exit()}, at most one read and one write at a time.
 */
public interface Transport {
    /**
     * The gate of this connection's handle; the transport's operations wait on it.
     *
     * @return this connection's gate
     */
    IoGate gate();

    /**
     * Whether the kernel keeps a buffer after the downcall that handed it over returns (a
     * completion engine: io_uring, IOCP). If so, {@link PipeChannel} passes only caller segments
     * that {@link CallerMemory#mayLendToKernel} approves and stages the rest through the pipe's
     * own buffer. Readiness engines move data inside the downcall and answer {@code false}.
     *
     * @return {@code true} for a completion engine
     */
    boolean lendsBuffersToKernel();

    /**
     * Whether a small BYTE-mode read into native memory should go through the pipe's read-ahead
     * buffer ({@link #readIntoOwn}) rather than straight to the transport. Only for an engine that
     * learns something from reading into the pipe's own memory (the epoll engine: that the socket
     * was left empty); the others pass small reads through, with no copy and no per-connection
     * buffer to allocate and free.
     *
     * @return {@code true} to read small requests ahead
     */
    default boolean wantsReadAhead() {
        return false;
    }

    /**
     * A new arena for one of the pipe's own buffers (staging, read-ahead), which the pipe closes
     * once the transport is released. A shared arena by default; an engine whose kernel never
     * holds a buffer after a call may offer one that frees without the JVM-wide handshake a shared
     * arena's close costs.
     *
     * @return a new arena, closed by the caller
     */
    default Arena newBufferArena() {
        return Arena.ofShared();
    }

    /**
     * Reads into native memory: at most {@code length} bytes into {@code buf} at {@code offset}.
     * (Offset and length are passed separately so that no slice is allocated per call.)
     *
     * @param buf a native segment
     * @param offset where in {@code buf} the bytes go
     * @param length at least 1
     * @param timeoutNanos {@link io.panapipe.internal.completion.Operation#NO_TIMEOUT} or a limit
     * @return bytes read (0 only for an empty message), or -1 at end of stream
     * @throws io.panapipe.PipeTimeoutException nothing arrived in time (the pipe stays usable)
     * @throws java.nio.channels.AsynchronousCloseException the gate started closing
     * @throws java.nio.channels.ClosedByInterruptException the thread was interrupted (the caller closes)
     */
    int read(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException;

    /**
     * {@link #read}, into memory the pipe itself owns (its staging buffer), which cannot be freed
     * while the call runs. An engine may then use calls that take raw addresses and tell it more
     * than {@code recv} does (the epoll engine learns from {@code recvmsg} whether the socket was
     * left empty, and then skips the next read's {@code EAGAIN} call).
     *
     * @param own the pipe's own native memory
     * @param offset where in {@code own} the bytes go
     * @param length at least 1
     * @param timeoutNanos as for {@link #read}
     * @return as {@link #read}
     * @throws IOException as {@link #read}
     */
    default int readIntoOwn(MemorySegment own, long offset, int length, long timeoutNanos) throws IOException {
        return read(own, offset, length, timeoutNanos);
    }

    /**
     * After a read in MESSAGE mode: whether it ended the message. Always {@code true} in BYTE mode.
     *
     * @return whether the last read ended a message
     */
    boolean isMessageComplete();

    /**
     * Writes {@code length} bytes of native memory at {@code offset}: in BYTE mode at least one
     * byte, in MESSAGE mode all of them as one message.
     *
     * @param buf a native segment
     * @param offset where in {@code buf} the bytes start
     * @param length at least 1 in BYTE mode; 0 sends an empty message in MESSAGE mode
     * @param timeoutNanos {@link io.panapipe.internal.completion.Operation#NO_TIMEOUT} or a limit
     * @return bytes written
     * @throws io.panapipe.PipeTimeoutException the write did not finish in time
     * @throws java.nio.channels.AsynchronousCloseException the gate started closing
     * @throws java.nio.channels.ClosedByInterruptException the thread was interrupted (the caller closes)
     * @throws IOException the write failed (e.g. the other end closed)
     */
    int write(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException;

    /**
     * Half-close: the peer reads end of stream once it has read what was sent; reading goes on.
     * Engines whose pipes have no half-close (Windows named pipes) throw.
     *
     * @throws UnsupportedOperationException the platform's pipes have no half-close
     * @throws IOException the system call failed
     */
    default void shutdownOutput() throws IOException {
        throw new UnsupportedOperationException("a Windows named pipe has no half-close: close the pipe to end the stream");
    }

    /**
     * The process id of the other end.
     *
     * @return the peer's process id
     * @throws IOException the system call failed
     */
    long peerProcessId() throws IOException;

    /** Wakes the threads waiting in this transport so that they see the gate closing. */
    void wakeAll();

    /**
     * After {@link #release}: whether the kernel may still hold a buffer of this connection (a
     * completion engine that had to abandon a request when its poller failed). The channel then
     * deliberately leaks its staging buffers instead of freeing memory the kernel may write.
     *
     * @return {@code true} if the staging buffers must not be freed
     */
    default boolean kernelMayHoldBuffers() {
        return false;
    }

    /**
     * Closes the handle and frees native memory; called once, after the gate is idle.
     *
     * @throws IOException closing the handle failed
     */
    void release() throws IOException;
}
