/**
 * Panapipe: local inter-process communication over Windows named pipes and Unix domain sockets,
 * on the Foreign Function &amp; Memory API.
 *
 * <h2>A server and a client</h2>
 * <pre>{@code
 * PipeName name = PipeName.of("my-service");   // \\.\pipe\my-service, or a socket in a private 0700 directory
 *
 * // server: one virtual thread per client
 * try (PipeServer server = PipeServer.bind(name)) {
 *     while (true) {
 *         Pipe pipe = server.accept();
 *         Thread.ofVirtual().start(() -> {
 *             try (pipe; Arena arena = Arena.ofConfined()) {
 *                 MemorySegment buf = arena.allocate(4096);      // native: handed to the kernel as is
 *                 for (int n; (n = pipe.read(buf)) >= 0; ) {
 *                     pipe.write(buf.asSlice(0, n));
 *                 }
 *             } catch (IOException e) {
 *                 // the client went away
 *             }
 *         });
 *     }
 * }
 *
 * // client: waits up to 5 s for the server, reads with a timeout
 * try (Pipe pipe = PipeClient.connect(name, Duration.ofSeconds(5));
 *      Arena arena = Arena.ofConfined()) {
 *     pipe.write(arena.allocateFrom("ping"));
 *     MemorySegment reply = arena.allocate(64);
 *     int n = pipe.read(reply, Duration.ofSeconds(1));      // PipeTimeoutException if silent
 * }
 * }</pre>
 *
 * <h2>What to expect</h2>
 * <ul>
 *   <li>Blocking calls park the calling thread: a virtual thread unmounts, so thousands of
 *       connections cost no carriers. No call blocks a carrier in the kernel.</li>
 *   <li>Native segments go to the kernel without a copy; heap data is staged through one native
 *       buffer per connection. Steady-state reads and writes allocate nothing.</li>
 *   <li>Errors are {@link io.panapipe.PipeException}s naming the native code
 *       ({@code ECONNREFUSED (111)}, {@code ERROR_PIPE_BUSY (231)}); timeouts are
 *       {@link io.panapipe.PipeTimeoutException}s and leave the pipe usable; close and interrupt
 *       behave as in the JDK's channels.</li>
 *   <li>Only the current user may connect, by default (a DACL with the process token's user on
 *       Windows; a 0700 directory, a 0600 socket and a peer-uid check on Unix).</li>
 * </ul>
 * The engine (IOCP, io_uring or the NIO fallback) is chosen automatically; the system property
 * {@code panapipe.engine} forces one, and {@link io.panapipe.PipeEngine#current()} tells which runs
 * and what it can do.
 *
 * <p>Clients that take a {@link java.net.Socket} or a {@link javax.net.SocketFactory} (JDBC drivers,
 * HTTP and Redis clients) use pipes through {@link io.panapipe.net}.
 *
 * @since 0.1
 */
package io.panapipe;
