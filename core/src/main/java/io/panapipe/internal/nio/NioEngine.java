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

import java.io.IOException;
import java.net.StandardProtocolFamily;
import jdk.net.UnixDomainPrincipal;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;

/** The portable fallback: see the package documentation. */
public final class NioEngine implements Engine {
    private static final class Holder {
        static final NioEngine INSTANCE = new NioEngine();
    }

    private final ReadinessPoller poller = new ReadinessPoller();

    private NioEngine() {
    }

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
        Path path = SocketFiles.prepareForBind(name);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path), options.acceptBacklog());
        } catch (IOException e) {
            server.close();
            PipeException p = new PipeException("bind " + path, Errno.EADDRINUSE, "EADDRINUSE", e.getMessage());
            p.initCause(e);
            throw p;
        }
        try {
            String perms = options.posixPermissions() != null ? options.posixPermissions() : "rw-------";
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(perms));
            return new NioServer(server, path, options, poller);
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(path);
            throw e;
        }
    }

    @Override
    public Transport connect(PipeName name, PipeOptions options) throws IOException {
        requireByteMode(options);
        if (name.isWindowsPath()) {
            throw new IllegalArgumentException("a Windows pipe path cannot be opened on this platform: " + name.osPath());
        }
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(name.socketPath()));
            if (options.verifyServerUser()) {
                UnixDomainPrincipal peer = channel.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
                if (!peer.user().equals(currentUser())) {
                    throw new PipeException("connect to " + name.osPath(), Errno.EACCES, "EACCES",
                            "the server runs as " + peer.user().getName() + ", not as this user");
                }
            }
            return new NioTransport(channel, poller);
        } catch (IOException e) {
            channel.close();
            throw SocketFiles.connectFailure(name, e);
        }
    }

    /** This process's user, as {@code SO_PEERCRED} principals name it. */
    static UserPrincipal currentUser() throws IOException {
        return FileSystems.getDefault().getUserPrincipalLookupService()
                .lookupPrincipalByName(System.getProperty("user.name"));
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
                    + "SOCK_SEQPACKET, which the JDK's SocketChannel lacks; use the io_uring engine (Linux) or Windows");
        }
    }
}
