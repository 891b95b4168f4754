package io.panapipe.internal.unix;

/**
 * Linux errno values the Unix engines report by name. The io_uring engine takes its values from
 * the generated bindings; these copies serve the NIO fallback, which sees only JDK exceptions.
 */
public final class Errno {
    public static final int ENOENT = 2;
    public static final int EAGAIN = 11;
    public static final int EACCES = 13;
    public static final int EADDRINUSE = 98;
    public static final int ECONNREFUSED = 111;

    private Errno() {
    }
}
