package io.panapipe.internal;

import io.panapipe.internal.linux.EpollEngine;
import io.panapipe.internal.linux.IoUringEngine;
import io.panapipe.internal.nio.NioEngine;
import io.panapipe.internal.windows.IocpEngine;

import java.util.Locale;

/**
 * Picks the engine once per JVM. The system property {@code panapipe.engine} forces one:
 * {@code epoll}, {@code io_uring}, {@code iocp} or {@code nio}; the default ({@code auto}) is IOCP on
 * Windows, epoll on Linux, and the NIO fallback elsewhere (macOS). On Linux, epoll won side by side
 * against io_uring with many clients and works in containers whose seccomp profile refuses
 * io_uring (see bench/README.md); io_uring stays selectable.
 */
public final class Engines {
    /** The system property that forces an engine ({@code auto}, the default, lets it be chosen). */
    public static final String PROPERTY = "panapipe.engine";

    private Engines() {
    }

    private static final class Holder {
        static final Engine ENGINE;
        /** Why choosing failed (a bad property value, an engine that cannot start), or null. */
        static final RuntimeException FAILURE;
        /** Why auto-selection did not take this platform's completion engine, or null. */
        static final String FALLBACK_REASON;

        static {
            String property = System.getProperty(PROPERTY, "auto");
            Engine engine = null;
            RuntimeException failure = null;
            try {
                engine = choose(property);
            } catch (RuntimeException e) {
                failure = e;
            }
            ENGINE = engine;
            FAILURE = failure;
            FALLBACK_REASON = engine != null && "auto".equalsIgnoreCase(property) ? fallbackReason() : null;
            if (FALLBACK_REASON != null) {
                System.getLogger(Engines.class.getName()).log(System.Logger.Level.INFO,
                        "Panapipe uses the {0} engine: {1}", engine.name(), FALLBACK_REASON);
            }
        }
    }

    /**
     * The engine of this JVM.
     *
     * @return the engine chosen once, at first use
     * @throws IllegalArgumentException if {@value #PROPERTY} names no engine (the message lists the
     *         allowed values); thrown again, as a fresh exception, on every call
     * @throws IllegalStateException if the engine it names cannot run here
     */
    public static Engine get() {
        RuntimeException failure = Holder.FAILURE;
        if (failure != null) {
            if (failure instanceof IllegalArgumentException) {
                throw new IllegalArgumentException(failure.getMessage(), failure);
            }
            throw new IllegalStateException(failure.getMessage(), failure);
        }
        return Holder.ENGINE;
    }

    /**
     * Why auto-selection fell back from this platform's native engine (epoll on Linux), or
     * {@code null} if it did not (or the engine was chosen by {@value #PROPERTY}). Logged once,
     * at INFO, when the engine is chosen.
     *
     * @return the reason, or {@code null}
     */
    public static String fallbackReason() {
        if (Platform.isWindows()) {
            return null;
        }
        if (Platform.isLinux()) {
            String why = EpollEngine.unavailableReason();
            return why == null ? null : "epoll is unavailable: " + why;
        }
        return "no completion engine for " + System.getProperty("os.name") + "; the JDK's SocketChannel serves AF_UNIX";
    }

    /**
     * As {@link #fallbackReason()}, for the engine of this JVM: {@code null} when it was forced.
     *
     * @return the reason, or {@code null}
     */
    public static String currentFallbackReason() {
        get();
        return Holder.FALLBACK_REASON;
    }

    /**
     * Creates the engine {@code name} names; {@code auto} picks as described above.
     *
     * @param name {@code auto}, {@code epoll}, {@code io_uring}, {@code iocp} or {@code nio} (any case)
     * @return the engine (a JVM-wide instance)
     * @throws IllegalArgumentException if {@code name} names no engine
     * @throws IllegalStateException if the engine cannot run here
     */
    public static Engine choose(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "auto" -> {
                if (Platform.isWindows()) {
                    yield IocpEngine.instance();
                }
                if (Platform.isLinux() && EpollEngine.unavailableReason() == null) {
                    yield EpollEngine.instance();
                }
                yield NioEngine.instance();
            }
            case "io_uring", "iouring", "uring" -> {
                String why = IoUringEngine.unavailableReason();
                if (why != null) {
                    throw new IllegalStateException(PROPERTY + "=io_uring, but io_uring is unavailable here: " + why);
                }
                yield IoUringEngine.instance();
            }
            case "epoll" -> {
                String why = EpollEngine.unavailableReason();
                if (why != null) {
                    throw new IllegalStateException(PROPERTY + "=epoll, but " + why);
                }
                yield EpollEngine.instance();
            }
            case "iocp" -> {
                if (!Platform.isWindows()) {
                    throw new IllegalStateException(PROPERTY + "=iocp needs Windows");
                }
                yield IocpEngine.instance();
            }
            case "nio" -> NioEngine.instance();
            case "windows-model" -> IocpEngine.windowsModelForTests(); // Panapipe's own tests only
            default -> throw new IllegalArgumentException(PROPERTY + " must be auto, epoll, io_uring, iocp or nio, was " + name);
        };
    }
}
