package io.panapipe;

import java.io.IOException;

/**
 * An operating-system call failed. Carries the native error code ({@code GetLastError()} on
 * Windows, {@code errno} on Unix) and its symbolic name, e.g. {@code ERROR_PIPE_BUSY (231)} or
 * {@code ECONNREFUSED (111)}, so callers can branch on it without parsing the message.
 *
 * @since 0.1
 */
public class PipeException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The native error code. */
    private final int nativeCode;
    /** The symbolic name of the native error code. */
    private final String symbolicName;

    /**
     * An exception for a failed call, with its native code and symbolic name in the message.
     *
     * @param what what was being done, e.g. {@code "connect to /run/user/1000/panapipe/svc"}
     * @param nativeCode the error code as the OS reported it
     * @param symbolicName the code's symbolic name, e.g. {@code ECONNREFUSED}
     * @param detail the OS's description and, where there is one, what the caller can do about it
     */
    public PipeException(String what, int nativeCode, String symbolicName, String detail) {
        super(what + ": " + symbolicName + " (" + nativeCode + ")" + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.nativeCode = nativeCode;
        this.symbolicName = symbolicName;
    }

    /**
     * The native error code: a Win32 error ({@code GetLastError}) or an {@code errno} value.
     *
     * @return the code
     */
    public int nativeCode() {
        return nativeCode;
    }

    /**
     * The symbolic name of {@link #nativeCode()}, such as {@code ERROR_PIPE_BUSY} or {@code ENOENT}.
     *
     * @return the name
     */
    public String symbolicName() {
        return symbolicName;
    }
}
