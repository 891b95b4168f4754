package io.panapipe.net;

import io.panapipe.PipeName;
import io.panapipe.PipeOptions;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Objects;
import javax.net.SocketFactory;

/**
 * A {@link SocketFactory} whose sockets connect to one pipe, whatever host and port the client
 * asks for.
 *
 * <p>Clients that create their sockets through a factory need only be given this one:
 * <ul>
 *   <li>Drivers that instantiate a factory class by name (PostgreSQL's JDBC driver:
 *       {@code socketFactory=io.panapipe.net.PipeSocketFactory&socketFactoryArg=<address>}) use the
 *       {@link #PipeSocketFactory(String) String constructor}, whose argument is parsed by
 *       {@link PipeSocketAddress#parse(String)}: a Windows pipe path, a Unix socket path, or a
 *       logical name.</li>
 *   <li>Drivers that instantiate it without an argument use the {@link #PipeSocketFactory() no-arg
 *       constructor}, which reads the address from the system property {@value #ADDRESS_PROPERTY}.</li>
 *   <li>Code that builds its client (OkHttp's {@code socketFactory}, Jedis's
 *       {@code JedisSocketFactory}, an Apache HttpClient connection socket factory) passes
 *       {@code new PipeSocketFactory(PipeName)}.</li>
 * </ul>
 *
 * <p>{@link #createSocket()} returns an unconnected {@link PipeSocket} (clients connect it with a
 * resolved {@link InetSocketAddress}, which it ignores); the other {@code createSocket} methods
 * return a connected one and ignore their host, port and local address.
 *
 * @since 0.1
 */
public class PipeSocketFactory extends SocketFactory {
    /** The system property the no-arg constructor reads the address from: {@value}. */
    public static final String ADDRESS_PROPERTY = "panapipe.socketFactory.address";

    private final PipeName target;
    private final PipeOptions options;

    /**
     * A factory for the pipe named by the system property {@value #ADDRESS_PROPERTY} (parsed by
     * {@link PipeSocketAddress#parse(String)}).
     *
     * @throws IllegalStateException if the property is not set
     * @throws IllegalArgumentException if it is not a valid address
     */
    public PipeSocketFactory() {
        this(requireProperty());
    }

    /**
     * A factory for the pipe that {@code address} names: {@code \\.\pipe\name} (Windows), a path
     * with a {@code /} (a Unix socket file), or a logical name for {@link PipeName#of(String)}.
     *
     * @param address the address as text, e.g. a JDBC driver's {@code socketFactoryArg}
     * @throws IllegalArgumentException if it is not a valid address
     */
    public PipeSocketFactory(String address) {
        this(PipeSocketAddress.parseName(address), PipeOptions.defaults());
    }

    /**
     * A factory for {@code target}.
     *
     * @param target the pipe every socket connects to
     */
    public PipeSocketFactory(PipeName target) {
        this(target, PipeOptions.defaults());
    }

    /**
     * A factory for {@code target}, connecting with {@code options}.
     *
     * @param target the pipe every socket connects to
     * @param options client options (impersonation level, server-user check, buffer sizes)
     */
    public PipeSocketFactory(PipeName target, PipeOptions options) {
        this.target = Objects.requireNonNull(target, "target");
        this.options = Objects.requireNonNull(options, "options");
    }

    private static String requireProperty() {
        String address = System.getProperty(ADDRESS_PROPERTY);
        if (address == null || address.isBlank()) {
            throw new IllegalStateException("PipeSocketFactory(): set the system property " + ADDRESS_PROPERTY
                    + " to the pipe's address, or use the PipeSocketFactory(String) constructor");
        }
        return address;
    }

    /**
     * The pipe this factory's sockets connect to.
     *
     * @return the target pipe
     */
    public PipeName target() {
        return target;
    }

    /**
     * An unconnected socket; {@link Socket#connect} connects it to the target pipe.
     *
     * @return a new unconnected {@link PipeSocket}
     */
    @Override
    public Socket createSocket() {
        return new PipeSocket(target, options);
    }

    /**
     * A socket connected to the target pipe; {@code host} and {@code port} are ignored.
     *
     * @param host ignored
     * @param port ignored
     * @return a connected {@link PipeSocket}
     */
    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected();
    }

    /**
     * A socket connected to the target pipe; the addresses and ports are ignored.
     *
     * @param host ignored
     * @param port ignored
     * @param localHost ignored
     * @param localPort ignored
     * @return a connected {@link PipeSocket}
     */
    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected();
    }

    /**
     * A socket connected to the target pipe; {@code host} and {@code port} are ignored.
     *
     * @param host ignored
     * @param port ignored
     * @return a connected {@link PipeSocket}
     */
    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected();
    }

    /**
     * A socket connected to the target pipe; the addresses and ports are ignored.
     *
     * @param address ignored
     * @param port ignored
     * @param localAddress ignored
     * @param localPort ignored
     * @return a connected {@link PipeSocket}
     */
    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected();
    }

    private Socket connected() throws IOException {
        PipeSocket s = new PipeSocket(target, options);
        try {
            s.connect(PipeSocketAddress.of(target));
        } catch (IOException | RuntimeException e) {
            try {
                s.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return s;
    }

    @Override
    public String toString() {
        return "PipeSocketFactory[" + target + "]";
    }
}
