package io.panapipe.internal.unix;

import io.panapipe.PipeException;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Socket-file rules shared by every Unix engine: where a server's socket file comes from, who may
 * replace it (only a stale one, never a live server's), and who removes it (DESIGN rules 11 and 14,
 * spelled out below).
 *
 * <ul>
 * <li><b>One binder at a time, one owner for life.</b> A server holds an exclusive lock on a lock
 *     file beside its socket ({@code .<name>.lock}) from before it looks at the path until it has
 *     closed. A second Panapipe server, in this process or another, finds the lock taken and gets
 *     {@code EADDRINUSE} without touching the socket or its server; the kernel drops the lock of a
 *     server that dies. The lock file itself stays (removing it would reopen the race it closes).
 * <li><b>Stale means nobody listens.</b> With the lock held, an existing socket file belongs to a
 *     dead server unless a program that does not take the lock listens on it: on Linux the kernel's
 *     table of Unix sockets is consulted and, if it lists a listener under this path, a probe
 *     connection confirms it (a listener whose file was deleted stays listed under the old path).
 * <li><b>No window.</b> The socket is bound and set listening in a fresh {@code 0700} directory
 *     beside the target, given its final mode there, and then renamed over the target path in one
 *     step, which also replaces a stale file atomically. Nobody can connect to it, or see it, with
 *     the mode the umask gave it. (If the temporary path would exceed {@code sun_path}, the socket
 *     is bound in place and its mode set right after; only the owner's umask applies meanwhile.)
 * <li><b>Remove only your own.</b> At close the path is deleted only if it is still the file this
 *     server published (same device and inode).
 * </ul>
 */
public final class SocketFiles {
    private static final Map<Path, Published> PUBLISHED = new ConcurrentHashMap<>();

    private SocketFiles() {
    }

    /**
     * Binds and sets listening a socket at the path it is given (engine-specific).
     *
     * @param <H> the engine's handle of a listening socket
     */
    @FunctionalInterface
    public interface Binder<H> {
        /**
         * Creates a socket, binds it to {@code at} and sets it listening.
         *
         * @param at where to bind: the final path, or a temporary one renamed into place afterwards
         * @return the listening socket
         * @throws IOException if creating, binding or listening fails
         */
        H bindAndListen(Path at) throws IOException;
    }

    /**
     * Closes what a {@link Binder} returned (error paths).
     *
     * @param <H> the engine's handle of a listening socket
     */
    @FunctionalInterface
    public interface Unbinder<H> {
        /**
         * Closes the socket, quietly.
         *
         * @param handle what {@link Binder#bindAndListen} returned
         */
        void close(H handle);
    }

    /**
     * A bound, listening socket and the file it was published under.
     *
     * @param <H> the engine's handle of a listening socket
     * @param handle the listening socket
     * @param file the published socket file, to {@link SocketFiles#release} at close
     */
    public record Bound<H>(H handle, Published file) {
    }

    /**
     * Publishes a listening socket under {@code name}: private directory (logical names), the
     * name's lock, stale-file check, bind in a private place, final mode, rename into place.
     *
     * @param <H> the engine's handle of a listening socket
     * @param name a Unix name (logical or explicit path)
     * @param options the server's settings ({@link PipeOptions#posixPermissions()} sets the mode)
     * @param binder binds and listens at a path
     * @param unbinder closes the socket if publishing it fails
     * @return the listening socket and its published file
     * @throws IllegalArgumentException if {@code name} is a Windows pipe path
     * @throws PipeException {@code EADDRINUSE} if a live server holds the name; {@code EACCES} or
     *         {@code EPERM} naming the owner if the directory or a file in the way belongs to
     *         another user; the binder's own exception if binding fails
     */
    public static <H> Bound<H> bind(PipeName name, PipeOptions options, Binder<H> binder, Unbinder<H> unbinder)
            throws IOException {
        if (name.isWindowsPath()) {
            throw new IllegalArgumentException("a Windows pipe path cannot be served on this platform: " + name.osPath());
        }
        Path path = name.socketPath().toAbsolutePath();
        String what = "bind " + path;
        if (name.logicalName() != null) {
            PipeDirectory.ensureForServer(path.getParent(), what);
        }
        String perms = options.posixPermissions() != null ? options.posixPermissions() : "rw-------";
        Lock lock = Lock.acquire(path, what);
        try {
            checkReplaceable(path, what);
            Path tempDir = createTempDir(path.getParent(), what);
            Path at = tempDir == null ? path : tempDir.resolve("s");
            try {
                if (tempDir == null) {
                    try {
                        Files.deleteIfExists(path); // stale (checked above, under the lock)
                    } catch (FileSystemException e) {
                        throw notOurs(what, path, e);
                    }
                }
                H handle = binder.bindAndListen(at);
                try {
                    Files.setPosixFilePermissions(at, PosixFilePermissions.fromString(perms));
                    if (tempDir != null) {
                        moveIntoPlace(at, path, what);
                    }
                    Published p = new Published(path, lock, fileKey(path));
                    PUBLISHED.put(path, p);
                    return new Bound<>(handle, p);
                } catch (IOException | RuntimeException e) {
                    unbinder.close(handle);
                    if (tempDir == null) {
                        Files.deleteIfExists(path);
                    }
                    throw e;
                }
            } finally {
                if (tempDir != null) {
                    Files.deleteIfExists(at);
                    Files.deleteIfExists(tempDir);
                }
            }
        } catch (IOException | RuntimeException e) {
            lock.release();
            throw e;
        }
    }

    /**
     * Closes the socket file published at {@code path} by this process: deleted if it is still the
     * one published, then the name's lock released. Does nothing for a path not published here.
     *
     * @param path the socket file's path
     */
    public static void release(Path path) {
        Published p = PUBLISHED.get(path.toAbsolutePath());
        if (p != null) {
            p.close();
        }
    }

    /** A published socket file: its path, its identity, and the name's lock. */
    public static final class Published {
        private final Path path;
        private final Lock lock;
        private final Object key;
        private boolean closed;

        private Published(Path path, Lock lock, Object key) {
            this.path = path;
            this.lock = lock;
            this.key = key;
        }

        /**
         * Where the socket file was published.
         *
         * @return its absolute path
         */
        public Path path() {
            return path;
        }

        /** Deletes the file if it is still this server's, then releases the lock. Idempotent. */
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (key != null && key.equals(fileKey(path))) {
                    Files.deleteIfExists(path);
                }
            } catch (IOException ignored) {
                // someone else's file now, or gone: leave it
            } finally {
                PUBLISHED.remove(path, this);
                lock.release();
            }
        }
    }

    /** The file's device and inode, or {@code null} if it is absent. */
    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** With the lock held: refuse a path that is not a socket or on which a foreign server listens. */
    private static void checkReplaceable(Path path, String what) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException absent) {
            return;
        }
        if (!attrs.isOther()) { // sockets are neither files, directories nor links
            throw new PipeException(what, Errno.EADDRINUSE, "EADDRINUSE",
                    "the path exists and is not a socket; refusing to replace it");
        }
        if (hasForeignListener(path)) {
            throw new PipeException(what, Errno.EADDRINUSE, "EADDRINUSE",
                    "another server (owned by " + UnixUser.describe(path) + ") is listening on this name; "
                            + "close it or choose another name");
        }
    }

    /**
     * Whether a server that does not take Panapipe's lock listens on the socket at {@code path}. On
     * Linux, only a socket the kernel lists as listening under this path is probed; elsewhere the
     * probe decides (the server then sees one client that comes and goes at once).
     */
    static boolean hasForeignListener(Path path) {
        Boolean listed = listedAsListening(path);
        return (listed == null || listed) && answersProbe(path);
    }

    /** {@code /proc/net/unix} lists bound sockets; flag {@code 00010000} (__SO_ACCEPTCON) marks a listener. */
    private static Boolean listedAsListening(Path path) {
        Path table = Path.of("/proc/net/unix");
        if (!Files.isReadable(table)) {
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

    /** A non-blocking connect: accepted or backlog full means a listener; anything else means none we can reach. */
    private static boolean answersProbe(Path path) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.configureBlocking(false);
            probe.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (IOException e) {
            int errno = Errno.fromJdk(e);
            return errno == Errno.EAGAIN || errno == Errno.EACCES;
        }
    }

    /** A fresh {@code 0700} directory beside {@code target}, or {@code null} if its socket path would be too long. */
    private static Path createTempDir(Path parent, String what) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String dirName = ".pp" + Integer.toHexString(ThreadLocalRandom.current().nextInt() | 0x10000000);
            Path dir = parent.resolve(dirName);
            if (dir.resolve("s").toString().getBytes(StandardCharsets.UTF_8).length > PipeName.MAX_SOCKET_PATH_BYTES) {
                return null;
            }
            try {
                return Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException taken) {
                if (attempt > 100) {
                    throw taken;
                }
            } catch (AccessDeniedException e) {
                throw new PipeException(what, Errno.EACCES, "EACCES", "the directory " + parent
                        + " is not writable by this user (owned by " + UnixUser.describe(parent) + ")");
            }
        }
    }

    /** {@code rename(2)}: atomic, and replaces a stale socket file in the same step. */
    private static void moveIntoPlace(Path from, Path to, String what) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (FileSystemException e) {
            throw notOurs(what, to, e);
        }
    }

    /** A file in the way that belongs to another user: {@code EPERM} naming the owner. */
    private static PipeException notOurs(String what, Path path, FileSystemException e) {
        PipeException p = new PipeException(what, Errno.EPERM, "EPERM", "a stale socket file " + path
                + " is in the way and belongs to " + UnixUser.describe(path)
                + "; only its owner (or root) can remove it in this directory (" + e.getReason() + ")");
        p.initCause(e);
        return p;
    }

    /** The exclusive lock of one socket path, held by its server for life. */
    static final class Lock {
        private final FileChannel channel;
        private final FileLock lock;

        private Lock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        static Path lockFile(Path socket) {
            return socket.resolveSibling("." + socket.getFileName() + ".lock");
        }

        static Lock acquire(Path socket, String what) throws IOException {
            Path file = lockFile(socket);
            FileChannel channel;
            try {
                channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
            } catch (AccessDeniedException e) {
                PipeException p = new PipeException(what, Errno.EACCES, "EACCES", "cannot open the lock file " + file
                        + " (owned by " + UnixUser.describe(file) + "; the directory's owner is "
                        + UnixUser.describe(socket.getParent()) + ")");
                p.initCause(e);
                throw p;
            } catch (FileSystemException e) {
                throw Errno.fromJdk(what, e, "cannot open the lock file " + file);
            }
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException heldHere) {
                lock = null;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            if (lock == null) {
                channel.close();
                throw new PipeException(what, Errno.EADDRINUSE, "EADDRINUSE",
                        "another server is listening on this name (it holds " + file + "); close it or choose another name");
            }
            return new Lock(channel, lock);
        }

        void release() {
            try {
                lock.release();
            } catch (IOException ignored) {
                // closing the channel drops it anyway
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /**
     * Client side, before connecting to {@code name}: for a logical name, its directory must be
     * this user's and closed to others (see {@link PipeDirectory#checkForClient}).
     *
     * @param name the pipe about to be connected to
     * @throws IOException a {@link PipeException} ({@code EACCES}) if the directory is refused, or
     *         reading its attributes failed
     */
    public static void checkBeforeConnect(PipeName name) throws IOException {
        if (name.logicalName() != null && !name.isWindowsPath()) {
            PipeDirectory.checkForClient(name.socketPath().getParent(), "connect to " + name.osPath());
        }
    }

    /**
     * Whether a client must check that the server runs as its own user: always for a logical name
     * (its directory is this user's), for an explicit path when the options ask.
     *
     * @param name the pipe connected to
     * @param options the client's settings
     * @return {@code true} if the server's uid must be this process's
     */
    public static boolean mustVerifyServerUser(PipeName name, PipeOptions options) {
        return options.verifyServerUser() || name.logicalName() != null;
    }

    /**
     * Maps a JDK socket exception of a connect to the errno it stands for.
     *
     * @param name the pipe the connect was for
     * @param e the JDK's exception
     * @return a {@link PipeException} with the errno and advice, or {@code e} itself if it is one
     */
    public static PipeException connectFailure(PipeName name, IOException e) {
        String what = "connect to " + name.osPath();
        if (e instanceof PipeException p) {
            return p;
        }
        String advice = switch (Errno.fromJdk(e)) {
            case Errno.ENOENT -> "no server has bound this name";
            case Errno.ECONNREFUSED -> "a socket file is there but no server listens on it";
            case Errno.EAGAIN -> "the server's backlog is full";
            case Errno.EACCES -> "the socket or its directory belongs to another user";
            default -> null;
        };
        return Errno.fromJdk(what, e, advice);
    }
}
