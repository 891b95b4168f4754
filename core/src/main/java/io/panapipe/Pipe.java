package io.panapipe;

import io.panapipe.internal.PipeChannel;
import io.panapipe.internal.Timeouts;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.Objects;

/**
 * One connection, from {@link PipeServer#accept()} or {@link PipeClient#connect(PipeName)}.
 *
 * <p>Reads and writes block the calling thread; a virtual thread unmounts while it waits, so one
 * server can hold thousands of connections on virtual threads. A native {@link MemorySegment}
 * is handed to the kernel as it is (no copy); heap arrays, heap segments and heap buffers are
 * staged through one native buffer per connection (see {@link PipeOptions#withHeapBufferSize}).
 * One exception, in BYTE mode on the Linux epoll engine (the default there): a read into fewer
 * than 512 bytes goes through the pipe's own 512-byte read-ahead buffer. That costs a copy of the
 * few bytes asked for, and buys two things: the bytes that follow (a length prefix's body, the
 * next pipelined message) are answered without a system call, and the engine can tell that the
 * socket was left empty and skip one system call per request/response. A staged read (heap
 * memory) fills the whole staging buffer on every engine. Writes are never copied from native
 * memory. No path allocates per call.
 *
 * <p>One read and one write may run at the same time (from different threads); concurrent
 * reads (or writes) take turns. Like the JDK's channels: {@link #close()} from another thread
 * makes a blocked call throw {@link java.nio.channels.AsynchronousCloseException}; interrupting a
 * thread blocked in a call closes the pipe and throws
 * {@link java.nio.channels.ClosedByInterruptException}; any call on a closed pipe throws
 * {@link java.nio.channels.ClosedChannelException}. A read that times out throws
 * {@link PipeTimeoutException} and leaves the pipe usable.
 *
 * @since 0.1
 */
public final class Pipe implements ByteChannel {
    private final PipeChannel channel;
    private final PipeName name;
    private InputStream in;
    private OutputStream out;

    Pipe(PipeChannel channel, PipeName name) {
        this.channel = channel;
        this.name = name;
    }

    /**
     * Reads at most {@code dst.byteSize()} bytes into {@code dst}, waiting until at least one byte
     * (or, in MESSAGE mode, one message or part of one) is there.
     *
     * @param dst where the bytes go: a native segment is handed to the kernel as it is
     * @return bytes read, or -1 at end of stream (the other end closed)
     * @throws IOException if the read fails, the pipe is closed, or the thread is interrupted
     */
    public int read(MemorySegment dst) throws IOException {
        return channel.read(Objects.requireNonNull(dst, "dst"), Operation.NO_TIMEOUT);
    }

    /**
     * As {@link #read(MemorySegment)}, but gives up after {@code timeout}.
     *
     * @param dst where the bytes go
     * @param timeout how long to wait for data
     * @return bytes read, or -1 at end of stream
     * @throws PipeTimeoutException if nothing arrived in time; the pipe stays usable and no data
     *         is lost (bytes that arrived while the read was being cancelled are returned instead)
     * @throws IllegalArgumentException if the timeout is negative or absurdly long
     */
    public int read(MemorySegment dst, Duration timeout) throws IOException {
        long nanos = Timeouts.toNanos(timeout, "timeout");
        return channel.read(Objects.requireNonNull(dst, "dst"), nanos);
    }

    /**
     * Writes all of {@code src}; in MESSAGE mode as one message.
     *
     * @param src the bytes to write
     * @return {@code src.byteSize()}
     * @throws IOException if the write fails (the other end closed, for one), the pipe is
     *         closed, or the thread is interrupted
     */
    public int write(MemorySegment src) throws IOException {
        return channel.write(Objects.requireNonNull(src, "src"), Operation.NO_TIMEOUT);
    }

    /**
     * As {@link #write(MemorySegment)}, but gives up after {@code timeout} (a reader that stopped
     * reading, a full pipe).
     *
     * @param src the bytes to write
     * @param timeout how long the write may take
     * @return {@code src.byteSize()}
     * @throws PipeTimeoutException if not all of it went out in time; its
     *         {@link PipeTimeoutException#bytesTransferred} counts the bytes known to have gone out,
     *         exactly, on every engine. What differs is whether the cancelled remainder is known:
     *         <ul>
     *           <li>Unix engines (io_uring, nio): it is — nothing of it reached the peer, so the
     *               pipe stays usable and the next write continues the stream (in MESSAGE mode the
     *               count is 0: a message goes whole or not at all).</li>
     *           <li>Windows (IOCP): writes go out in pieces of at most 64 KiB, and the count is the
     *               bytes of the pieces that completed. Windows does not report the bytes a reader
     *               already took from a {@code WriteFile} that is then cancelled (it completes with
     *               {@code ERROR_OPERATION_ABORTED} and 0 bytes), so after a write timeout up to one
     *               piece more may have reached the peer — or, in MESSAGE mode, part of the message.
     *               A retry could duplicate those bytes, so the pipe's <em>write side</em> is unusable
     *               afterwards: later writes throw {@link IOException}, while reads go on as
     *               before.</li>
     *         </ul>
     *         Code that must retry a timed-out write exactly works on both: after a timeout on
     *         Windows, close and reconnect.
     */
    public int write(MemorySegment src, Duration timeout) throws IOException {
        long nanos = Timeouts.toNanos(timeout, "timeout");
        return channel.write(Objects.requireNonNull(src, "src"), nanos);
    }

