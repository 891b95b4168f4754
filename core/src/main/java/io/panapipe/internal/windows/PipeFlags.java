package io.panapipe.internal.windows;

import io.panapipe.ImpersonationLevel;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.bindings.windows.Win32;

/**
 * The flag words handed to {@code CreateNamedPipeW} and {@code CreateFileW}, computed from
 * {@link PipeOptions} by pure functions (the constants come from the generated bindings, which
 * load on any platform), so that every choice is tested without Windows.
 */
final class PipeFlags {
    private PipeFlags() {
    }

    /**
     * {@code dwOpenMode}: duplex, overlapped, and for the server's first instance
     * {@code FILE_FLAG_FIRST_PIPE_INSTANCE}, so that binding fails if another process already
     * owns the name instead of silently joining (or squatting) it.
     */
    static int serverOpenMode(boolean firstInstance) {
        return Win32.PIPE_ACCESS_DUPLEX() | Win32.FILE_FLAG_OVERLAPPED()
                | (firstInstance ? Win32.FILE_FLAG_FIRST_PIPE_INSTANCE() : 0);
    }

    /**
     * {@code dwPipeMode}: byte or message type with the matching read mode, blocking-mode
     * {@code PIPE_WAIT} (overlapped I/O makes it asynchronous; {@code PIPE_NOWAIT} is a legacy
     * mode), and {@code PIPE_REJECT_REMOTE_CLIENTS} unless turned off.
     */
    static int serverPipeMode(PipeOptions options) {
        int type = options.mode() == PipeMode.MESSAGE
                ? Win32.PIPE_TYPE_MESSAGE() | Win32.PIPE_READMODE_MESSAGE()
                : Win32.PIPE_TYPE_BYTE() | Win32.PIPE_READMODE_BYTE();
        int remote = options.rejectRemoteClients() ? Win32.PIPE_REJECT_REMOTE_CLIENTS() : Win32.PIPE_ACCEPT_REMOTE_CLIENTS();
        return type | Win32.PIPE_WAIT() | remote;
    }

    /** {@code nMaxInstances}: 1..254, or {@code PIPE_UNLIMITED_INSTANCES} (255). */
    static int maxInstances(PipeOptions options) {
        return options.maxInstances() >= PipeOptions.UNLIMITED_INSTANCES
                ? Win32.PIPE_UNLIMITED_INSTANCES() : options.maxInstances();
    }

    /** How many instances the server keeps waiting in {@code ConnectNamedPipe}: at least one. */
    static int backlogTarget(PipeOptions options) {
        return Math.max(1, Math.min(options.acceptBacklog(), options.maxInstances()));
    }

    /** {@code dwDesiredAccess} of a client: read and write. */
    static int clientAccess() {
        return Win32.GENERIC_READ() | Win32.GENERIC_WRITE();
    }

    /**
     * {@code dwFlagsAndAttributes} of a client: overlapped, and {@code SECURITY_SQOS_PRESENT} with
     * the impersonation level the server may use (default identification only, so that a hostile
     * server cannot act as this user).
     */
    static int clientFlags(PipeOptions options) {
        return Win32.FILE_FLAG_OVERLAPPED() | Win32.SECURITY_SQOS_PRESENT() | impersonation(options.impersonationLevel());
    }

    static int impersonation(ImpersonationLevel level) {
        return switch (level) {
            case ANONYMOUS -> Win32.SECURITY_ANONYMOUS();
            case IDENTIFICATION -> Win32.SECURITY_IDENTIFICATION();
            case IMPERSONATION -> Win32.SECURITY_IMPERSONATION();
            case DELEGATION -> Win32.SECURITY_DELEGATION();
        };
    }

    /** The read mode a MESSAGE client sets with {@code SetNamedPipeHandleState}, or -1 for none. */
    static int clientReadMode(PipeOptions options) {
        return options.mode() == PipeMode.MESSAGE ? Win32.PIPE_READMODE_MESSAGE() : -1;
    }

    /**
     * {@code FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE}, set on every
     * handle associated with the port, so a request that succeeds at once returns inline and no
     * packet comes (DESIGN rule 4).
     */
    static byte completionModes() {
        return (byte) (Win32.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS() | Win32.FILE_SKIP_SET_EVENT_ON_HANDLE());
    }

    /** The buffer sizes as {@code CreateNamedPipeW} takes them (0 = the system's choice). */
    static int outBufferSize(PipeOptions options) {
        return options.outBufferSize();
    }

    static int inBufferSize(PipeOptions options) {
        return options.inBufferSize();
    }

    /**
     * The {@code \\server\pipe\name} path of {@code name}, checked: a Unix socket path cannot be
     * opened here, and a path with a NUL would be cut short by the kernel.
     */
    static String pipePath(PipeName name) {
        if (!name.isWindowsPath() && name.logicalName() != null) {
            // A logical name made off Windows (only the Windows model's test runs get here: on
            // Windows PipeName.of already gives this path) names the same pipe it would on Windows.
            String path = "\\\\.\\pipe\\" + name.logicalName();
            if (path.length() > PipeName.MAX_WINDOWS_PATH) {
                throw new IllegalArgumentException("invalid pipe path: " + path);
            }
            return path;
        }
        if (!name.isWindowsPath()) {
            throw new IllegalArgumentException("a Unix socket path cannot be used as a Windows named pipe: "
                    + name.osPath() + " (use PipeName.of(name) or PipeName.ofWindowsPath(\"\\\\\\\\.\\\\pipe\\\\...\"))");
        }
        String path = name.osPath();
        if (path.indexOf('\0') >= 0 || path.length() > PipeName.MAX_WINDOWS_PATH) {
            throw new IllegalArgumentException("invalid pipe path: " + path);
        }
        return path;
    }

    /** Whether a server may be created at {@code path}: only local pipes ({@code \\.\pipe\...}). */
    static boolean isLocalPipePath(String path) {
        return path.regionMatches(true, 0, "\\\\.\\pipe\\", 0, 9);
    }
}
