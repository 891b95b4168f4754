package io.panapipe.internal.linux;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.bindings.linux.ucred;
import io.panapipe.internal.completion.IoGate;
import io.panapipe.internal.unix.AcceptBackoff;
import io.panapipe.internal.unix.SocketFiles;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * What the Linux engines (epoll and io_uring) share below their I/O paths: binding a listening
 * AF_UNIX socket, connecting one, and admitting an accepted one. Everything here runs once per
 * connection or server, on the calling thread, with non-blocking sockets.
 */
final class UnixEndpoints {
    private UnixEndpoints() {
    }

    static {
        // Load what an accept's EMFILE path needs while descriptors are still there (loading a class
        // opens a file): this class is loaded by the first bind of every Linux engine.
        Errnos.exception("preload", Errnos.EMFILE, acceptAdvice(Errnos.EMFILE)).getMessage();
        new AcceptBackoff();
    }

    /** A listening socket and the file it is bound to. */
    record Listening(int fd, Path path) {
    }

    /**
     * Creates, binds and listens, through {@link SocketFiles#bind}: the name's lock is taken for the
     * server's life, a stale file is replaced atomically, and the socket file appears with the
     * options' POSIX mode (default {@code rw-------}) already set. Close with {@link #closeListening}.
     */
    static Listening bind(PipeName name, PipeOptions options) throws IOException {
        SocketFiles.Bound<Integer> bound = SocketFiles.bind(name, options, at -> bindAndListen(at, options),
                UnixSockets::closeQuietly);
        return new Listening(bound.handle(), bound.file().path());
    }

