package io.panapipe.internal.nio;

import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.completion.Operation;

import java.io.IOException;
import jdk.net.UnixDomainPrincipal;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;

/** A listening non-blocking {@link ServerSocketChannel}. */
final class NioServer implements ServerEndpoint {
    private final ServerSocketChannel channel;
    private final Path path;
    private final PipeOptions options;
    private final ReadinessPoller poller;
    private final ReadinessPoller.Interest interest;
    private final IoGate gate = new IoGate();
    private final Operation acceptOp = new Operation(0);

    NioServer(ServerSocketChannel channel, Path path, PipeOptions options, ReadinessPoller poller) throws IOException {
        channel.configureBlocking(false);
        this.channel = channel;
        this.path = path;
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
        UserPrincipal me = null;
        for (;;) {
            SocketChannel client = channel.accept();
            if (client != null) {
                if (options.currentUserOnly()) {
                    if (me == null) {
                        me = NioEngine.currentUser();
                    }
                    UnixDomainPrincipal peer = client.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
                    if (!peer.user().equals(me)) {
                        client.close(); // another user: refuse quietly and keep serving
                        continue;
                    }
                }
                return new NioTransport(client, poller);
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

    @Override
    public void wakeAll() {
        acceptOp.wakeWaiter();
    }

    @Override
    public void release() throws IOException {
        poller.deregister(interest);
        try {
            channel.close();
        } finally {
            Files.deleteIfExists(path);
        }
    }
}
