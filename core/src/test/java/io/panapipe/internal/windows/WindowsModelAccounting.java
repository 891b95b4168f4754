package io.panapipe.internal.windows;

/**
 * For allocation tests outside this package: what the {@link WindowsModel} (test code standing in
 * for the Windows kernel) allocated on the current thread, which a real kernel would not.
 */
public final class WindowsModelAccounting {
    private WindowsModelAccounting() {
    }

    /** Bytes the Windows model allocated on this thread inside the engine's hot-path calls (0 off the model). */
    public static long allocatedOnThisThread() {
        return WindowsModel.allocatedByTheModelOnThisThread();
    }
}
