package io.panapipe.internal.linux;

import io.panapipe.PipeOptions;
import io.panapipe.internal.Platform;
import io.panapipe.internal.ServerEndpoint;
import io.panapipe.internal.Transport;
import io.panapipe.internal.completion.Canceller;
import io.panapipe.internal.completion.Operation;
import io.panapipe.internal.completion.OperationTable;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The Linux engine: AF_UNIX sockets ({@code SOCK_STREAM} for BYTE, {@code SOCK_SEQPACKET} for
 * MESSAGE) completed by one io_uring.
 *
 * <p>A read, write or accept first tries the non-blocking syscall on the calling thread
 * ({@code MSG_DONTWAIT}, {@code accept4(SOCK_NONBLOCK)}); only on {@code EAGAIN} does it submit
 * an SQE tagged with its {@link Operation#id()} and park in {@link Operation#await}. The
 * {@link Poller} thread — the only thread that calls {@code io_uring_enter} — submits it (woken
 * through an eventfd if it sleeps) and completes it. Timeout, interrupt and close cancel with
 * {@code IORING_OP_ASYNC_CANCEL} and still wait for the operation's own CQE: a submitted SQE
 * always completes, and its slot and buffer are the kernel's until then (DESIGN rules 1–3).
 *
 * <p>Pieces: {@link Ring} (setup and mappings), {@link SubmissionQueue}, {@link CompletionQueue},
 * {@link Poller}, {@link LibC} (errno-capturing calls), {@link UringTransport},
 * {@link UringServer}. Only the queues touch ring memory.
 *
 * <p>If the poller fails, the engine fails loudly and safely ({@link UringFailure}): every later
 * call throws {@code IOException("the io_uring engine's poller failed (…)")} at once; what is in
 * flight is cancelled and reaped before its waiters get that exception, so no buffer is freed
 * while the kernel may still write to it.
 */
public final class IoUringEngine extends UnixSocketEngine {
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
    /** The failed state, once the poller has died: every call checks it first. */
    final UringFailure failure;
    final Poller poller;
    /** One canceller for every operation of this engine: no per-call lambda. */
    final Canceller canceller;
    /** Whether a read may spin before it parks ({@link SpinPolicy}); the poller reports its wake-ups to it. */
    final SpinPolicy spin = new SpinPolicy();

    private IoUringEngine(Ring ring, String pollerName) {
        this.ring = ring;
        this.sq = ring.sq;
        this.table = new OperationTable();
        this.failure = new UringFailure(table, spin);
        this.poller = new Poller(ring, table, failure, spin, pollerName);
        this.canceller = this::cancel;
        poller.start();
    }

    /**
     * Why this engine cannot run here, or {@code null} if an io_uring can be set up. Probed once:
     * a small ring is set up and torn down.
     *
     * @return the reason, or {@code null}
     */
    public static String unavailableReason() {
        return Availability.REASON;
    }

    /**
     * The engine of this JVM (one ring, one poller thread), created on first use.
     *
     * @return the JVM-wide engine
     * @throws IllegalStateException if {@link #unavailableReason()} gives a reason
     */
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
        sq.cancel(op.id(), Poller.CANCEL_TAG); // refused once the poller failed: its drain cancels everything
    }

    /** @throws IOException the poller failed: no call is served any more */
    @Override
    void checkAlive() throws IOException {
        failure.checkAlive();
    }

    /**
     * For a request the submission queue refused (the poller failed after {@code op} was armed):
     * marks it completed, since the kernel never saw it, and returns the failure to throw.
     */
    IOException refused(Operation op) {
        op.completeInline(-Errnos.ECANCELED, 0);
        return failure.exception();
    }

    /** Returns {@code op}'s slot for reuse, unless the kernel may still hold its request: then it is leaked. */
    void release(Operation op) {
        if (!failure.isAbandoned(op)) {
            table.release(op);
        }
    }

    @Override
    public String name() {
        return "io_uring";
    }

    @Override
    ServerEndpoint newServer(int fd, Path path, PipeOptions options) {
        return new UringServer(this, fd, path, options);
    }

    @Override
    Transport newTransport(int fd, PipeOptions options) {
        return new UringTransport(this, fd, options.mode());
    }
}
