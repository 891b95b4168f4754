package io.panapipe.internal.windows;

/**
 * What the I/O manager does after a read on a handle in {@code FILE_SKIP_COMPLETION_PORT_ON_SUCCESS}
 * mode fails <em>synchronously</em> with {@code ERROR_MORE_DATA} (a message-mode {@code ReadFile}
 * into a buffer smaller than the next message): does a completion packet still come, or not?
 *
 * <p>The documentation of {@code SetFileCompletionNotificationModes} says only that no packet is
 * queued when "a request returns success immediately without returning ERROR_PENDING";
 * {@code ReadFile} documents the case as "returns FALSE and GetLastError returns ERROR_MORE_DATA".
 * Whether that counts as "success" is not written down, so {@link MoreDataProbe} asks the running
 * system once, and {@link OverlappedIo} acts on the answer. The decisions are pure functions here
 * so that they are tested on any platform.
 */
enum SyncMoreData {
    /** A packet comes: wait for it like {@code ERROR_IO_PENDING}. */
    PACKET,
    /** No packet comes: the result is final inline (bytes in {@code InternalHigh}). */
    NO_PACKET,
    /**
     * Not known: take the result inline (never wait for a packet that may not come), and retire the
     * slot so that a packet that does come later cannot complete a later request (it finds an
     * unarmed operation and is dropped).
     */
    UNKNOWN;

    /** System property that skips the probe: {@code packet}, {@code none} or {@code unknown}. */
    static final String PROPERTY = "panapipe.iocp.syncMoreData";

    /** What one probe attempt saw. */
    enum Observation {
        /** Synchronous {@code ERROR_MORE_DATA}, then its packet arrived within the wait. */
        PACKET_CAME,
        /** Synchronous {@code ERROR_MORE_DATA}, and no packet within the wait. */
        NO_PACKET_WITHIN_WAIT,
        /** The read returned {@code ERROR_IO_PENDING}: no synchronous case to observe. */
        PENDED,
        /** Anything else: the probe could not set itself up, or the read behaved unexpectedly. */
        FAILED
    }

    /** What {@link OverlappedIo} does with a synchronous {@code ERROR_MORE_DATA}. */
    enum Action {
        WAIT_FOR_PACKET,
        FINAL_INLINE,
        FINAL_INLINE_AND_RETIRE_SLOT
    }

    /**
     * The answer from one attempt, or two when the first one pended.
     *
     * @param second the retry's observation, or {@code null} if there was none
     */
    static SyncMoreData decide(Observation first, Observation second) {
        Observation seen = first == Observation.PENDED ? second : first;
        if (seen == null) {
            return UNKNOWN;
        }
        return switch (seen) {
            case PACKET_CAME -> PACKET;
            case NO_PACKET_WITHIN_WAIT -> NO_PACKET;
            case PENDED, FAILED -> UNKNOWN;
        };
    }

    /** Whether an attempt that saw {@code first} should be repeated once. */
    static boolean retry(Observation first) {
        return first == Observation.PENDED;
    }

    Action action() {
        return switch (this) {
            case PACKET -> Action.WAIT_FOR_PACKET;
            case NO_PACKET -> Action.FINAL_INLINE;
            case UNKNOWN -> Action.FINAL_INLINE_AND_RETIRE_SLOT;
        };
    }

    /**
     * The answer once the probe's own read, given up on as {@link #NO_PACKET}, got a packet after
     * all: the system does queue one, only late, so neither waiting forever nor trusting its
     * absence is safe any more.
     */
    SyncMoreData afterLatePacket() {
        return this == NO_PACKET ? UNKNOWN : this;
    }

    /** The value of {@link #PROPERTY}: a forced answer, or {@code null} to probe. */
    static SyncMoreData forced(String value) {
        if (value == null || value.isBlank() || value.equalsIgnoreCase("probe")) {
            return null;
        }
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "packet" -> PACKET;
            case "none", "no_packet" -> NO_PACKET;
            case "unknown", "retire" -> UNKNOWN;
            default -> throw new IllegalArgumentException(PROPERTY + " must be probe, packet, none or unknown, was " + value);
        };
    }
}
