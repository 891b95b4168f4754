/**
 * {@code java.net} views of Panapipe: a {@link java.net.Socket} over a {@link io.panapipe.Pipe}, a
 * {@link java.net.ServerSocket} over a {@link io.panapipe.PipeServer}, and a
 * {@link javax.net.SocketFactory} for the many clients that accept one — JDBC drivers, HTTP
 * clients, Redis clients, Docker clients.
 *
 * <p>These clients resolve a host and port and pass an {@link java.net.InetSocketAddress} to
 * {@link java.net.Socket#connect(java.net.SocketAddress, int)}. A {@link io.panapipe.net.PipeSocket}
 * made by a {@link io.panapipe.net.PipeSocketFactory} ignores that address and connects to the
 * factory's pipe instead, so the client needs no change beyond its socket factory setting:
 *
 * <pre>{@code
 * // PostgreSQL's JDBC driver instantiates the factory by name, with the argument as its String:
 * String url = "jdbc:postgresql://localhost/mydb"
 *         + "?socketFactory=io.panapipe.net.PipeSocketFactory"
 *         + "&socketFactoryArg=/var/run/postgresql/.s.PGSQL.5432";
 *
 * // OkHttp:
 * OkHttpClient http = new OkHttpClient.Builder()
 *         .socketFactory(new PipeSocketFactory(PipeName.ofSocketPath(Path.of("/run/app.sock"))))
 *         .build();
 * }</pre>
 *
 * <p>What maps to what:
 * <ul>
 *   <li>{@link java.net.Socket#setSoTimeout(int) SO_TIMEOUT} bounds each read of the socket's
 *       input stream; when it passes, the read throws {@link java.net.SocketTimeoutException} and
 *       the socket stays usable (as the JDK's sockets do, and as connection pools expect when they
 *       probe an idle connection with a short timeout).</li>
 *   <li>TCP options ({@code TCP_NODELAY}, {@code SO_KEEPALIVE}, buffer sizes, linger, traffic
 *       class) are accepted and remembered so that clients which set them keep working; they
 *       change nothing on a pipe.</li>
 *   <li>{@link java.net.Socket#shutdownInput()} makes further reads return end of stream, on every
 *       platform (the peer is not told). {@link java.net.Socket#shutdownOutput()} half-closes on
 *       Unix: the peer reads end of stream after what was sent, this end can still read (HTTP/1.0
 *       style request-then-read clients rely on it). A Windows named pipe has no half-close (either
 *       end closes the whole pipe): there it throws {@link java.net.SocketException} and the socket
 *       stays usable; close the socket instead.</li>
 * </ul>
 *
 * @since 0.1
 */
package io.panapipe.net;