    private static Integer bindAndListen(Path at, PipeOptions options) throws IOException {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            int fd = UnixSockets.open(errno, options.mode());
            try {
                UnixSockets.applyBufferSizes(errno, fd, options, temp.allocate(ucred.sizeof()));
                if (LibC.bind(errno, fd, UnixSockets.address(temp, at), UnixSockets.addressLength(at)) < 0) {
                    int e = LibC.errno(errno);
                    throw Errnos.exception("bind " + at, e, e == Errnos.EADDRINUSE
                            ? "another socket took the name meanwhile; close it or choose another name"
                            : e == Errnos.EACCES ? "the directory is not writable by this user" : null);
                }
                if (LibC.listen(errno, fd, options.acceptBacklog()) < 0) {
                    throw Errnos.exception("listen on " + at, LibC.errno(errno));
                }
                return fd;
            } catch (IOException | RuntimeException e) {
                UnixSockets.closeQuietly(errno, fd);
                throw e;
            }
        }
    }

    /**
     * Closes a listening socket made by {@link #bind}: the fd, then its file (only if it is still
     * this server's: same device and inode) and the name's lock.
     */
    static void closeListening(MemorySegment errno, int fd, Path path) {
        try {
            UnixSockets.closeQuietly(errno, fd);
        } finally {
            SocketFiles.release(path);
        }
    }

    /** As {@link #closeListening(MemorySegment, int, Path)}, from a context without an errno segment (error paths). */
    static void closeListening(int fd, Path path) {
        try {
            UnixSockets.closeQuietly(fd);
        } finally {
            SocketFiles.release(path);
        }
    }

    /** Connects a new non-blocking socket to {@code name}; the caller owns (and must close) the fd. */
    static int connect(PipeName name, PipeOptions options) throws IOException {
        if (name.isWindowsPath()) {
            throw new IllegalArgumentException("a Windows pipe path cannot be opened on this platform: " + name.osPath());
        }
        SocketFiles.checkBeforeConnect(name);
        Path path = name.socketPath();
        String what = "connect to " + name.osPath();
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            MemorySegment cred = temp.allocate(ucred.layout());
            MemorySegment scratch = temp.allocate(Integer.BYTES);
            int fd = UnixSockets.open(errno, options.mode());
            try {
                UnixSockets.applyBufferSizes(errno, fd, options, scratch);
                // Non-blocking AF_UNIX connect completes at once (queued in the server's backlog) or
                // fails at once: EAGAIN = backlog full (PipeClient retries), never EINPROGRESS.
                if (LibC.connect(errno, fd, UnixSockets.address(temp, path), UnixSockets.addressLength(path)) < 0) {
                    throw connectFailure(what, LibC.errno(errno), options.mode());
                }
                if (SocketFiles.mustVerifyServerUser(name, options)) {
                    UnixSockets.peerCred(errno, fd, cred, scratch);
                    int uid = ucred.uid(cred);
                    if (uid != LibC.getuid()) {
                        throw new PipeException(what, Errnos.EACCES, "EACCES", "the server runs as "
                                + userName(uid) + ", not as this user (uid " + LibC.getuid() + "); refusing to talk to it");
                    }
                }
                if (options.mode() == PipeMode.MESSAGE) {
                    UnixSockets.enablePassCred(errno, fd, scratch);
                }
                return fd;
            } catch (IOException | RuntimeException e) {
                UnixSockets.closeQuietly(errno, fd);
                throw e;
            }
        }
    }

    private static PipeException connectFailure(String what, int e, PipeMode mode) {
        String advice;
        if (e == Errnos.ENOENT) {
            advice = "no server has bound this name; start the server, or connect with a timeout to wait for it";
        } else if (e == Errnos.ECONNREFUSED) {
            advice = "a socket file is there but no server listens on it (the server exited)";
        } else if (e == Errnos.EAGAIN) {
            advice = "the server's accept backlog is full; retry later or raise PipeOptions.withAcceptBacklog";
        } else if (e == Errnos.EACCES || e == Errnos.EPERM) {
            advice = "the socket or its directory belongs to another user";
        } else if (e == Errnos.EPROTOTYPE) {
            advice = "the server uses the other PipeMode (this client asked for " + mode + ")";
        } else {
            advice = null;
        }
        return Errnos.exception(what, e, advice);
    }

    /** Native scratch of one accepting thread: errno capture, a {@code ucred}, an int. */
    static final class AcceptScratch implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        final MemorySegment errno = arena.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
        final MemorySegment cred = arena.allocate(ucred.layout());
        final MemorySegment scratch = arena.allocate(Integer.BYTES);

        @Override
        public void close() {
            arena.close();
        }
    }

    /**
     * Checks and configures an accepted socket. With the current-user-only policy (the default) a
     * peer whose {@code SO_PEERCRED} uid differs from ours is closed at once (DESIGN rule 11).
     *
     * @return whether the socket was admitted; if not, it has been closed
     * @throws IOException configuring it failed (it has been closed)
     */
    static boolean admit(int client, PipeOptions options, int myUid, AcceptScratch s) throws IOException {
        try {
            if (options.currentUserOnly()) {
                UnixSockets.peerCred(s.errno, client, s.cred, s.scratch);
                if (ucred.uid(s.cred) != myUid) {
                    UnixSockets.closeQuietly(s.errno, client); // another user: refuse quietly, keep serving
                    return false;
                }
            }
            UnixSockets.applyBufferSizes(s.errno, client, options, s.scratch);
            if (options.mode() == PipeMode.MESSAGE) {
                UnixSockets.enablePassCred(s.errno, client, s.scratch);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            UnixSockets.closeQuietly(s.errno, client);
            throw e;
        }
    }

    private static String userName(int uid) {
        return io.panapipe.internal.unix.UnixUser.describe(uid);
    }

    /** The advice for a failure that ran out of descriptors, or {@code null}. */
    static String acceptAdvice(int e) {
        return e == Errnos.EMFILE || e == Errnos.ENFILE ? io.panapipe.internal.unix.Errno.DESCRIPTOR_ADVICE : null;
    }

    /**
     * The accept policy every Linux server shares, to be called when {@code accept4} (or its
     * io_uring form) failed with {@code errno}: for {@code EMFILE}/{@code ENFILE} it pauses
     * ({@link AcceptBackoff}) and returns, and the caller retries its accept; once the deadline (or,
     * untimed, {@link AcceptBackoff#UNTIMED_BUDGET_MILLIS}) has passed, and for any other errno, it
     * throws the {@link PipeException} naming the errno.
     *
     * @param backoff the server's own (one per server, used by the accepting thread)
     * @param deadline {@code System.nanoTime()} deadline of the accept; ignored when {@code timeoutNanos < 0}
     */
    static void acceptFailed(int errno, Path path, AcceptBackoff backoff, IoGate gate, long deadline,
                             long timeoutNanos) throws IOException {
        PipeException failure = Errnos.exception("accept on " + path, errno, acceptAdvice(errno));
        if (!AcceptBackoff.appliesTo(errno)) {
            throw failure;
        }
        backoff.pause(failure, gate, deadline, timeoutNanos >= 0);
    }
}
