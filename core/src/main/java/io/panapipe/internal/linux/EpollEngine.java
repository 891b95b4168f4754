package io.panapipe.internal.linux;

import io.panapipe.PipeOptions;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.internal.Platform;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The Linux readiness engine: AF_UNIX sockets ({@code SOCK_STREAM} for BYTE,
 * {@code SOCK_SEQPACKET} for MESSAGE) moved by plain non-blocking {@code recv}/{@code send} on the
 * calling thread, waited for with epoll.
 *
 * <p>Why readiness rather than completions: the caller's segment is an argument of the downcall
 * that moves the data, so the kernel never holds caller memory after a call returns (DESIGN rule
 * 12) and no staging copy is needed; the data is copied by the thread that asked for it, not by a
 * poller thread as io_uring's task work does; a connection is registered once, edge-triggered,
 * so a wait costs no system call beyond the {@code recv} that found nothing; and epoll works in
 * containers whose seccomp profile refuses {@code io_uring_setup}. Pieces: {@link EpollPollers}
 * (virtual-thread sub-pollers and one platform master), {@link FdReadiness} (how a virtual or a
 * platform thread waits), {@link SpinPolicy}, {@link EpollTransport}, {@link EpollServer}.
 */
public final class EpollEngine extends UnixSocketEngine {
    /**
     * Sub-pollers (system property {@code panapipe.epoll.pollers}; default: one per two cores, at
     * least one).
     */
    static final int POLLERS = Math.max(1, Integer.getInteger("panapipe.epoll.pollers",
            Math.max(1, Runtime.getRuntime().availableProcessors() / 2)));

    private static final class Availability {
        static final String REASON = probe();
    }

    private static final class Holder {
        static final EpollEngine INSTANCE = create();
    }

    final EpollPollers pollers;

    private EpollEngine(EpollPollers pollers) {
        this.pollers = pollers;
    }

    /**
     * Why this engine cannot run here, or {@code null}. Probed once: an epoll instance is created
     * and closed (this fails without native access, e.g. {@code --illegal-native-access=deny}).
     *
     * @return the reason, or {@code null} if epoll works here
     */
    public static String unavailableReason() {
        return Availability.REASON;
    }

    private static String probe() {
        if (!Platform.isLinux()) {
            return "epoll needs Linux (os.name=" + System.getProperty("os.name") + ")";
        }
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            int fd = LibC.epollCreate1(errno, Linux.EPOLL_CLOEXEC());
            if (fd < 0) {
                return "epoll_create1 failed: " + Errnos.describe(LibC.errno(errno));
            }
            LibC.close(errno, fd);
            return null;
        } catch (Throwable t) { // no native access, missing symbols, ...
            return t.getClass().getSimpleName() + ": " + t.getMessage();
        }
    }

    /**
     * The engine of this JVM, created on first use.
     *
     * @return the JVM-wide engine
     * @throws IllegalStateException if {@link #unavailableReason()} gives a reason
     */
    public static EpollEngine instance() {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        return Holder.INSTANCE;
    }

    private static EpollEngine create() {
        try {
            return new EpollEngine(EpollPollers.start(POLLERS, "panapipe-epoll", new SpinPolicy()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A separate engine with its own pollers, for tests. Its threads are daemons; it is never shut down. */
    static EpollEngine createPrivate(int pollers) throws IOException {
        return createPrivate(pollers, new SpinPolicy());
    }

    /** As {@link #createPrivate(int)}, spinning by {@code spin}. */
    static EpollEngine createPrivate(int pollers, SpinPolicy spin) throws IOException {
        return createPrivate(pollers, spin, EpollPollers.MAX_EVENTS);
    }

    /** As {@link #createPrivate(int, SpinPolicy)}, its pollers taking at most {@code batch} events per {@code epoll_wait}. */
    static EpollEngine createPrivate(int pollers, SpinPolicy spin, int batch) throws IOException {
        return new EpollEngine(EpollPollers.start(pollers, "panapipe-epoll-private", spin, batch));
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    ServerEndpoint newServer(int fd, Path path, PipeOptions options) {
        return new EpollServer(this, fd, path, options);
    }

    @Override
    Transport newTransport(int fd, PipeOptions options) {
        return new EpollTransport(this, fd, options.mode());
    }
}
