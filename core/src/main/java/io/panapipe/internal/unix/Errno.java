package io.panapipe.internal.unix;

import io.panapipe.PipeException;

import java.io.IOException;
import java.util.Locale;

/**
 * Linux errno values the Unix engines report by name. The io_uring engine takes its values from
 * the generated bindings; these copies serve the NIO fallback, which sees only JDK exceptions, and
 * the socket-file rules shared by every Unix engine.
 */
public final class Errno {
    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** Resource temporarily unavailable (also {@code EWOULDBLOCK}). */
    public static final int EAGAIN = 11;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Too many open files in the system. */
    public static final int ENFILE = 23;
    /** Too many open files in this process. */
    public static final int EMFILE = 24;
    /** Broken pipe: the other end closed. */
    public static final int EPIPE = 32;
    /** Message too long. */
    public static final int EMSGSIZE = 90;
    /** Address already in use. */
    public static final int EADDRINUSE = 98;
    /** Connection reset by peer. */
    public static final int ECONNRESET = 104;
    /** Connection refused: nobody listens on the socket. */
    public static final int ECONNREFUSED = 111;

    private Errno() {
    }

    /**
     * The errno a JDK {@code IOException} stands for, recognised by the OS's description in its
     * message (the JDK reports {@code strerror} text and no number), or 0 if none is recognised.
     *
     * @param e the JDK's exception
     * @return one of the values above, or 0
     */
    public static int fromJdk(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return ENOENT;
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return EACCES;
        }
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("too many open files in system")) {
            return ENFILE;
        }
        if (m.contains("too many open files")) {
            return EMFILE;
        }
        if (m.contains("broken pipe")) {
            return EPIPE;
        }
        if (m.contains("connection reset")) {
            return ECONNRESET;
        }
        if (m.contains("no such file")) {
            return ENOENT;
        }
        if (m.contains("refused")) {
            return ECONNREFUSED;
        }
        if (m.contains("temporarily unavailable")) {
            return EAGAIN;
        }
        if (m.contains("permission denied")) {
            return EACCES;
        }
        if (m.contains("operation not permitted")) {
            return EPERM;
        }
        if (m.contains("address already in use")) {
            return EADDRINUSE;
        }
        if (m.contains("message too long")) {
            return EMSGSIZE;
        }
        return 0;
    }

    /**
     * The symbolic name of the values above, or {@code errno <n>}.
     *
     * @param errno the error code
     * @return its name, e.g. {@code "ENOENT"}
     */
    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EAGAIN -> "EAGAIN";
            case EACCES -> "EACCES";
            case ENFILE -> "ENFILE";
            case EMFILE -> "EMFILE";
            case EPIPE -> "EPIPE";
            case EMSGSIZE -> "EMSGSIZE";
            case EADDRINUSE -> "EADDRINUSE";
            case ECONNRESET -> "ECONNRESET";
            case ECONNREFUSED -> "ECONNREFUSED";
            default -> "errno " + errno;
        };
    }

    /**
     * Whether {@code errno} means the process or the system ran out of file descriptors.
     *
     * @param errno the error code
     * @return {@code true} for {@code EMFILE} and {@code ENFILE}
     */
    public static boolean isDescriptorLimit(int errno) {
        return errno == EMFILE || errno == ENFILE;
    }

    /** The advice the Unix engines give with {@code EMFILE}/{@code ENFILE}. */
    public static final String DESCRIPTOR_ADVICE = "raise the open-file limit (ulimit -n) or close descriptors";

    /**
     * A {@link PipeException} for a JDK exception of {@code what}: the recognised errno and the
     * JDK's text (said once), with {@code advice} appended; the JDK exception is the cause.
     * A {@code PipeException} is returned as it is.
     *
     * @param what the operation that failed, for the message
     * @param e the JDK's exception
     * @param advice what to do about it, or {@code null} (the descriptor-limit advice is added
     *        for {@code EMFILE}/{@code ENFILE})
     * @return the exception to throw
     */
    public static PipeException fromJdk(String what, IOException e, String advice) {
        if (e instanceof PipeException p) {
            return p;
        }
        int errno = fromJdk(e);
        if (advice == null && isDescriptorLimit(errno)) {
            advice = DESCRIPTOR_ADVICE;
        }
        String text = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String detail = advice == null ? text : text + "; " + advice;
        PipeException p = errno == 0
                ? new PipeException(what, -1, e.getClass().getSimpleName(), detail)
                : new PipeException(what, errno, name(errno), detail);
        p.initCause(e);
        return p;
    }
}
