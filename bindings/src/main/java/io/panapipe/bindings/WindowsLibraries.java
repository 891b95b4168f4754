package io.panapipe.bindings;

/**
 * Loads the Windows system libraries that the generated {@code io.panapipe.bindings.windows.Win32}
 * functions live in: {@code kernel32}, {@code advapi32} and {@code ws2_32}.
 *
 * <p>The Windows bindings are generated without {@code jextract --library}, so the header class
 * finds functions through {@code SymbolLookup.loaderLookup().or(Linker.nativeLinker().defaultLookup())}
 * and looks each one up only when it is first called. The loader lookup sees the libraries loaded
 * by this class loader, which is why this class lives in the bindings module next to the generated
 * code. Call {@link #load()} once on Windows before the first {@code Win32} function call; it is
 * cheap to call again. Layouts and constants need no loading and work on every platform.
 *
 * <p>Hand-written, outside the generated packages; see {@code bindings/README.md}.
 */
public final class WindowsLibraries {

    private static final String[] LIBRARIES = {"kernel32", "advapi32", "ws2_32"};

    private static volatile boolean loaded;

    private WindowsLibraries() {
    }

    /**
     * Loads kernel32, advapi32 and ws2_32 into this module's class loader, once. Thread-safe and
     * idempotent.
     *
     * @throws UnsupportedOperationException if not running on Windows
     * @throws UnsatisfiedLinkError if a library cannot be loaded
     */
    public static void load() {
        if (loaded) {
            return;
        }
        synchronized (WindowsLibraries.class) {
            if (loaded) {
                return;
            }
            if (!isWindows()) {
                throw new UnsupportedOperationException(
                        "Windows libraries can only be loaded on Windows, not on " + System.getProperty("os.name"));
            }
            for (String library : LIBRARIES) {
                System.loadLibrary(library);
            }
            loaded = true;
        }
    }

    /** {@return whether {@link #load()} has completed} */
    public static boolean isLoaded() {
        return loaded;
    }

    /** {@return whether this JVM runs on Windows} */
    public static boolean isWindows() {
        return System.getProperty("os.name", "").startsWith("Windows");
    }
}
