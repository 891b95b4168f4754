package io.panapipe.internal.nio;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.internal.Engine;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.unix.Errno;
import io.panapipe.internal.unix.SocketFiles;
import io.panapipe.internal.unix.UnixUser;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/** The portable fallback: see the package documentation. */
public final class NioEngine implements Engine {
    private static final class Holder {
        static final NioEngine INSTANCE = new NioEngine();
    }

    private final ReadinessPoller poller = new ReadinessPoller();

    private NioEngine() {
    }

    /**
     * The engine of this JVM, created on first use.
     *
     * @return the JVM-wide engine
     */
    public static NioEngine instance() {
        return Holder.INSTANCE;
    }

    @Override
    public String name() {
        return "nio";
    }

    @Override
    public ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException {
        requireByteMode(options);
        UnixUser.uid(); // this user, looked up once, before any accept can run out of descriptors
        SocketFiles.Bound<ServerSocketChannel> bound = SocketFiles.bind(name, options, at -> {
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                server.bind(UnixDomainSocketAddress.of(at), options.acceptBacklog());
                return server;
            } catch (IOException e) {
                server.close();
                throw Errno.fromJdk("bind " + at, e, null);
            } catch (RuntimeException e) {
                server.close();
                throw e;
            }
        }, NioEngine::closeQuietly);
        try {
            return new NioServer(bound.handle(), bound.file(), options, poller);
        } catch (IOException | RuntimeException e) {
            closeQuietly(bound.handle());
            bound.file().close();
            throw e;
        }
    }

    /**
     * One attempt: a non-blocking {@code connect}, so that a full backlog is {@code EAGAIN} at
     * once (the caller retries until its deadline) instead of a connect that blocks in the kernel.
     */
    @Override
    public Transport connect(PipeName name, PipeOptions options) throws IOException {
        requireByteMode(options);
        if (name.isWindowsPath()) {
            throw new IllegalArgumentException("a Windows pipe path cannot be opened on this platform: " + name.osPath());
        }
        SocketFiles.checkBeforeConnect(name);
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw SocketFiles.connectFailure(name, e);
        }
        try {
            channel.configureBlocking(false);
            if (!channel.connect(UnixDomainSocketAddress.of(name.socketPath()))) {
                // AF_UNIX connects complete at once; a pending one is treated as a full backlog
                throw new PipeException("connect to " + name.osPath(), Errno.EAGAIN, "EAGAIN", "the server's backlog is full");
            }
            if (SocketFiles.mustVerifyServerUser(name, options)) {
                UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
                if (!peer.user().equals(UnixUser.principal())) {
                    throw new PipeException("connect to " + name.osPath(), Errno.EACCES, "EACCES",
                            "the server runs as " + peer.user().getName() + ", not as this user (uid " + UnixUser.uid()
                                    + "); refusing to talk to it");
                }
            }
            channel.configureBlocking(true);
            return new NioTransport(channel, poller);
        } catch (IOException e) {
            closeQuietly(channel);
            throw SocketFiles.connectFailure(name, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    static void closeQuietly(java.nio.channels.Channel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // error path
        }
    }

    @Override
    public boolean isBusy(PipeException e) {
        return e.nativeCode() == Errno.EAGAIN;
    }

    @Override
    public boolean isAbsent(PipeException e) {
        return e.nativeCode() == Errno.ENOENT || e.nativeCode() == Errno.ECONNREFUSED;
    }

    private static void requireByteMode(PipeOptions options) {
        if (options.mode() != PipeMode.BYTE) {
            throw new UnsupportedOperationException("the nio engine supports BYTE mode only: MESSAGE mode needs "
                    + "SOCK_SEQPACKET, which the JDK's SocketChannel lacks (and macOS lacks for AF_UNIX); "
                    + "use the io_uring engine (Linux) or Windows");
        }
    }
}
