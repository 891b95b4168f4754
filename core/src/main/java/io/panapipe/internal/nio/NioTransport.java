package io.panapipe.internal.nio;

import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/** A connected non-blocking {@link SocketChannel}; waits for readiness through the poller. */
final class NioTransport implements Transport {
    private final SocketChannel channel;
    private final ReadinessPoller poller;
    private final ReadinessPoller.Interest interest;
    private final IoGate gate = new IoGate();
    private final Operation readOp = new Operation(0);
    private final Operation writeOp = new Operation(1);

    NioTransport(SocketChannel channel, ReadinessPoller poller) throws IOException {
        channel.configureBlocking(false);
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
        ByteBuffer bb = buf.asSlice(offset, length).asByteBuffer();
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
        ByteBuffer bb = buf.asSlice(offset, length).asByteBuffer();
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

    @Override
    public long peerProcessId() throws IOException {
        throw new UnsupportedOperationException("peerProcessId needs SO_PEERCRED's pid, which the JDK's "
                + "SocketChannel does not expose; the io_uring engine (Linux) and the IOCP engine (Windows) provide it");
    }

    @Override
    public void wakeAll() {
        readOp.wakeWaiter();
        writeOp.wakeWaiter();
    }

    @Override
    public void release() throws IOException {
        poller.deregister(interest);
        channel.close();
    }
}
