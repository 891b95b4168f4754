package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.io_cqring_offsets;
import io.panapipe.bindings.linux.io_sqring_offsets;
import io.panapipe.bindings.linux.io_uring_cqe;
import io.panapipe.bindings.linux.io_uring_params;
import io.panapipe.bindings.linux.io_uring_sqe;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One io_uring instance: {@code io_uring_setup}, the three shared mappings (SQ ring, CQ ring —
 * one mapping when the kernel reports {@code IORING_FEAT_SINGLE_MMAP} — and the SQE array), and
 * their teardown. The rings are handed to {@link SubmissionQueue} and {@link CompletionQueue};
 * nothing else touches ring memory.
 *
 * <p>Only the {@link Poller} thread ever calls {@code io_uring_enter}. Where the kernel accepts
 * them (6.1+) the ring is created with {@code IORING_SETUP_SINGLE_ISSUER |
 * IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED} and the poller {@link #enable enables} it,
 * which makes the poller its one issuer: request completion work then runs on the poller, in its
 * own {@code io_uring_enter(GETEVENTS)}, never on a thread that merely wrote an SQE. Older kernels
 * get the ring without these flags (the poller is still the only issuer, by construction).
 *
 * <p>The ring also owns the {@link #wakeFd eventfd} by which other threads wake a sleeping poller
 * (the poller keeps an {@code IORING_OP_READ} of it in flight).
 */
final class Ring implements AutoCloseable {
    /** Features this engine needs: completions are never dropped, and socket ops poll instead of blocking a worker. */
    static final int REQUIRED_FEATURES = Linux.IORING_FEAT_NODROP() | Linux.IORING_FEAT_FAST_POLL();

    final int fd;
    final int features;
    /** The setup flags the kernel accepted. */
    final int setupFlags;
    /** Eventfd the poller keeps a read on; a write to it ends the poller's wait. */
    final int wakeFd;
    /** 8 bytes the poller's eventfd read lands in; freed only after the ring fd is closed. */
    final MemorySegment wakeReadBuffer;
    private final MemorySegment wakeValue; // the 8-byte counter increment (1) other threads write
    final SubmissionQueue sq;
    final CompletionQueue cq;

    private final MemorySegment sqRing;
    private final long sqRingSize;
    private final MemorySegment cqRing; // == sqRing with IORING_FEAT_SINGLE_MMAP
    private final long cqRingSize;
    private final MemorySegment sqes;
    private final long sqesSize;
    private final Arena arena = Arena.ofShared(); // the errno segments of the two queues
    private boolean closed;

    private Ring(int fd, int features, int setupFlags, int wakeFd, MemorySegment sqRing, long sqRingSize, MemorySegment cqRing, long cqRingSize,
                 MemorySegment sqes, long sqesSize, MemorySegment params) {
        this.fd = fd;
        this.features = features;
        this.setupFlags = setupFlags;
        this.wakeFd = wakeFd;
        this.wakeReadBuffer = arena.allocate(Long.BYTES, Long.BYTES);
        this.wakeValue = arena.allocate(Long.BYTES, Long.BYTES);
        wakeValue.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1L);
        this.sqRing = sqRing;
        this.sqRingSize = sqRingSize;
        this.cqRing = cqRing;
        this.cqRingSize = cqRingSize;
        this.sqes = sqes;
        this.sqesSize = sqesSize;
        MemorySegment sqOff = io_uring_params.sq_off(params);
        MemorySegment cqOff = io_uring_params.cq_off(params);
        this.sq = new SubmissionQueue(fd, sqRing, sqes,
                io_sqring_offsets.head(sqOff), io_sqring_offsets.tail(sqOff), io_sqring_offsets.ring_mask(sqOff),
                io_sqring_offsets.ring_entries(sqOff), io_sqring_offsets.array(sqOff));
        this.cq = new CompletionQueue(fd, cqRing,
                io_cqring_offsets.head(cqOff), io_cqring_offsets.tail(cqOff), io_cqring_offsets.ring_mask(cqOff),
                io_cqring_offsets.ring_entries(cqOff), io_cqring_offsets.cqes(cqOff));
    }

    /**
     * Sets up a ring.
     *
     * @param sqEntries submission queue size (a power of two; the kernel may clamp it)
     * @param cqEntries completion queue size ({@code IORING_SETUP_CQSIZE}; clamped by the kernel)
     * @throws IOException naming the errno and what the caller can do
     */
    static Ring open(int sqEntries, int cqEntries) throws IOException {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            MemorySegment params = io_uring_params.allocate(temp); // zeroed
            int base = Linux.IORING_SETUP_CQSIZE() | Linux.IORING_SETUP_CLAMP();
            // Newest first; EINVAL means a flag is unknown to this kernel. SINGLE_ISSUER and
            // DEFER_TASKRUN are 6.1+, SUBMIT_ALL 5.18+ (without it a bad SQE ends a batch early,
            // and the poller submits the rest on its next round).
            int[] attempts = {
                    base | Linux.IORING_SETUP_SUBMIT_ALL() | Linux.IORING_SETUP_SINGLE_ISSUER()
                            | Linux.IORING_SETUP_DEFER_TASKRUN() | Linux.IORING_SETUP_R_DISABLED(),
                    base | Linux.IORING_SETUP_SUBMIT_ALL(),
                    base };
            int fd = -1;
            int flags = 0;
            for (int attempt : attempts) {
                params.fill((byte) 0);
                io_uring_params.flags(params, attempt);
                io_uring_params.cq_entries(params, cqEntries);
                flags = attempt;
                fd = LibC.ioUringSetup(errno, sqEntries, params);
                if (fd >= 0 || LibC.errno(errno) != Errnos.EINVAL) {
                    break;
                }
            }
            if (fd < 0) {
                throw setupFailure(LibC.errno(errno));
            }
            int wakeFd = -1;
            try {
                int features = io_uring_params.features(params);
                if ((features & REQUIRED_FEATURES) != REQUIRED_FEATURES) {
                    throw new IOException("io_uring on this kernel lacks IORING_FEAT_NODROP or IORING_FEAT_FAST_POLL "
                            + "(Linux 5.7+ needed; features=0x" + Integer.toHexString(features) + ")");
                }
                // A blocking eventfd: io_uring polls it (an O_NONBLOCK one would fail the read with EAGAIN).
                wakeFd = LibC.eventfd(errno, 0, Linux.EFD_CLOEXEC());
                if (wakeFd < 0) {
                    throw new IOException("eventfd for the io_uring poller failed: " + Errnos.describe(LibC.errno(errno)));
                }
                return map(fd, features, flags, wakeFd, params, errno);
            } catch (IOException | RuntimeException e) {
                if (wakeFd >= 0) {
                    LibC.close(errno, wakeFd);
                }
                LibC.close(errno, fd);
                throw e;
            }
        }
    }

    private static Ring map(int fd, int features, int setupFlags, int wakeFd, MemorySegment params,
                            MemorySegment errno) throws IOException {
        MemorySegment sqOff = io_uring_params.sq_off(params);
        MemorySegment cqOff = io_uring_params.cq_off(params);
        int sqEntries = io_uring_params.sq_entries(params);
        int cqEntries = io_uring_params.cq_entries(params);
        long sqRingSize = io_sqring_offsets.array(sqOff) + (long) sqEntries * Integer.BYTES;
        long cqRingSize = io_cqring_offsets.cqes(cqOff) + (long) cqEntries * io_uring_cqe.sizeof();
        boolean single = (features & Linux.IORING_FEAT_SINGLE_MMAP()) != 0;
        if (single) {
            sqRingSize = cqRingSize = Math.max(sqRingSize, cqRingSize);
        }
        int prot = Linux.PROT_READ() | Linux.PROT_WRITE();
        int flags = Linux.MAP_SHARED() | Linux.MAP_POPULATE();
        MemorySegment sqRing = null;
        MemorySegment cqRing = null;
        try {
            sqRing = mapOrThrow(errno, sqRingSize, prot, flags, fd, Linux.IORING_OFF_SQ_RING(), "SQ ring");
            cqRing = single ? sqRing
                    : mapOrThrow(errno, cqRingSize, prot, flags, fd, Linux.IORING_OFF_CQ_RING(), "CQ ring");
            long sqesSize = (long) sqEntries * io_uring_sqe.sizeof();
            MemorySegment sqes = mapOrThrow(errno, sqesSize, prot, flags, fd, Linux.IORING_OFF_SQES(), "SQE array");
            return new Ring(fd, features, setupFlags, wakeFd, sqRing, sqRingSize, cqRing, cqRingSize, sqes, sqesSize, params);
        } catch (IOException | RuntimeException e) {
            if (cqRing != null && cqRing != sqRing) {
                LibC.munmap(errno, cqRing, cqRingSize);
            }
            if (sqRing != null) {
                LibC.munmap(errno, sqRing, sqRingSize);
            }
            throw e;
        }
    }

    private static MemorySegment mapOrThrow(MemorySegment errno, long size, int prot, int flags, int fd, long offset,
                                            String what) throws IOException {
        MemorySegment m = LibC.mmap(errno, size, prot, flags, fd, offset);
        if (m.address() == LibC.MAP_FAILED) {
            int e = LibC.errno(errno);
            throw new IOException("mmap of the io_uring " + what + " failed: " + Errnos.describe(e)
                    + (e == Errnos.ENOMEM || e == Errnos.EPERM ? " (check ulimit -l, RLIMIT_MEMLOCK)" : ""));
        }
        return m.reinterpret(size);
    }

    private static IOException setupFailure(int errno) {
        StringBuilder b = new StringBuilder("io_uring_setup failed: ").append(Errnos.describe(errno));
        if (errno == Errnos.ENOSYS) {
            b.append(" (the kernel was built without io_uring, or a seccomp filter hides it)");
        } else if (errno == Errnos.EPERM || errno == Errnos.EACCES) {
            String disabled = readSysctl("/proc/sys/kernel/io_uring_disabled");
            b.append(" (io_uring is restricted here");
            if (disabled != null) {
                b.append(": /proc/sys/kernel/io_uring_disabled=").append(disabled);
            }
            b.append("; a container's seccomp profile may also deny it)");
        } else if (errno == Errnos.ENOMEM) {
            b.append(" (locked-memory limit too low? see ulimit -l)");
        }
        return new IOException(b.toString());
    }

    private static String readSysctl(String path) {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of(path)).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Enables a ring created with {@code IORING_SETUP_R_DISABLED}; with
     * {@code IORING_SETUP_SINGLE_ISSUER} the calling thread becomes the only one that may submit
     * or wait. Called once, by the poller thread, before its first {@code io_uring_enter}.
     */
    void enable(MemorySegment errno) {
        if ((setupFlags & Linux.IORING_SETUP_R_DISABLED()) == 0) {
            return;
        }
        if (LibC.ioUringRegister(errno, fd, Linux.IORING_REGISTER_ENABLE_RINGS(), 0L, 0) < 0) {
            throw new IllegalStateException("io_uring_register(ENABLE_RINGS) failed: " + Errnos.describe(LibC.errno(errno)));
        }
    }

    /** Whether the kernel runs completion work only in the poller's waits ({@code DEFER_TASKRUN}). */
    boolean defersTaskRun() {
        return (setupFlags & Linux.IORING_SETUP_DEFER_TASKRUN()) != 0;
    }

    /** Ends the poller's wait: adds 1 to the eventfd it reads. Non-blocking in practice (a full counter takes 2^64-2 writes). Any thread. */
    void wakePoller() {
        LibC.writeNoErrno(wakeFd, wakeValue.address(), Long.BYTES);
    }

    /** Unmaps the rings and closes the ring fd. The poller must have stopped. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment errno = temp.allocate(LibC.ERRNO_SIZE, LibC.ERRNO_ALIGN);
            LibC.munmap(errno, sqes, sqesSize);
            if (cqRing != sqRing) {
                LibC.munmap(errno, cqRing, cqRingSize);
            }
            LibC.munmap(errno, sqRing, sqRingSize);
            LibC.close(errno, fd);
            LibC.close(errno, wakeFd); // after the ring: no request refers to it any more
        } finally {
            arena.close();
        }
    }
}
