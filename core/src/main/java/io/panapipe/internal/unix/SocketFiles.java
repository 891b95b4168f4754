package io.panapipe.internal.unix;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.internal.Platform;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Socket-file rules shared by the Unix engines (DESIGN rule 11): the private directory of logical
 * names, and what to do when the path already exists — a live server keeps it ("address in use",
 * never a takeover), a stale socket of a dead server is removed, anything else is refused.
 */
public final class SocketFiles {
    private SocketFiles() {
    }

    /** Prepares {@code name}'s path for {@code bind}: private directory, stale socket removed. */
    public static Path prepareForBind(PipeName name) throws IOException {
        if (name.isWindowsPath()) {
            throw new IllegalArgumentException("a Windows pipe path cannot be served on this platform: " + name.osPath());
        }
        Path path = name.socketPath();
        if (name.logicalName() != null) {
            Platform.ensurePrivateDirectory(path.getParent());
        }
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException absent) {
            return path;
        }
        if (!attrs.isOther()) { // sockets are neither files, directories nor links
            throw new PipeException("bind " + path, Errno.EADDRINUSE, "EADDRINUSE",
                    "the path exists and is not a socket; refusing to replace it");
        }
        if (isLive(path)) {
            throw new PipeException("bind " + path, Errno.EADDRINUSE, "EADDRINUSE",
                    "another server is listening on this name; close it or choose another name");
        }
        Files.deleteIfExists(path); // stale: its server is gone
        return path;
    }

    /**
     * Whether a server listens on the socket at {@code path}. On Linux the kernel's table of Unix
     * sockets ({@code /proc/net/unix}) answers without touching the server; elsewhere a probe
     * connection does (the live server then sees one client that comes and goes at once).
     */
    public static boolean isLive(Path path) {
        Boolean listed = listedAsListening(path);
        return listed != null ? listed : answersProbe(path);
    }

    /** {@code /proc/net/unix} lists bound sockets; flag {@code 00010000} (__SO_ACCEPTCON) marks a listener. */
    private static Boolean listedAsListening(Path path) {
        Path table = Path.of("/proc/net/unix");
        if (!path.isAbsolute() || !Files.isReadable(table)) {
            return null;
        }
        String suffix = " " + path;
        try (var lines = Files.lines(table)) {
            return lines.skip(1).anyMatch(line -> line.endsWith(suffix) && listening(line));
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    private static boolean listening(String line) {
        String[] f = line.trim().split("\\s+");
        return f.length > 3 && (Long.parseLong(f[3], 16) & 0x10000L) != 0;
    }

    private static boolean answersProbe(Path path) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Maps a JDK socket exception of a connect to the errno it stands for. */
    public static PipeException connectFailure(PipeName name, IOException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        String what = "connect to " + name.osPath();
        if (e instanceof java.nio.file.NoSuchFileException || m.contains("no such file")) {
            return withCause(new PipeException(what, Errno.ENOENT, "ENOENT", "no server has bound this name"), e);
        }
        if (m.contains("refused")) {
            return withCause(new PipeException(what, Errno.ECONNREFUSED, "ECONNREFUSED",
                    "a socket file is there but no server listens on it"), e);
        }
        if (m.contains("temporarily unavailable")) {
            return withCause(new PipeException(what, Errno.EAGAIN, "EAGAIN", "the server's backlog is full"), e);
        }
        if (m.contains("permission denied")) {
            return withCause(new PipeException(what, Errno.EACCES, "EACCES",
                    "the socket or its directory belongs to another user"), e);
        }
        if (e instanceof PipeException p) {
            return p;
        }
        return withCause(new PipeException(what, -1, e instanceof SocketException ? "SocketException" : e.getClass().getSimpleName(),
                e.getMessage()), e);
    }

    private static PipeException withCause(PipeException p, Throwable cause) {
        p.initCause(cause);
        return p;
    }
}
