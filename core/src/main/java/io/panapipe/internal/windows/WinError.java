package io.panapipe.internal.windows;

import io.panapipe.PipeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Win32 error codes: their symbolic names, the system's text for them, and what each means to a
 * pipe — the one place where a {@code GetLastError} value is classified.
 *
 * <p>The codes are written out as compile-time constants (documented values from winerror.h) so
 * that they can be used in {@code switch} and tested on any platform; {@code WinErrorTest} checks
 * each against the generated bindings.
 */
final class WinError {
    private WinError() {
    }

    static final int ERROR_SUCCESS = 0;
    static final int ERROR_FILE_NOT_FOUND = 2;
    static final int ERROR_PATH_NOT_FOUND = 3;           // not in the bindings (winerror.h: 3)
    static final int ERROR_ACCESS_DENIED = 5;
    static final int ERROR_INVALID_HANDLE = 6;
    static final int ERROR_NOT_ENOUGH_MEMORY = 8;
    static final int ERROR_HANDLE_EOF = 38;
    static final int ERROR_NETNAME_DELETED = 64;
    static final int ERROR_INVALID_PARAMETER = 87;
    static final int ERROR_BROKEN_PIPE = 109;
    static final int ERROR_SEM_TIMEOUT = 121;
    static final int ERROR_INSUFFICIENT_BUFFER = 122;
    static final int ERROR_INVALID_NAME = 123;
    static final int ERROR_BAD_PATHNAME = 161;
    static final int ERROR_ALREADY_EXISTS = 183;
    static final int ERROR_BAD_PIPE = 230;               // not in the bindings (winerror.h: 230)
    static final int ERROR_PIPE_BUSY = 231;
    static final int ERROR_NO_DATA = 232;
    static final int ERROR_PIPE_NOT_CONNECTED = 233;
    static final int ERROR_MORE_DATA = 234;
    static final int WAIT_TIMEOUT = 258;
    static final int ERROR_PIPE_CONNECTED = 535;
    static final int ERROR_PIPE_LISTENING = 536;
    static final int ERROR_ABANDONED_WAIT_0 = 735;
    static final int ERROR_OPERATION_ABORTED = 995;
    static final int ERROR_IO_INCOMPLETE = 996;
    static final int ERROR_IO_PENDING = 997;
    static final int ERROR_NOT_FOUND = 1168;
    static final int WSAEINTR = 10004;
    static final int WSAEWOULDBLOCK = 10035;
    static final int WSAECONNRESET = 10054;
    static final int WSAECONNREFUSED = 10061;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(ERROR_SUCCESS, "ERROR_SUCCESS"),
            Map.entry(ERROR_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND"),
            Map.entry(ERROR_PATH_NOT_FOUND, "ERROR_PATH_NOT_FOUND"),
            Map.entry(ERROR_ACCESS_DENIED, "ERROR_ACCESS_DENIED"),
            Map.entry(ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE"),
            Map.entry(ERROR_NOT_ENOUGH_MEMORY, "ERROR_NOT_ENOUGH_MEMORY"),
            Map.entry(ERROR_HANDLE_EOF, "ERROR_HANDLE_EOF"),
            Map.entry(ERROR_NETNAME_DELETED, "ERROR_NETNAME_DELETED"),
            Map.entry(ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER"),
            Map.entry(ERROR_BROKEN_PIPE, "ERROR_BROKEN_PIPE"),
            Map.entry(ERROR_SEM_TIMEOUT, "ERROR_SEM_TIMEOUT"),
            Map.entry(ERROR_INSUFFICIENT_BUFFER, "ERROR_INSUFFICIENT_BUFFER"),
            Map.entry(ERROR_INVALID_NAME, "ERROR_INVALID_NAME"),
            Map.entry(ERROR_BAD_PATHNAME, "ERROR_BAD_PATHNAME"),
            Map.entry(ERROR_ALREADY_EXISTS, "ERROR_ALREADY_EXISTS"),
            Map.entry(ERROR_BAD_PIPE, "ERROR_BAD_PIPE"),
            Map.entry(ERROR_PIPE_BUSY, "ERROR_PIPE_BUSY"),
            Map.entry(ERROR_NO_DATA, "ERROR_NO_DATA"),
            Map.entry(ERROR_PIPE_NOT_CONNECTED, "ERROR_PIPE_NOT_CONNECTED"),
            Map.entry(ERROR_MORE_DATA, "ERROR_MORE_DATA"),
            Map.entry(WAIT_TIMEOUT, "WAIT_TIMEOUT"),
            Map.entry(ERROR_PIPE_CONNECTED, "ERROR_PIPE_CONNECTED"),
            Map.entry(ERROR_PIPE_LISTENING, "ERROR_PIPE_LISTENING"),
            Map.entry(ERROR_ABANDONED_WAIT_0, "ERROR_ABANDONED_WAIT_0"),
            Map.entry(ERROR_OPERATION_ABORTED, "ERROR_OPERATION_ABORTED"),
            Map.entry(ERROR_IO_INCOMPLETE, "ERROR_IO_INCOMPLETE"),
            Map.entry(ERROR_IO_PENDING, "ERROR_IO_PENDING"),
            Map.entry(ERROR_NOT_FOUND, "ERROR_NOT_FOUND"),
            Map.entry(WSAEINTR, "WSAEINTR"),
            Map.entry(WSAEWOULDBLOCK, "WSAEWOULDBLOCK"),
            Map.entry(WSAECONNRESET, "WSAECONNRESET"),
            Map.entry(WSAECONNREFUSED, "WSAECONNREFUSED"));

    /** What a read's error code means. */
    enum ReadOutcome {
        /** Bytes arrived and the message (or byte run) is complete. */
        DATA,
        /** Bytes arrived; the message continues ({@code ERROR_MORE_DATA}). */
        PARTIAL_MESSAGE,
        /** The other end is gone: end of stream, -1. */
        END_OF_STREAM,
        /** The operation was cancelled ({@code ERROR_OPERATION_ABORTED}). */
        CANCELLED,
        /** A real failure: throw. */
        FAILURE
    }

    /**
     * Classifies the error code of a completed {@code ReadFile}: {@code ERROR_MORE_DATA} is data
     * plus "message not complete", not an error; a broken, disconnected or closing pipe, and
     * {@code ERROR_HANDLE_EOF}, are end of stream (DESIGN rule 7).
     */
    static ReadOutcome classifyRead(int error) {
        return switch (error) {
            case ERROR_SUCCESS -> ReadOutcome.DATA;
            case ERROR_MORE_DATA -> ReadOutcome.PARTIAL_MESSAGE;
            case ERROR_BROKEN_PIPE, ERROR_PIPE_NOT_CONNECTED, ERROR_NO_DATA, ERROR_HANDLE_EOF -> ReadOutcome.END_OF_STREAM;
            case ERROR_OPERATION_ABORTED -> ReadOutcome.CANCELLED;
            default -> ReadOutcome.FAILURE;
        };
    }

    /** Whether a write failed because the reader is gone (the JDK says "Broken pipe" for these). */
    static boolean isPeerGone(int error) {
        return error == ERROR_BROKEN_PIPE || error == ERROR_NO_DATA || error == ERROR_PIPE_NOT_CONNECTED;
    }

    /** {@code ERROR_PIPE_BUSY}: every instance is taken; {@link io.panapipe.PipeClient} retries. */
    static boolean isBusy(int error) {
        return error == ERROR_PIPE_BUSY;
    }

    /** Nobody serves the name: fail fast unless the caller asked to wait. */
    static boolean isAbsent(int error) {
        return error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND;
    }

    /** {@code ERROR_PIPE_BUSY}, or {@code ERROR_12345} for a code this table lacks. */
    static String name(int error) {
        String n = NAMES.get(error);
        return n != null ? n : "ERROR_" + Integer.toUnsignedString(error);
    }

    /** A hint for the caller, where there is one worth giving. */
    static String hint(int error) {
        return switch (error) {
            case ERROR_PIPE_BUSY -> "all pipe instances are busy; retry, or raise the server's maxInstances/acceptBacklog";
            case ERROR_FILE_NOT_FOUND -> "no server is listening on this pipe name";
            case ERROR_ACCESS_DENIED -> "the pipe's security descriptor does not grant this user access, or another "
                    + "process already owns the name (first-instance check)";
            case ERROR_BROKEN_PIPE, ERROR_NO_DATA, ERROR_PIPE_NOT_CONNECTED -> "the other end closed the pipe";
            default -> null;
        };
    }

    /** The exception for a failed call: code, symbolic name, the system's text and a hint. */
    static PipeException exception(String what, int error) {
        String text = systemMessage(error);
        String hint = hint(error);
        String detail = text == null ? hint : hint == null ? text : text + " (" + hint + ")";
        return new PipeException(what, error, name(error), detail);
    }

    /** {@code FormatMessageW(FROM_SYSTEM | IGNORE_INSERTS)} text, or {@code null} off Windows or if unknown. */
    static String systemMessage(int error) {
        if (!io.panapipe.internal.Platform.isWindows()) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            int chars = 512;
            MemorySegment buf = arena.allocate(chars * 2L);
            MemorySegment capture = arena.allocate(java.lang.foreign.Linker.Option.captureStateLayout());
            int flags = 0x00001000 /* FORMAT_MESSAGE_FROM_SYSTEM */ | 0x00000200 /* FORMAT_MESSAGE_IGNORE_INSERTS */;
            int n = Win32Calls.formatMessageW(capture, flags, 0L, error, 0, buf.address(), chars, 0L);
            if (n <= 0) {
                return null;
            }
            return trimMessage(new String(buf.asSlice(0, n * 2L).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_16LE));
        } catch (RuntimeException | Error e) {
            return null; // a message is a nicety; never let it hide the real error
        }
    }

    /** FormatMessage text ends with "\r\n" and often a period; keep the words. */
    static String trimMessage(String text) {
        String t = text.strip();
        return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
    }
}
