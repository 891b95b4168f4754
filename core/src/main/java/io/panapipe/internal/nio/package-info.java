/**
 * The portable fallback engine: the JDK's own {@code SocketChannel} and {@code ServerSocketChannel}
 * over AF_UNIX. A channel starts in blocking mode, so an untimed read, write or accept waits the
 * JDK's way (a virtual thread parks in the JDK's poller, a platform thread blocks in the kernel);
 * the first timed call turns it to non-blocking mode for good, and its waits then go through one
 * {@link java.nio.channels.Selector} thread ({@link io.panapipe.internal.nio.ReadinessPoller}) with
 * the same operation slots and cancel-then-wait protocol as the native engines. Used on macOS and
 * other Unix systems, and on Linux on request ({@code -Dpanapipe.engine=nio}). BYTE mode only: the
 * JDK offers no {@code SOCK_SEQPACKET}.
 */
package io.panapipe.internal.nio;
