package io.panapipe.net;

import io.panapipe.Pipe;
import io.panapipe.PipeClient;
import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.PipeTimeoutException;
import io.panapipe.internal.Engines;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link Socket} whose connection is a {@link Pipe}: for clients that take a socket or a
 * {@link javax.net.SocketFactory} (see {@link PipeSocketFactory}).
 *
 * <p>A socket made with a target pipe ({@link #PipeSocket(PipeName)}, or by a
 * {@link PipeSocketFactory}) connects to that pipe whatever address {@link #connect(SocketAddress,
 * int)} is given: clients resolve a host and port and pass an {@link InetSocketAddress}, which is
 * remembered (for {@link #getInetAddress()} and {@link #getPort()}) and otherwise ignored. A
 * {@link PipeSocketAddress} given to {@code connect} always wins.
 *
 * <p>{@link #setSoTimeout(int)} bounds each read of {@link #getInputStream()}; a read that times
 * out throws {@link SocketTimeoutException} and the socket stays usable. The input stream's
 * {@link InputStream#available()} tells how many bytes can be read without blocking (it looks
 * ahead without waiting). Closing either stream closes the socket. TCP options are remembered but
 * change nothing. {@link #shutdownInput()} is local; {@link #shutdownOutput()} half-closes on Unix
 * and is refused on Windows (see the {@linkplain io.panapipe.net package description}). The socket has no {@link #getChannel()
 * channel}: use {@link #pipe()} for the Panapipe API itself.
 *
 * <p>A server that is not there fails {@code connect} at once with {@link ConnectException} (as a
 * refused TCP connection does); a server whose instances are all busy is retried for
 * {@link PipeClient#DEFAULT_BUSY_WAIT}, or for the connect timeout if that is longer.
 *
 * @since 0.1
 */
public class PipeSocket extends Socket {
    private final PipeName target;
    private final PipeOptions options;
    private final ReentrantLock stateLock = new ReentrantLock();
    private volatile Pipe pipe;
    private volatile boolean closed;
    private volatile boolean inputShutdown;
    private volatile boolean outputShutdown;
    private volatile int soTimeout;
    private InetSocketAddress requested;
    private PipeInput in;
    private PipeOutput out;

    // TCP options: remembered for clients that set and read them back, no effect on a pipe.
    private boolean tcpNoDelay;
    private boolean keepAlive;
    private boolean reuseAddress;
    private boolean oobInline;
    private int soLinger = -1;
    private int sendBufferSize = 64 * 1024;
    private int receiveBufferSize = 64 * 1024;
    private int trafficClass;

    /** An unconnected socket without a target: {@link #connect} must be given a {@link PipeSocketAddress}. */
    public PipeSocket() {
        this(null, PipeOptions.defaults());
    }

    /**
     * An unconnected socket that {@link #connect connects} to {@code target}.
     *
     * @param target the pipe to connect to, whatever address {@code connect} is given
     */
    public PipeSocket(PipeName target) {
        this(Objects.requireNonNull(target, "target"), PipeOptions.defaults());
    }

    /**
     * An unconnected socket that {@link #connect connects} to {@code target} with {@code options}
     * (impersonation level, server-user check, buffer sizes).
     *
     * @param target the pipe to connect to, or {@code null} to require a {@link PipeSocketAddress}
     * @param options client options
     */
    public PipeSocket(PipeName target, PipeOptions options) {
        super();   // creates no OS socket: every method that would reach one is overridden
        this.target = target;
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * A connected socket over a pipe that is already open (from {@link io.panapipe.PipeServer#accept()}
     * or {@link PipeClient#connect(PipeName)}). Closing the socket closes the pipe.
     *
     * @param pipe an open pipe
     */
    public PipeSocket(Pipe pipe) {
        this(Objects.requireNonNull(pipe, "pipe").name(), PipeOptions.defaults());
        this.pipe = pipe;
    }

    /**
     * The pipe under this socket.
     *
     * @return the connected pipe
     * @throws SocketException if the socket is not connected
     */
    public Pipe pipe() throws SocketException {
        Pipe p = pipe;
        if (p == null) {
            throw new SocketException("Socket is not connected");
        }
        return p;
    }

    /** The pipe this socket connects to, or {@code null} if {@code connect} must name one. */
    PipeName target() {
        return target;
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        connect(endpoint, 0);
    }

    /**
     * Connects to the pipe: {@code endpoint} if it is a {@link PipeSocketAddress}, else the target
     * given at construction ({@code endpoint} is then remembered and ignored).
     *
     * @param endpoint a {@link PipeSocketAddress}, or any address when the socket has a target
     * @param timeout milliseconds to retry a busy server if longer than
     *        {@link PipeClient#DEFAULT_BUSY_WAIT}; 0 for that default
     * @throws ConnectException if nobody serves the pipe
     * @throws SocketTimeoutException if the server stayed busy past the timeout
     * @throws IllegalArgumentException if the socket has no target and {@code endpoint} is not a
     *         {@link PipeSocketAddress}, or the timeout is negative
     */
    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        if (timeout < 0) {
            throw new IllegalArgumentException("connect: timeout can't be negative");
        }
        PipeName name;
        if (endpoint instanceof PipeSocketAddress a) {
            name = a.name();
        } else if (target != null) {
            name = target;
        } else {
            throw new IllegalArgumentException("Unsupported address type: " + (endpoint == null ? null
                    : endpoint.getClass().getName()) + " (this socket has no target pipe: pass a PipeSocketAddress)");
        }
        stateLock.lock();
        try {
            if (closed) {
                throw new SocketException("Socket is closed");
            }
            if (pipe != null) {
                throw new SocketException("already connected");
            }
            if (endpoint instanceof InetSocketAddress inet) {
                requested = inet;
            }
            Duration busyWait = timeout == 0 ? PipeClient.DEFAULT_BUSY_WAIT : Duration.ofMillis(timeout);
            pipe = open(name, busyWait);
        } finally {
            stateLock.unlock();
        }
    }

    private Pipe open(PipeName name, Duration busyWait) throws IOException {
        long deadline = System.nanoTime() + busyWait.toNanos();
        for (;;) {
            try {
                return PipeClient.connect(name, options);
            } catch (PipeTimeoutException e) {
                if (System.nanoTime() - deadline >= 0) {
                    throw socketTimeout("connect timed out: " + e.getMessage(), e);
                }
                // PipeClient's own busy wait passed; keep going until the socket's deadline
            } catch (PipeException e) {
                if (Engines.get().isAbsent(e)) {
                    ConnectException c = new ConnectException("Connection refused: " + e.getMessage());
                    c.initCause(e);
                    throw c;
                }
                throw e;
            } catch (ClosedByInterruptException e) {
                throw closedByInterrupt(e);
            }
        }
    }

    /** Not supported: a pipe client has no local address to bind. */
    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        if (bindpoint != null) {
            throw new SocketException("a pipe client has no local address to bind");
        }
    }

    @Override
    public InputStream getInputStream() throws IOException {
        stateLock.lock();
        try {
            checkOpen();
            if (in == null) {
                in = new PipeInput(pipe());
            }
            return in;
        } finally {
            stateLock.unlock();
        }
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        stateLock.lock();
        try {
            checkOpen();
            if (out == null) {
                out = new PipeOutput(pipe());
            }
            return out;
        } finally {
            stateLock.unlock();
        }
    }

    private void checkOpen() throws SocketException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        if (pipe == null) {
            throw new SocketException("Socket is not connected");
        }
    }

    /** Closes the pipe; blocked reads and writes fail with {@link SocketException}. Idempotent. */
    @Override
    public void close() throws IOException {
        closed = true;
        Pipe p = pipe;
        if (p != null) {
            p.close();
        }
    }

    @Override
    public boolean isConnected() {
        return pipe != null;
    }

    @Override
    public boolean isBound() {
        return pipe != null;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Further reads of the input stream return end of stream; data still arriving is not read.
     * Local only: the peer is not told.
     */
    @Override
    public void shutdownInput() throws IOException {
        checkOpen();
        if (inputShutdown) {
            throw new SocketException("Socket input is already shutdown");
        }
        inputShutdown = true;
    }

    /**
     * Half-closes the connection on Unix ({@link Pipe#shutdownOutput()}): the peer reads end of
     * stream, this socket can still read, and later writes fail. Windows named pipes have no
     * half-close: there it throws and the socket stays usable; close it to end the connection.
     *
     * @throws SocketException on Windows, or if output is already shut down
     */
    @Override
    public void shutdownOutput() throws IOException {
        checkOpen();
        if (outputShutdown) {
            throw new SocketException("Socket output is already shutdown");
        }
        try {
            pipe.shutdownOutput();
        } catch (UnsupportedOperationException e) {
            throw new SocketException("shutdownOutput (half-close) is not supported on a Windows named pipe: "
                    + "close the socket instead");
        }
        outputShutdown = true;
    }

    @Override
    public boolean isInputShutdown() {
        return inputShutdown;
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShutdown;
    }

    /** The address given to {@code connect} if it was an {@link InetSocketAddress}, else loopback. */
    @Override
    public InetAddress getInetAddress() {
        if (pipe == null) {
            return null;
        }
        InetSocketAddress r = requested;
        return r != null && r.getAddress() != null ? r.getAddress() : InetAddress.getLoopbackAddress();
    }

    /** The port given to {@code connect} if it was an {@link InetSocketAddress}, else 0. */
    @Override
    public int getPort() {
        InetSocketAddress r = requested;
        return pipe == null ? 0 : r != null ? r.getPort() : 0;
    }

    /** Loopback: a pipe has no local IP address. */
    @Override
    public InetAddress getLocalAddress() {
        return InetAddress.getLoopbackAddress();
    }

    /** -1: a pipe has no local port. */
    @Override
    public int getLocalPort() {
        return -1;
    }

    /** The {@link PipeSocketAddress} of the pipe, once connected. */
    @Override
    public SocketAddress getRemoteSocketAddress() {
        Pipe p = pipe;
        return p == null ? null : PipeSocketAddress.of(p.name());
    }

    /** {@code null}: a pipe client has no local address. */
    @Override
    public SocketAddress getLocalSocketAddress() {
        return null;
    }

    /** {@code null}: the socket is not backed by a {@link SocketChannel}; see {@link #pipe()}. */
    @Override
    public SocketChannel getChannel() {
        return null;
    }

    /**
     * Sets the read timeout of the input stream, in milliseconds; 0 waits forever.
     *
     * @param timeout milliseconds, 0 for none
     */
    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        checkNotClosed();
        soTimeout = timeout;
    }

    @Override
    public int getSoTimeout() throws SocketException {
        checkNotClosed();
        return soTimeout;
    }

    private void checkNotClosed() throws SocketException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
    }

    /** Remembered only: a pipe has no Nagle algorithm. */
    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        checkNotClosed();
        tcpNoDelay = on;
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        checkNotClosed();
        return tcpNoDelay;
    }

    /** Remembered only. */
    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        checkNotClosed();
        if (on && linger < 0) {
            throw new IllegalArgumentException("invalid value for SO_LINGER");
        }
        soLinger = on ? Math.min(linger, 65535) : -1;
    }

    @Override
    public int getSoLinger() throws SocketException {
        checkNotClosed();
        return soLinger;
    }

    /** Not supported: pipes have no urgent data. */
    @Override
    public void sendUrgentData(int data) throws IOException {
        throw new SocketException("urgent data is not supported on a pipe");
    }

    /** Remembered only. */
    @Override
    public void setOOBInline(boolean on) throws SocketException {
        checkNotClosed();
        oobInline = on;
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        checkNotClosed();
        return oobInline;
    }

    /** Remembered only: the pipe's buffers are set by {@link PipeOptions}. */
    @Override
    public void setSendBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("negative send size");
        }
        checkNotClosed();
        sendBufferSize = size;
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        checkNotClosed();
        return sendBufferSize;
    }

    /** Remembered only: the pipe's buffers are set by {@link PipeOptions}. */
    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        if (size <= 0) {
            throw new IllegalArgumentException("invalid receive size");
        }
        checkNotClosed();
        receiveBufferSize = size;
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        checkNotClosed();
        return receiveBufferSize;
    }

    /** Remembered only: a local pipe needs no keep-alive probes. */
    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        checkNotClosed();
        keepAlive = on;
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        checkNotClosed();
        return keepAlive;
    }

    /** Remembered only. */
    @Override
    public void setTrafficClass(int tc) throws SocketException {
        if (tc < 0 || tc > 255) {
            throw new IllegalArgumentException("tc is not in range 0 -- 255");
        }
        checkNotClosed();
        trafficClass = tc;
    }

    @Override
    public int getTrafficClass() throws SocketException {
        checkNotClosed();
        return trafficClass;
    }

    /** Remembered only. */
    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        checkNotClosed();
        reuseAddress = on;
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        checkNotClosed();
        return reuseAddress;
    }

    /** Ignored. */
    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
    }

    /**
     * Not supported: a pipe socket has no {@link java.net.StandardSocketOptions}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
        Objects.requireNonNull(name, "name");
        throw new UnsupportedOperationException("'" + name + "' not supported on a pipe socket");
    }

    /**
     * Not supported: a pipe socket has no {@link java.net.StandardSocketOptions}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        Objects.requireNonNull(name, "name");
        throw new UnsupportedOperationException("'" + name + "' not supported on a pipe socket");
    }

    /** The empty set. */
    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return Set.of();
    }

    @Override
    public String toString() {
        Pipe p = pipe;
        if (closed) {
            return "PipeSocket[closed]";
        }
        return p == null ? "PipeSocket[unconnected" + (target == null ? "" : ", target=" + target) + "]"
                : "PipeSocket[" + p.name() + "]";
    }

    static SocketTimeoutException socketTimeout(String message, Throwable cause) {
        SocketTimeoutException t = new SocketTimeoutException(message);
        t.initCause(cause);
        return t;
    }

    private static SocketException closedByInterrupt(ClosedByInterruptException e) {
        SocketException s = new SocketException("Closed by interrupt");
        s.initCause(e);
        return s;
    }

    /** The JDK's sockets say "Socket closed" where a channel says ClosedChannelException. */
    static IOException asSocketException(IOException e) {
        if (e instanceof ClosedByInterruptException cbi) {
            return closedByInterrupt(cbi);
        }
        if (e instanceof ClosedChannelException) {
            SocketException s = new SocketException("Socket closed");
            s.initCause(e);
            return s;
        }
        return e;
    }

    /** The input stream: reads bounded by SO_TIMEOUT, a look-ahead buffer for {@code available()}. */
    private final class PipeInput extends InputStream {
        private final Pipe pipe;
        private final InputStream direct;
        private final ReentrantLock readLock = new ReentrantLock();
        private final byte[] ahead = new byte[8192];
        private final byte[] one = new byte[1];
        private int aheadPos;
        private int aheadLen;
        private boolean eof;

        PipeInput(Pipe pipe) {
            this.pipe = pipe;
            this.direct = pipe.inputStream();
        }

        @Override
        public int read() throws IOException {
            readLock.lock();   // reentrant: read(byte[], ...) takes it again
            try {
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            } finally {
                readLock.unlock();
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            readLock.lock();
            try {
                if (closed) {
                    throw new SocketException("Socket closed");
                }
                if (inputShutdown || eof) {
                    return -1;
                }
                if (len == 0) {
                    return 0;
                }
                if (aheadLen > aheadPos) {
                    int n = Math.min(len, aheadLen - aheadPos);
                    System.arraycopy(ahead, aheadPos, b, off, n);
                    aheadPos += n;
                    return n;
                }
                int n;
                do {
                    n = readPipe(b, off, len, soTimeout);
                } while (n == 0);
                if (n < 0) {
                    eof = true;
                }
                return n;
            } finally {
                readLock.unlock();
            }
        }

        private int readPipe(byte[] b, int off, int len, int timeoutMillis) throws IOException {
            try {
                if (timeoutMillis == 0) {
                    return direct.read(b, off, len);
                }
                return pipe.read(MemorySegment.ofArray(b).asSlice(off, len), Duration.ofMillis(timeoutMillis));
            } catch (PipeTimeoutException e) {
                throw socketTimeout("Read timed out", e);
            } catch (IOException e) {
                throw asSocketException(e);
            }
        }

        /**
         * Bytes readable without blocking: those already looked ahead, else what one read that
         * does not wait finds (kept for the next {@code read}). Returns 0 while another thread is
         * reading.
         */
        @Override
        public int available() throws IOException {
            if (!readLock.tryLock()) {
                return 0;
            }
            try {
                if (closed) {
                    throw new SocketException("Socket closed");
                }
                if (inputShutdown || eof) {
                    return 0;
                }
                if (aheadLen > aheadPos) {
                    return aheadLen - aheadPos;
                }
                int n;
                try {
                    n = pipe.read(MemorySegment.ofArray(ahead), Duration.ZERO);
                } catch (PipeTimeoutException e) {
                    return 0;
                } catch (IOException e) {
                    throw asSocketException(e);
                }
                if (n < 0) {
                    eof = true;
                    return 0;
                }
                aheadPos = 0;
                aheadLen = n;
                return n;
            } finally {
                readLock.unlock();
            }
        }

        @Override
        public void close() throws IOException {
            PipeSocket.this.close();
        }
    }

    /** The output stream: each write goes out whole (Pipe writes all of it). */
    private final class PipeOutput extends OutputStream {
        private final OutputStream direct;

        PipeOutput(Pipe pipe) {
            this.direct = pipe.outputStream();
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (closed) {
                throw new SocketException("Socket closed");
            }
            if (outputShutdown) {
                throw new SocketException("Socket output is shutdown");
            }
            if (len == 0) {
                return;
            }
            try {
                direct.write(b, off, len);
            } catch (IOException e) {
                throw asSocketException(e);
            }
        }

        @Override
        public void close() throws IOException {
            PipeSocket.this.close();
        }
    }
}
