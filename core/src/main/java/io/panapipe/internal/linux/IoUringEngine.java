package io.panapipe.internal.linux;

import io.panapipe.PipeException;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import io.panapipe.bindings.linux.ucred;
import io.panapipe.internal.Engine;
import io.panapipe.internal.Platform;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.Canceller;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;
import io.panapipe.internal.unix.SocketFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The Linux engine: AF_UNIX sockets ({@code SOCK_STREAM} for BYTE, {@code SOCK_SEQPACKET} for
 * MESSAGE) completed by one io_uring.
 *
 * <p>A read, write or accept first tries the non-blocking syscall on the calling thread
 * ({@code MSG_DONTWAIT}, {@code accept4(SOCK_NONBLOCK)}); only on {@code EAGAIN} does it submit
 * an SQE tagged with its {@link Operation#id()} and park in {@link Operation#await}. The
 * {@link Poller} thread — the only thread that calls {@code io_uring_enter} — submits it (woken
 * through an eventfd if it sleeps) and completes it. Timeout, interrupt and close cancel with
 * {@code IORING_OP_ASYNC_CANCEL} and still wait for the operation's own CQE (DESIGN rules 1–3).
 *
 * <p>Pieces: {@link Ring} (setup and mappings), {@link SubmissionQueue}, {@link CompletionQueue},
 * {@link Poller}, {@link LibC} (errno-capturing calls), {@link UringTransport},
 * {@link UringServer}. Only the queues touch ring memory.
 */
public final class IoUringEngine implements Engine {
    /**
     * How long a read retries its non-blocking {@code recv} before it parks, in nanoseconds
     * (system property {@code panapipe.uring.spinMicros}, default 20; 0 turns it off). A parked
     * read costs a submission through the poller (an eventfd wake-up if it sleeps) and two
     * wake-ups when data comes (the poller's, then the owner's), which dominates a
     * request/response round trip; a short spin catches replies that come back within it. The
     * bound keeps idle connections idle.
     */
    static final long SPIN_NANOS = Math.max(0, Long.getLong("panapipe.uring.spinMicros", 20)) * 1_000;

    /** Ring sizes: SQEs are handed over at once, so a small SQ suffices; the CQ holds a completion
     *  (plus a cancel's) for every in-flight read, write and accept of 10,000+ connections. */
    static final int SQ_ENTRIES = 1024;
    static final int CQ_ENTRIES = 65536;

    private static final class Availability {
        static final String REASON = probe();
    }

    private static final class Holder {
        static final IoUringEngine INSTANCE = create();
    }

    final Ring ring;
    final SubmissionQueue sq;
    final OperationTable table;
    final Poller poller;
    /** One canceller for every operation of this engine: no per-call lambda. */
    final Canceller canceller;

    private IoUringEngine(Ring ring, String pollerName) {
        this.ring = ring;
        this.sq = ring.sq;
        this.table = new OperationTable();
        this.poller = new Poller(ring, table, pollerName);
        this.canceller = this::cancel;
        poller.start();
    }

    /**
     * Why this engine cannot run here, or {@code null} if an io_uring can be set up. Probed once:
     * a small ring is set up and torn down.
     */
    public static String unavailableReason() {
        return Availability.REASON;
    }

    /** The engine of this JVM (one ring, one poller thread), created on first use. */
    public static IoUringEngine instance() {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("io_uring is unavailable: " + why);
        }
        return Holder.INSTANCE;
    }

    private static String probe() {
        if (!Platform.isLinux()) {
            return "io_uring needs Linux (os.name=" + System.getProperty("os.name") + ")";
        }
        try (Ring r = Ring.open(2, 4)) {
            return null;
        } catch (IOException e) {
            return e.getMessage();
        } catch (Throwable t) { // no native access, missing symbols, ...
            return t.getClass().getSimpleName() + ": " + t.getMessage();
        }
    }

    private static IoUringEngine create() {
        try {
            return new IoUringEngine(Ring.open(SQ_ENTRIES, CQ_ENTRIES), "panapipe-io_uring-poller");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A separate engine with its own ring and poller, for tests; {@link #shutdown} frees it. */
    static IoUringEngine createPrivate(int sqEntries, int cqEntries) throws IOException {
        return new IoUringEngine(Ring.open(sqEntries, cqEntries), "panapipe-io_uring-poller-private");
    }

    /** Stops the poller and closes the ring (tests). All connections must be closed first. */
    void shutdown() throws InterruptedException {
        poller.stop();
        ring.close();
    }

    private void cancel(Operation op) {
        sq.cancel(op.id(), Poller.CANCEL_TAG);
    }

    @Override
    public String name() {
        return "io_uring";
    }

    @Override
    public ServerEndpoint bind(PipeName name, PipeOptions options) throws IOException {
        Path path = SocketFiles.prepareForBind(name);
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            int fd = UnixSockets.open(errno, options.mode());
            boolean bound = false;
            try {
                UnixSockets.applyBufferSizes(errno, fd, options, temp.allocate(ucred.sizeof()));
                if (LibC.bind(errno, fd, UnixSockets.address(temp, path), UnixSockets.addressLength(path)) < 0) {
                    int e = LibC.errno(errno);
                    throw Errnos.exception("bind " + path, e, e == Errnos.EADDRINUSE
                            ? "another socket took the name meanwhile; close it or choose another name"
                            : e == Errnos.EACCES ? "the directory is not writable by this user" : null);
                }
                bound = true;
                String perms = options.posixPermissions() != null ? options.posixPermissions() : "rw-------";
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(perms));
                if (LibC.listen(errno, fd, options.acceptBacklog()) < 0) {
                    throw Errnos.exception("listen on " + path, LibC.errno(errno));
                }
                return new UringServer(this, fd, path, options);
            } catch (IOException | RuntimeException e) {
                UnixSockets.closeQuietly(errno, fd);
                if (bound) {
                    Files.deleteIfExists(path);
                }
                throw e;
            }
        }
    }

    @Override
    public Transport connect(PipeName name, PipeOptions options) throws IOException {
        if (name.isWindowsPath()) {
            throw new IllegalArgumentException("a Windows pipe path cannot be opened on this platform: " + name.osPath());
        }
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
                if (options.verifyServerUser()) {
                    UnixSockets.peerCred(errno, fd, cred, scratch);
                    int uid = ucred.uid(cred);
                    if (uid != LibC.getuid()) {
                        throw new PipeException(what, Errnos.EACCES, "EACCES",
                                "the server runs as uid " + uid + ", not as this user (uid " + LibC.getuid() + ")");
                    }
                }
                if (options.mode() == PipeMode.MESSAGE) {
                    UnixSockets.enablePassCred(errno, fd, scratch);
                }
                return new UringTransport(this, fd, options.mode());
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

    @Override
    public boolean isBusy(PipeException e) {
        return e.nativeCode() == Errnos.EAGAIN;
    }

    @Override
    public boolean isAbsent(PipeException e) {
        return e.nativeCode() == Errnos.ENOENT || e.nativeCode() == Errnos.ECONNREFUSED;
    }
}
