package io.panapipe;

import io.panapipe.internal.Platform;
import io.panapipe.internal.unix.PipeDirectory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The address of a pipe.
 *
 * <p>{@link #of(String)} takes a logical name that means the same thing on every platform:
 * on Windows it becomes {@code \\.\pipe\<name>}; on Unix, a socket file {@code <name>} in a
 * private per-user directory ({@code $XDG_RUNTIME_DIR/panapipe}, else
 * {@code <java.io.tmpdir>/panapipe-<uid>}, created with mode {@code 0700}; the system property
 * {@code panapipe.dir} overrides both). Both ends check that directory: a server or client refuses
 * one that is a symbolic link, belongs to another user or (client) that others can write, and the
 * client of a logical name also refuses a server running as another user (see
 * {@link PipeOptions#withVerifyServerUser}).
 * {@link #ofWindowsPath(String)} and {@link #ofSocketPath(Path)} name an exact OS address instead,
 * for talking to other programs' pipes such as {@code \\.\pipe\docker_engine} or
 * {@code /var/run/docker.sock}.
 *
 * <p>Names are checked here, before any system call: a Windows pipe path is at most
 * {@value #MAX_WINDOWS_PATH} characters; a Unix socket path at most {@value #MAX_SOCKET_PATH_BYTES}
 * bytes (the size of {@code sun_path} less its terminating NUL).
 */
public final class PipeName {
    /** Longest Windows pipe path, {@code \\.\pipe\} prefix included (documented by {@code CreateNamedPipeW}). */
    public static final int MAX_WINDOWS_PATH = 256;
    /** Longest Unix socket path in bytes: {@code sizeof(sun_path) - 1}. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;

    static final String WINDOWS_PREFIX = "\\\\.\\pipe\\";

    private final String logicalName;   // null for the explicit forms
    private final String osPath;
    private final boolean windowsPath;

    private PipeName(String logicalName, String osPath, boolean windowsPath) {
        this.logicalName = logicalName;
        this.osPath = osPath;
        this.windowsPath = windowsPath;
    }

    /**
     * A logical pipe name, portable between Windows and Unix.
     *
     * @param name 1 or more characters; no {@code /}, {@code \}, NUL or other control characters
     *             (C0, DEL, C1), no format characters (bidirectional overrides, zero-width
     *             characters) or line separators; not {@code .} or {@code ..}
     * @throws IllegalArgumentException if the name is empty, has an illegal character, or makes an
     *             OS path longer than the platform's limit (the message names the limit)
     * @return the name; its {@link #osPath()} is the pipe or socket file it stands for here
     */
    public static PipeName of(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("pipe name is empty");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("pipe name must not be '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == '\\' || isInvisible(c)) {
                throw new IllegalArgumentException("pipe name has an illegal character "
                        + String.format("U+%04X", (int) c) + " at index " + i
                        + " (a logical name may not contain '/', '\\', control characters (C0, DEL, C1),"
                        + " format characters such as bidirectional overrides, or line separators): " + printable(name));
            }
        }
        if (Platform.isWindows()) {
            return new PipeName(name, checkWindowsLength(WINDOWS_PREFIX + name), true);
        }
        Path path = PipeDirectory.path().resolve(name);
        return new PipeName(name, checkSocketLength(path.toString()), false);
    }

    /**
     * An explicit Windows pipe path such as {@code \\.\pipe\docker_engine}.
     *
     * @param path the full path, {@code \\<server>\pipe\<name>}
     * @return the name, with {@code path} as its {@link #osPath()}
     * @throws IllegalArgumentException if it is not of the form {@code \\<server>\pipe\<name>}
     *             or is longer than {@value #MAX_WINDOWS_PATH} characters
     */
    public static PipeName ofWindowsPath(String path) {
        Objects.requireNonNull(path, "path");
        int pipe = path.indexOf("\\pipe\\");
        if (!path.startsWith("\\\\") || pipe < 3 || path.indexOf('\\', 2) != pipe
                || path.length() == pipe + "\\pipe\\".length()) {
            throw new IllegalArgumentException("not a Windows pipe path (expected \\\\.\\pipe\\<name>): " + printable(path));
        }
        if (path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("pipe path contains NUL: " + printable(path));
        }
        return new PipeName(null, checkWindowsLength(path), true);
    }

    /**
     * An explicit Unix domain socket path such as {@code /var/run/docker.sock}.
     *
     * @param path the socket file
     * @return the name, with {@code path} as its {@link #osPath()}
     * @throws IllegalArgumentException if the path is empty, contains NUL, or is longer than
     *             {@value #MAX_SOCKET_PATH_BYTES} bytes in UTF-8
     */
    public static PipeName ofSocketPath(Path path) {
        Objects.requireNonNull(path, "path");
        String s = path.toString();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("socket path is empty");
        }
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("socket path contains NUL: " + printable(s));
        }
        return new PipeName(null, checkSocketLength(s), false);
    }

    /**
     * The operating-system address: a {@code \\.\pipe\...} path or a socket file path.
     *
     * @return the address as a string
     */
    public String osPath() {
        return osPath;
    }

    /**
     * The socket file of a Unix name.
     *
     * @return the socket file's path
     * @throws IllegalStateException if this names a Windows pipe
     */
    public Path socketPath() {
        if (windowsPath) {
            throw new IllegalStateException("a Windows pipe path has no socket file: " + osPath);
        }
        return Path.of(osPath);
    }

    /**
     * Whether this names a Windows pipe ({@code \\.\pipe\...}) rather than a Unix socket file.
     *
     * @return {@code true} for a Windows pipe path
     */
    public boolean isWindowsPath() {
        return windowsPath;
    }

    /**
     * The logical name given to {@link #of(String)}.
     *
     * @return the logical name, or {@code null} for an explicit path
     */
    public String logicalName() {
        return logicalName;
    }

    private static String checkWindowsLength(String path) {
        if (path.length() > MAX_WINDOWS_PATH) {
            throw new IllegalArgumentException("Windows pipe path is " + path.length()
                    + " characters; the limit is " + MAX_WINDOWS_PATH + " (\\\\.\\pipe\\ included): " + printable(path));
        }
        return path;
    }

    private static String checkSocketLength(String path) {
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw new IllegalArgumentException("Unix socket path is " + bytes + " bytes; the limit is "
                    + MAX_SOCKET_PATH_BYTES + " (sun_path is 108 bytes with its NUL): " + printable(path)
                    + " (use a shorter name, or set XDG_RUNTIME_DIR / java.io.tmpdir to a shorter directory)");
        }
        return path;
    }

    /**
     * Characters a name may not hold because they are invisible or change how the name reads:
     * C0 and C1 controls and DEL, format characters (bidirectional overrides such as U+202E,
     * zero-width characters), line and paragraph separators.
     */
    private static boolean isInvisible(char c) {
        if (Character.isISOControl(c)) {
            return true;
        }
        int type = Character.getType(c);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
    }

    private static String printable(String s) {
        String shown = s.length() > 300 ? s.substring(0, 300) + "..." : s;
        StringBuilder b = new StringBuilder(shown.length() + 2).append('"');
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            if (isInvisible(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipeName other && other.osPath.equals(osPath) && other.windowsPath == windowsPath;
    }

    @Override
    public int hashCode() {
        return osPath.hashCode();
    }

    @Override
    public String toString() {
        return osPath;
    }
}
