package io.panapipe.internal;

import io.panapipe.internal.linux.IoUringEngine;
import io.panapipe.internal.nio.NioEngine;
import io.panapipe.internal.windows.IocpEngine;

import java.util.Locale;

/**
 * Picks the engine once per JVM. The system property {@code panapipe.engine} forces one:
 * {@code io_uring}, {@code iocp} or {@code nio}; the default ({@code auto}) is IOCP on Windows,
 * io_uring on Linux when the kernel lets us set up a ring, and the NIO fallback otherwise.
 */
public final class Engines {
    public static final String PROPERTY = "panapipe.engine";

    private Engines() {
    }

    private static final class Holder {
        static final Engine ENGINE = choose(System.getProperty(PROPERTY, "auto"));
    }

    /** The engine of this JVM. */
    public static Engine get() {
        return Holder.ENGINE;
    }

    /** Creates the engine {@code name} names; {@code auto} picks as described above. */
    public static Engine choose(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "auto" -> {
                if (Platform.isWindows()) {
                    yield IocpEngine.instance();
                }
                if (Platform.isLinux() && IoUringEngine.unavailableReason() == null) {
                    yield IoUringEngine.instance();
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
            case "iocp" -> {
                if (!Platform.isWindows()) {
                    throw new IllegalStateException(PROPERTY + "=iocp needs Windows");
                }
                yield IocpEngine.instance();
            }
            case "nio" -> NioEngine.instance();
            case "windows-model" -> IocpEngine.windowsModelForTests(); // Panapipe's own tests only
            default -> throw new IllegalArgumentException(PROPERTY + " must be auto, io_uring, iocp or nio, was " + name);
        };
    }
}
