package io.panapipe.internal;

import java.util.Locale;

/** Facts about the running platform that the public API needs before any engine is chosen. */
public final class Platform {
    private static final boolean WINDOWS =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    private static final boolean LINUX =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");

    private Platform() {
    }

    /**
     * Whether this JVM runs on Windows ({@code os.name} starts with "windows").
     *
     * @return {@code true} on Windows
     */
    public static boolean isWindows() {
        return WINDOWS;
    }

    /**
     * Whether this JVM runs on Linux ({@code os.name} starts with "linux").
     *
     * @return {@code true} on Linux
     */
    public static boolean isLinux() {
        return LINUX;
    }
}
