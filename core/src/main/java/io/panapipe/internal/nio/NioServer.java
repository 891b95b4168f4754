package io.panapipe.internal.nio;

import io.panapipe.PipeException;
import io.panapipe.PipeOptions;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.unix.AcceptBackoff;
import io.panapipe.internal.unix.Errno;
import io.panapipe.internal.unix.SocketFiles;
import io.panapipe.internal.unix.UnixUser;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * A listening {@link ServerSocketChannel}. An accepted channel is either handed out as a transport
 * or closed, whatever fails in between; the user it is compared with was looked up once, at bind.
 * Out of descriptors, accept backs off ({@link AcceptBackoff}).
 *
 * <p>As {@link NioTransport}'s channels, it starts in blocking mode: an untimed accept parks a
 * virtual thread in the JDK's own poller (a platform thread blocks in the kernel), with no hop
 * through the {@link ReadinessPoller}'s thread; {@link #wakeAll} closes the channel, which wakes it
 * with {@link AsynchronousCloseException}. The first timed accept turns the channel to non-blocking
 * mode for good and waits through the {@code ReadinessPoller}, with its deadline. No accept runs
 * meanwhile ({@code PipeServer} accepts one at a time), so the switch is immediate.
 */
final class NioServer implements ServerEndpoint {
    private final ServerSocketChannel channel;
    private final SocketFiles.Published file;
    private final String what;
    private final PipeOptions options;
    private final ReadinessPoller poller;
    private final ReadinessPoller.Interest interest;
    private final IoGate gate = new IoGate();
    private final Operation acceptOp = new Operation(0);
    private final AcceptBackoff backoff = new AcceptBackoff();
    /** Whether a timed accept has switched the channel to non-blocking mode (for good). */
    private boolean polling;

    NioServer(ServerSocketChannel channel, SocketFiles.Published file, PipeOptions options, ReadinessPoller poller)
            throws IOException {
        channel.configureBlocking(true);
        this.channel = channel;
        this.file = file;
        this.what = "accept on " + file.path();
        this.options = options;
        this.poller = poller;
        this.interest = new ReadinessPoller.Interest(channel, SelectionKey.OP_ACCEPT);
    }

    @Override
    public IoGate gate() {
        return gate;
    }

    @Override
    public Transport accept(long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        if (timeoutNanos >= 0 && !polling) {
            configureBlocking(false);
            polling = true;
        }
        for (;;) {
            SocketChannel client;
            try {
                client = channel.accept(); // blocks (parks a virtual thread) unless polling
            } catch (ClosedChannelException e) {
                throw closed(e);
            } catch (IOException e) {
                if (gate.isClosing()) {
                    throw closed(e);
                }
                PipeException p = Errno.fromJdk(what, e, null);
                if (AcceptBackoff.appliesTo(p.nativeCode())) {
                    backoff.pause(p, gate, deadline, timeoutNanos >= 0);
                    continue;
                }
                throw p;
            }
            if (client != null) {
                backoff.reset();
                Transport t = admit(client);
                if (t != null) {
                    return t;
                }
                continue;
            }
            long left = timeoutNanos < 0 ? Operation.NO_TIMEOUT : Math.max(0, deadline - System.nanoTime());
            acceptOp.arm();
            poller.await(interest, acceptOp, SelectionKey.OP_ACCEPT);
            int outcome = acceptOp.await(left, o -> poller.cancel(interest, o), gate);
            if (outcome != Operation.COMPLETED) {
                throw Operation.failure(outcome, "accept");
            }
        }
    }

    private void configureBlocking(boolean blocking) throws IOException {
        try {
            channel.configureBlocking(blocking);
        } catch (ClosedChannelException e) {
            throw closed(e);
        } catch (IOException e) {
            throw Errno.fromJdk(what, e, null);
        }
    }

    /**
     * The exception of an accept the channel's closing ended: the JDK's own
     * ({@link AsynchronousCloseException}, or {@link java.nio.channels.ClosedByInterruptException}
     * after an interrupt, which closes the server as the JDK's does), else an
     * {@code AsynchronousCloseException} if the server is closing.
     */
    private IOException closed(IOException e) {
        if (e instanceof AsynchronousCloseException || !gate.isClosing()) {
            return e;
        }
        AsynchronousCloseException c = new AsynchronousCloseException();
        c.initCause(e);
        return c;
    }

    /** The client as a transport, or {@code null} if it was refused; closed on every failure. */
    private Transport admit(SocketChannel client) throws IOException {
        boolean handedOut = false;
        try {
            if (options.currentUserOnly()) {
                UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
                if (!peer.user().equals(UnixUser.principal())) {
                    return null; // another user: refuse quietly (closed below) and keep serving
                }
            }
            client.configureBlocking(true);
            Transport t = new NioTransport(client, poller);
            handedOut = true;
            return t;
        } catch (IOException e) {
            throw Errno.fromJdk(what, e, null);
        } finally {
            if (!handedOut) {
                NioEngine.closeQuietly(client);
            }
        }
    }

    @Override
    public void wakeAll() {
        acceptOp.wakeWaiter();
        NioEngine.closeQuietly(channel); // wakes an accept blocked in the JDK; release() removes the file
    }

    @Override
    public void release() throws IOException {
        poller.deregister(interest);
        try {
            channel.close();
        } finally {
            file.close();
        }
    }
}
