package io.panapipe.internal.nio;

import io.panapipe.PipeException;
import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.unix.Errno;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A connected {@link SocketChannel}, used the way the JDK is fastest: in blocking mode, so an
 * untimed read or write parks a virtual thread in the JDK's own poller (or blocks a platform
 * thread in the kernel, as the JDK's channels do) with no hop through a thread of ours.
 *
 * <ul>
 * <li><b>Timeouts.</b> A blocking AF_UNIX channel has no timed read or write in the JDK (its socket
 *     adaptor, which has {@code SO_TIMEOUT}, is not offered for Unix domain sockets). So the first
 *     timed call turns the channel to non-blocking mode for good, and from then on every wait goes
 *     through the {@link ReadinessPoller}, with deadlines, as before. The JDK changes a channel's
 *     mode only when no read or write is in progress on it: if the other direction is blocked in an
 *     untimed call at that moment, the first timed call waits for it, and if its deadline passes
 *     first it times out having transferred nothing (the pipe stays usable; the switch completes
 *     as soon as the other call returns). Later timed calls are not affected.
 * <li><b>Close</b> closes the channel at once, which wakes a blocked read or write with
 *     {@link AsynchronousCloseException} (the JDK's own wake-up). <b>Interrupt</b> is the JDK's:
 *     the channel closes and the call throws {@link ClosedByInterruptException}.
 * <li><b>One contract with the native engines:</b> a peer that died (connection reset) is end of
 *     stream (-1) on read; a write to a gone peer is a {@link PipeException} {@code EPIPE}; other
 *     failures are {@code PipeException}s naming the errno.
 * </ul>
 *
 * <p>Steady state allocates nothing here: the {@code ByteBuffer} view of the last segment used is
 * kept (by identity) and repositioned.
 */
final class NioTransport implements Transport {
    private final SocketChannel channel;
    private final ReadinessPoller poller;
    private final ReadinessPoller.Interest interest;
    private final IoGate gate = new IoGate();
    private final Operation readOp = new Operation(0);
    private final Operation writeOp = new Operation(1);
    private final View readView = new View();
    private final View writeView = new View();

    /** Whether the channel has been switched to non-blocking mode (for good) by a timed call. */
    private volatile boolean polling;
    /** The one-time switch to non-blocking mode, started by the first timed call. */
    private final AtomicReference<CompletableFuture<Void>> switchToPolling = new AtomicReference<>();

    NioTransport(SocketChannel channel, ReadinessPoller poller) throws IOException {
        if (!channel.isBlocking()) {
            channel.configureBlocking(true);
        }
        this.channel = channel;
        this.poller = poller;
        this.interest = new ReadinessPoller.Interest(channel, SelectionKey.OP_READ);
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public boolean lendsBuffersToKernel() {
        return false; // the JDK moves the data inside the read/write call
    }

    @Override
    public int read(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        try {
            ByteBuffer bb = readView.of(buf, offset, length);
            if (!polling) {
                if (timeoutNanos < 0) {
                    int n = channel.read(bb);
                    if (n != 0) {
                        return n;
                    }
                    // 0 from a blocking channel: a timed call switched it meanwhile
                } else {
                    long deadline = System.nanoTime() + timeoutNanos;
                    awaitPolling(deadline, "read");
                    timeoutNanos = Math.max(0, deadline - System.nanoTime());
                }
            }
            return pollingRead(bb, timeoutNanos);
        } catch (IOException e) {
            return readFailure(e);
        }
    }

    private int pollingRead(ByteBuffer bb, long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            int n = channel.read(bb);
            if (n != 0) {
                return n;
            }
            long left = timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
            int outcome = waitFor(readOp, SelectionKey.OP_READ, left);
            if (outcome != Operation.COMPLETED) {
                n = channel.read(bb); // bytes that raced with the cancel are delivered, not dropped
                if (n != 0 && outcome == Operation.TIMED_OUT) {
                    return n;
                }
                throw Operation.failure(outcome, "read");
            }
        }
    }

    @Override
    public boolean isMessageComplete() {
        return true;
    }

    @Override
    public int write(MemorySegment buf, long offset, int length, long timeoutNanos) throws IOException {
        try {
            ByteBuffer bb = writeView.of(buf, offset, length);
            if (!polling) {
                if (timeoutNanos < 0) {
                    int n = channel.write(bb);
                    if (n != 0 || length == 0) {
                        return n;
                    }
                    // 0 from a blocking channel: a timed call switched it meanwhile
                } else {
                    long deadline = System.nanoTime() + timeoutNanos;
                    awaitPolling(deadline, "write");
                    timeoutNanos = Math.max(0, deadline - System.nanoTime());
                }
            }
            return pollingWrite(bb, length, timeoutNanos);
        } catch (IOException e) {
            throw writeFailure(e);
        }
    }

    /**
     * Switches the channel to non-blocking mode (once, for good), waiting at most until
     * {@code deadline}. The JDK's {@code configureBlocking} waits for a read or write in progress,
     * so it runs on a helper virtual thread; if the deadline passes first the call times out having
     * transferred nothing, and the switch completes later.
     */
    private void awaitPolling(long deadline, String what) throws IOException {
        CompletableFuture<Void> f = switchToPolling.get();
        if (f == null) {
            CompletableFuture<Void> mine = new CompletableFuture<>();
            if (switchToPolling.compareAndSet(null, mine)) {
                Thread.ofVirtual().name("panapipe-nio-mode-switch").start(() -> {
                    try {
                        channel.configureBlocking(false);
                        polling = true;
                        mine.complete(null);
                    } catch (Throwable t) {
                        mine.completeExceptionally(t);
                    }
                });
            }
            f = switchToPolling.get();
        }
        try {
            f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new PipeTimeoutException(what + " timed out (the first timed call on this pipe waits for an "
                    + "untimed call in the other direction to return)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClosedByInterruptException();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private int pollingWrite(ByteBuffer bb, int length, long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            int n = channel.write(bb);
            if (n != 0 || length == 0) {
                return n;
            }
            long left = timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
            int outcome = waitFor(writeOp, SelectionKey.OP_WRITE, left);
            if (outcome != Operation.COMPLETED) {
                throw Operation.failure(outcome, "write");
            }
        }
    }

    private int waitFor(Operation op, int kind, long timeoutNanos) {
        op.arm();
        poller.await(interest, op, kind);
        return op.await(timeoutNanos, o -> poller.cancel(interest, o), gate);
    }

    /** A read failure as the native engines report it: a reset peer is end of stream. */
    private int readFailure(IOException e) throws IOException {
        IOException mapped = common(e, "read");
        if (mapped instanceof PipeException p && p.nativeCode() == Errno.ECONNRESET) {
            return -1; // the peer died: end of stream, as on io_uring
        }
        throw mapped;
    }

    /** A write failure as the native engines report it: a gone peer is {@code EPIPE}. */
    private IOException writeFailure(IOException e) {
        IOException mapped = common(e, "write");
        if (mapped instanceof PipeException p && (p.nativeCode() == Errno.EPIPE || p.nativeCode() == Errno.ECONNRESET)) {
            PipeException broken = new PipeException("write", Errno.EPIPE, "EPIPE",
                    "Broken pipe: the other end closed the pipe");
            broken.initCause(e);
            return broken;
        }
        return mapped;
    }

    private IOException common(IOException e, String what) {
        if (e instanceof AsynchronousCloseException || e instanceof PipeException
                || e instanceof PipeTimeoutException) {
            return e; // ClosedByInterruptException included
        }
        if (gate.isClosing()) {
            AsynchronousCloseException c = new AsynchronousCloseException();
            c.initCause(e);
            return c;
        }
        if (Thread.currentThread().isInterrupted() && !channel.isOpen()) {
            ClosedByInterruptException c = new ClosedByInterruptException();
            c.initCause(e);
            return c;
        }
        if (e instanceof ClosedChannelException) {
            return e;
        }
        return Errno.fromJdk(what, e, null);
    }

    @Override
    public long peerProcessId() throws IOException {
        throw new UnsupportedOperationException("peerProcessId needs SO_PEERCRED's pid, which the JDK's "
                + "SocketChannel does not expose; the io_uring engine (Linux) and the IOCP engine (Windows) provide it");
    }

    @Override
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void wakeAll() {
        readOp.wakeWaiter();
        writeOp.wakeWaiter();
        try {
            channel.close(); // wakes a read or write blocked in the JDK (AsynchronousCloseException)
        } catch (IOException ignored) {
            // release() closes again and reports
        }
    }

    @Override
    public void release() throws IOException {
        poller.deregister(interest);
        readView.clear();
        writeView.clear();
        channel.close();
    }

    /**
     * The {@code ByteBuffer} view of the segment last used, repositioned for each call. Kept by
     * identity: a new segment (or a new slice) gets a new view; the view keeps the segment's
     * scope, so a closed arena still fails in the JDK's own check.
     */
    private static final class View {
        /**
         * The most one call moves (1 GiB): a {@code ByteBuffer} holds less than 2 GiB, so larger
         * transfers are done in pieces (the caller loops; a write of 2 GiB or more sends it all).
         */
        static final int MAX_TRANSFER = 1 << 30;

        private MemorySegment base;
        private ByteBuffer view;

        ByteBuffer of(MemorySegment seg, long offset, int length) {
            length = Math.min(length, MAX_TRANSFER);
            if (seg != base) {
                if (seg.byteSize() > MAX_TRANSFER) {
                    return seg.asSlice(offset, length).asByteBuffer(); // larger than a view can be: per call
                }
                view = seg.asByteBuffer();
                base = seg;
            }
            view.clear();
            view.position((int) offset);
            view.limit((int) offset + length);
            return view;
        }

        void clear() {
            base = null;
            view = null;
        }
    }
}
