package io.panapipe.net;

import io.panapipe.PipeName;

import java.io.Serial;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A {@link SocketAddress} naming a pipe: the address type of {@link PipeSocket} and
 * {@link PipeServerSocket}.
 *
 * <p>{@link #parse(String)} reads the text form a configuration string carries (a JDBC
 * {@code socketFactoryArg}, a system property): a Windows pipe path ({@code \\.\pipe\name}), a
 * Unix socket path (anything containing {@code /}), or else a logical name for
 * {@link PipeName#of(String)}.
 *
 * @since 0.1
 */
public final class PipeSocketAddress extends SocketAddress {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The logical name, or {@code null} for an explicit OS path. */
    private final String logicalName;
    /** The OS path of an explicit address, or {@code null} for a logical name. */
    private final String explicitPath;
    /** Whether {@link #explicitPath} is a Windows pipe path rather than a Unix socket path. */
    private final boolean windowsPath;

    private PipeSocketAddress(String logicalName, String explicitPath, boolean windowsPath) {
        this.logicalName = logicalName;
        this.explicitPath = explicitPath;
        this.windowsPath = windowsPath;
    }

    /**
     * The address of {@code name}.
     *
     * @param name a pipe name
     * @return its address
     */
    public static PipeSocketAddress of(PipeName name) {
        Objects.requireNonNull(name, "name");
        if (name.logicalName() != null) {
            return new PipeSocketAddress(name.logicalName(), null, false);
        }
        return new PipeSocketAddress(null, name.osPath(), name.isWindowsPath());
    }

    /**
     * Reads an address from text: {@code \\server\pipe\name} is a Windows pipe path
     * ({@link PipeName#ofWindowsPath(String)}); text containing {@code /} is a Unix socket path
     * ({@link PipeName#ofSocketPath(Path)}); anything else is a logical name
     * ({@link PipeName#of(String)}).
     *
     * @param text the address as text
     * @return its address
     * @throws IllegalArgumentException if the text is empty or not a valid name of its kind
     */
    public static PipeSocketAddress parse(String text) {
        return of(parseName(text));
    }

    static PipeName parseName(String text) {
        Objects.requireNonNull(text, "text");
        String t = text.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty pipe address");
        }
        if (t.startsWith("\\\\")) {
            return PipeName.ofWindowsPath(t);
        }
        if (t.indexOf('/') >= 0) {
            return PipeName.ofSocketPath(Path.of(t));
        }
        return PipeName.of(t);
    }

    /**
     * The pipe this address names.
     *
     * @return the pipe name
     */
    public PipeName name() {
        if (logicalName != null) {
            return PipeName.of(logicalName);
        }
        return windowsPath ? PipeName.ofWindowsPath(explicitPath) : PipeName.ofSocketPath(Path.of(explicitPath));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipeSocketAddress a
                && Objects.equals(logicalName, a.logicalName)
                && Objects.equals(explicitPath, a.explicitPath)
                && windowsPath == a.windowsPath;
    }

    @Override
    public int hashCode() {
        return Objects.hash(logicalName, explicitPath, windowsPath);
    }

    /** The logical name, or the OS path of an explicit address. */
    @Override
    public String toString() {
        return logicalName != null ? logicalName : explicitPath;
    }
}
