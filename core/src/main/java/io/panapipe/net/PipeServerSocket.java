package io.panapipe.net;

import io.panapipe.Pipe;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeServer;
import io.panapipe.PipeTimeoutException;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link ServerSocket} whose connections come from a {@link PipeServer}: for code written
 * against {@code ServerSocket} that should serve a pipe instead of a TCP port.
 *
 * <p>{@link #accept()} returns {@link PipeSocket}s. {@link #setSoTimeout(int)} bounds each
 * {@code accept}, which then throws {@link SocketTimeoutException} and leaves the server usable.
 * {@link #close()} wakes a blocked {@code accept} (it throws {@link SocketException}).
 *
 * <pre>{@code
 * try (ServerSocket server = new PipeServerSocket(PipeName.of("my-service"))) {
 *     while (true) {
 *         Socket s = server.accept();
 *         Thread.ofVirtual().start(() -> handle(s));
 *     }
 * }
 * }</pre>
 *
 * @since 0.1
 */
public class PipeServerSocket extends ServerSocket {
    private final PipeOptions options;
    private final ReentrantLock stateLock = new ReentrantLock();
    private volatile PipeServer server;
    private volatile boolean closed;
    private volatile int soTimeout;

    /**
     * An unbound server socket: {@link #bind(SocketAddress)} it to a {@link PipeSocketAddress}.
     *
     * @param options server options (mode, security, backlog, buffer sizes)
     * @throws IOException never in practice (declared by {@link ServerSocket}'s constructor)
     */
    public PipeServerSocket(PipeOptions options) throws IOException {
        super();   // creates no OS socket: every method that would reach one is overridden
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * A server socket bound to {@code name} with {@link PipeOptions#defaults()}.
     *
     * @param name the pipe to serve
     * @throws IOException if the pipe cannot be bound (a live server holds it, for one)
     */
    public PipeServerSocket(PipeName name) throws IOException {
        this(name, PipeOptions.defaults());
    }

    /**
     * A server socket bound to {@code name} with {@code options}.
     *
     * @param name the pipe to serve
     * @param options server options
     * @throws IOException if the pipe cannot be bound (a live server holds it, for one)
     */
    public PipeServerSocket(PipeName name, PipeOptions options) throws IOException {
        this(options);
        bindTo(PipeSocketAddress.of(Objects.requireNonNull(name, "name")));
    }

    /**
     * Binds to a pipe.
     *
     * @param endpoint a {@link PipeSocketAddress}
     * @throws IllegalArgumentException if {@code endpoint} is not a {@link PipeSocketAddress}
     */
    @Override
    public void bind(SocketAddress endpoint) throws IOException {
        bind(endpoint, 0);
    }

    /**
     * Binds to a pipe; {@code backlog} is ignored (see {@link PipeOptions#withAcceptBacklog}).
     *
     * @param endpoint a {@link PipeSocketAddress}
     * @param backlog ignored
     * @throws IllegalArgumentException if {@code endpoint} is not a {@link PipeSocketAddress}
     */
    @Override
    public void bind(SocketAddress endpoint, int backlog) throws IOException {
        if (!(endpoint instanceof PipeSocketAddress address)) {
            throw new IllegalArgumentException("Unsupported address type: "
                    + (endpoint == null ? null : endpoint.getClass().getName()) + " (pass a PipeSocketAddress)");
        }
        bindTo(address);
    }

    private void bindTo(PipeSocketAddress address) throws IOException {
        stateLock.lock();
        try {
            if (closed) {
                throw new SocketException("Socket is closed");
            }
            if (server != null) {
                throw new SocketException("Already bound");
            }
            server = PipeServer.bind(address.name(), options);
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * The pipe server under this socket.
     *
     * @return the bound server
     * @throws SocketException if not bound
     */
    public PipeServer pipeServer() throws SocketException {
        PipeServer s = server;
        if (s == null) {
            throw new SocketException("Socket is not bound yet");
        }
        return s;
    }

    /**
     * Waits for the next client, for at most {@link #getSoTimeout()} milliseconds if that is set.
     *
     * @return a connected {@link PipeSocket}
     * @throws SocketTimeoutException if the timeout passed first (the server stays usable)
     * @throws SocketException if the server socket is or gets closed
     */
    @Override
    public Socket accept() throws IOException {
        PipeServer s = pipeServer();
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        int timeout = soTimeout;
        Pipe pipe;
        try {
            pipe = timeout == 0 ? s.accept() : s.accept(Duration.ofMillis(timeout));
        } catch (PipeTimeoutException e) {
            throw PipeSocket.socketTimeout("Accept timed out", e);
        } catch (IOException e) {
            throw PipeSocket.asSocketException(e);
        }
        return new PipeSocket(pipe);
    }

    /** Closes the pipe server; a blocked {@link #accept()} throws {@link SocketException}. Idempotent. */
    @Override
    public void close() throws IOException {
        closed = true;
        PipeServer s = server;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public boolean isBound() {
        return server != null;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /** The {@link PipeSocketAddress} of the pipe, once bound. */
    @Override
    public SocketAddress getLocalSocketAddress() {
        PipeServer s = server;
        return s == null ? null : PipeSocketAddress.of(s.name());
    }

    /** Loopback once bound: a pipe has no IP address. */
    @Override
    public InetAddress getInetAddress() {
        return server == null ? null : InetAddress.getLoopbackAddress();
    }

    /** -1: a pipe has no port. */
    @Override
    public int getLocalPort() {
        return -1;
    }

    /** {@code null}: not backed by a {@link ServerSocketChannel}; see {@link #pipeServer()}. */
    @Override
    public ServerSocketChannel getChannel() {
        return null;
    }

    /**
     * Sets the accept timeout in milliseconds; 0 waits forever.
     *
     * @param timeout milliseconds, 0 for none
     */
    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        soTimeout = timeout;
    }

    @Override
    public int getSoTimeout() throws IOException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        return soTimeout;
    }

    /** Ignored: a stale socket file is replaced by the bind itself, a live server's never is. */
    @Override
    public void setReuseAddress(boolean on) throws SocketException {
    }

    /** {@code true}: see {@link #setReuseAddress(boolean)}. */
    @Override
    public boolean getReuseAddress() throws SocketException {
        return true;
    }

    /** Ignored: buffer sizes are {@link PipeOptions}. */
    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("negative receive size");
        }
    }

    /** The input buffer size of the pipe's options. */
    @Override
    public int getReceiveBufferSize() throws SocketException {
        return options.inBufferSize();
    }

    /** Ignored. */
    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
    }

    /**
     * Not supported: a pipe server socket has no {@link java.net.StandardSocketOptions}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public <T> ServerSocket setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        throw new UnsupportedOperationException("'" + name + "' not supported on a pipe server socket");
    }

    /**
     * Not supported: a pipe server socket has no {@link java.net.StandardSocketOptions}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        Objects.requireNonNull(name, "name");
        throw new UnsupportedOperationException("'" + name + "' not supported on a pipe server socket");
    }

    /** The empty set. */
    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return Set.of();
    }

    @Override
    public String toString() {
        PipeServer s = server;
        return closed ? "PipeServerSocket[closed]"
                : s == null ? "PipeServerSocket[unbound]" : "PipeServerSocket[" + s.name() + "]";
    }
}
