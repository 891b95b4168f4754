/**
 * The portable fallback engine: the JDK's own {@code SocketChannel} over AF_UNIX in non-blocking
 * mode, with readiness reported by one {@link java.nio.channels.Selector} thread
 * ({@link io.panapipe.internal.nio.ReadinessPoller}) through the same operation slots and
 * cancel-then-wait protocol as the native engines. Used where io_uring cannot be set up, and on
 * other Unix systems. BYTE mode only: the JDK offers no {@code SOCK_SEQPACKET}.
 */
package io.panapipe.internal.nio;