    /** Reads into a buffer (from its position to its limit), as {@link #read(MemorySegment)}. */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("read-only buffer");
        }
        int pos = dst.position();
        int n;
        if (dst.hasArray()) {
            n = channel.read(dst.array(), dst.arrayOffset() + pos, dst.remaining(), Operation.NO_TIMEOUT);
        } else {
            n = channel.read(MemorySegment.ofBuffer(dst), Operation.NO_TIMEOUT);
        }
        if (n > 0) {
            dst.position(pos + n);
        }
        return n;
    }

    /** Writes all of a buffer's remaining bytes, as {@link #write(MemorySegment)}. */
    @Override
    public int write(ByteBuffer src) throws IOException {
        int pos = src.position();
        int n = src.remaining();
        if (src.hasArray()) {
            channel.write(src.array(), src.arrayOffset() + pos, n, Operation.NO_TIMEOUT);
        } else {
            channel.write(MemorySegment.ofBuffer(src), Operation.NO_TIMEOUT);
        }
        src.position(pos + n);
        return n;
    }

    /**
     * MESSAGE mode: whether the last read ended a message. {@code false} means the message was
     * longer than the read buffer and the next reads return the rest (Windows
     * {@code ERROR_MORE_DATA}, Unix {@code MSG_TRUNC} on a {@code SOCK_SEQPACKET} peek).
     * Always {@code true} in BYTE mode.
     *
     * @return whether the last read ended a message
     */
    public boolean isMessageComplete() {
        return channel.isMessageComplete();
    }

    /**
     * Byte or message framing of this connection.
     *
     * @return the mode
     */
    public PipeMode mode() {
        return channel.mode();
    }

    /**
     * The name this pipe was accepted on or connected to.
     *
     * @return the name
     */
    public PipeName name() {
        return name;
    }

    /**
     * The process id of the other end ({@code GetNamedPipeClientProcessId} /
     * {@code GetNamedPipeServerProcessId} on Windows, {@code SO_PEERCRED} on Unix).
     * {@link PipeEngine#supportsPeerProcessId()} tells whether the running engine offers it.
     *
     * @return the peer's process id
     * @throws IOException if the system call fails or the pipe is closed
     * @throws UnsupportedOperationException if the engine cannot tell (the {@code nio} engine)
     */
    public long peerProcessId() throws IOException {
        return channel.peerProcessId();
    }

    /**
     * Half-closes the pipe: the other end reads what was written, then end of stream (-1), while
     * this end can still read. As with the JDK's channels, later writes throw
     * {@link java.nio.channels.ClosedChannelException}. Unix domain sockets have half-close;
     * Windows named pipes do not.
     *
     * @throws UnsupportedOperationException on Windows, whose named pipes have no half-close
     *         (close the pipe instead)
     * @throws IOException if the system call fails or the pipe is closed
     * @since 0.1
     */
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /**
     * Whether {@link #shutdownOutput()} has been called.
     *
     * @return {@code true} after a successful {@link #shutdownOutput()}
     * @since 0.1
     */
    public boolean isOutputShutdown() {
        return channel.isOutputShutdown();
    }

    /**
     * A stream view of this pipe. Closing it closes the pipe. {@code read} blocks as
     * {@link #read(MemorySegment)} does and returns -1 at end of stream.
     *
     * @return the input stream of this pipe (the same one each time)
     */
    public synchronized InputStream inputStream() {
        if (in == null) {
            in = new InputStream() {
                private final byte[] one = new byte[1];

                @Override
                public int read() throws IOException {
                    int n;
                    do {
                        n = channel.read(one, 0, 1, Operation.NO_TIMEOUT);
                    } while (n == 0);
                    return n < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return channel.read(b, off, len, Operation.NO_TIMEOUT);
                }

                @Override
                public void close() throws IOException {
                    Pipe.this.close();
                }
            };
        }
        return in;
    }

    /**
     * A stream view of this pipe; each {@code write} call is one write (one message in MESSAGE
     * mode). Closing it closes the pipe.
     *
     * @return the output stream of this pipe (the same one each time)
     */
    public synchronized OutputStream outputStream() {
        if (out == null) {
            out = new OutputStream() {
                private final byte[] one = new byte[1];

                @Override
                public void write(int b) throws IOException {
                    one[0] = (byte) b;
                    channel.write(one, 0, 1, Operation.NO_TIMEOUT);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    channel.write(b, off, len, Operation.NO_TIMEOUT);
                }

                @Override
                public void close() throws IOException {
                    Pipe.this.close();
                }
            };
        }
        return out;
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    /**
     * Closes the pipe: blocked calls wake with {@link java.nio.channels.AsynchronousCloseException},
     * the handle and all native memory of the connection are released before this returns.
     * Idempotent.
     */
    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "Pipe[" + name + ", " + channel.mode() + (isOpen() ? "" : ", closed") + "]";
    }
}
