package io.panapipe.internal.linux;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.msghdr;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * MESSAGE mode ({@code SOCK_SEQPACKET}) receiving, shared by the Linux engines; they differ only
 * in how they wait for the next message.
 *
 * <p>A SEQPACKET {@code recv} into a short buffer silently discards the rest of the message, so a
 * message is never received straight into the caller's buffer. Instead it is peeked with
 * {@link #PEEK_FLAGS} ({@code MSG_PEEK | MSG_TRUNC}), which copies what fits and returns the full
 * length, and then {@link #deliver} finishes the read:
 * <ul>
 *   <li>it fits (the common case): the peeked bytes are already in place; the message is then
 *       dropped from the queue with a zero-length {@code recv} — two syscalls, one copy;</li>
 *   <li>it does not fit: it is received whole into a per-connection native reassembly buffer
 *       (grown on demand, freed at close) and handed out over the following reads, with
 *       {@link #isMessageComplete()} {@code false} until its last part.</li>
 * </ul>
 * A peek that times out or is cancelled has consumed nothing, so no message is lost to a timeout.
 *
 * <p>SEQPACKET reports both an empty message and end of stream as 0. The socket has
 * {@code SO_PASSCRED} set, so every queued message, empty or not, carries an
 * {@code SCM_CREDENTIALS} control message; a 0 is an empty message if a {@code recvmsg} peek sees
 * one, and end of stream (-1) if it sees none. An empty message the peer sent just before closing
 * is therefore still delivered before the -1.
 *
 * <p>Used by the connection's reader only (under the pipe's read lock).
 */
final class SeqpacketReceiver {
    /** The flags of a peek at the next message. */
    static final int PEEK_FLAGS = Linux.MSG_PEEK() | Linux.MSG_TRUNC();
    private static final int MSG_DONTWAIT = Linux.MSG_DONTWAIT();
    private static final long CONTROL_SIZE = 64; // CMSG_SPACE(sizeof(struct ucred)) = 32, with room

    private final int fd;
    private final MemorySegment errno;
    private final MemorySegment msg;
    private final MemorySegment control;

    private boolean messageComplete = true;
    private Arena reassemblyArena;
    private MemorySegment reassembly;
    private long reassemblyLength;
    private long reassemblyPosition;

    /**
     * @param errno the reader's errno capture segment
     * @param arena the connection's arena, for the {@code recvmsg} header (freed with the connection)
     */
    SeqpacketReceiver(int fd, MemorySegment errno, Arena arena) {
        this.fd = fd;
        this.errno = errno;
        this.msg = msghdr.allocate(arena);
        this.control = arena.allocate(CONTROL_SIZE, 8);
    }

    /** Whether parts of a long message wait to be handed out by {@link #handOut}. */
    boolean hasPending() {
        return reassemblyPosition < reassemblyLength;
    }

    /** Hands out the next part of a reassembled message. */
    int handOut(MemorySegment buf, long offset, int length) {
        int n = (int) Math.min(length, reassemblyLength - reassemblyPosition);
        MemorySegment.copy(reassembly, reassemblyPosition, buf, offset, n);
        reassemblyPosition += n;
        messageComplete = reassemblyPosition == reassemblyLength;
        if (messageComplete) {
            reassemblyPosition = reassemblyLength = 0;
        }
        return n;
    }

    /**
     * Finishes a read after a peek returned {@code n >= 0}: the full length of the next message,
     * whose first {@code min(n, length)} bytes are already in {@code buf} at {@code offset}.
     *
     * @return the read's result: bytes, 0 for an empty message, -1 at end of stream
     */
    int deliver(long n, MemorySegment buf, long offset, int length) throws IOException {
        if (n == 0) {
            messageComplete = true;
            if (isEndOfStream()) {
                return -1;
            }
            consume(0);
            return 0;
        }
        if (n <= length) {
            consume(0); // drop it: the bytes are already in place from the peek
            messageComplete = true;
            return (int) n;
        }
        return reassemble(buf, offset, length, n);
    }

    /** The peer is gone (reset): end of stream. */
    int endOfStream() {
        messageComplete = true;
        return -1;
    }

    boolean isMessageComplete() {
        return messageComplete;
    }

    /** Dequeues the message at the head of the queue into {@code address} (0 to discard it). */
    private long consume(long address) throws IOException {
        long r = LibC.recv(errno, fd, address, address == 0 ? 0 : reassembly.byteSize(), MSG_DONTWAIT);
        if (r < 0) {
            throw Errnos.exception("read", LibC.errno(errno)); // cannot happen: we hold the read lock and peeked it
        }
        return r;
    }

    private int reassemble(MemorySegment buf, long offset, int length, long messageLength) throws IOException {
        if (reassembly == null || reassembly.byteSize() < messageLength) {
            free();
            long size = Math.max(messageLength, 64 * 1024);
            reassemblyArena = new MallocArena(); // used inside this call only; freed without a JVM-wide handshake
            reassembly = reassemblyArena.allocate(size, 64);
        }
        reassemblyLength = consume(reassembly.address());
        reassemblyPosition = 0;
        return handOut(buf, offset, length);
    }

    /**
     * After a peek returned 0: whether that is end of stream rather than an empty message. Every
     * queued message carries SCM_CREDENTIALS (SO_PASSCRED); end of stream has no message and so no
     * control data.
     */
    private boolean isEndOfStream() throws IOException {
        msghdr.msg_name(msg, MemorySegment.NULL);
        msghdr.msg_namelen(msg, 0);
        msghdr.msg_iov(msg, MemorySegment.NULL);
        msghdr.msg_iovlen(msg, 0);
        msghdr.msg_control(msg, control);
        msghdr.msg_controllen(msg, CONTROL_SIZE);
        msghdr.msg_flags(msg, 0);
        long r = LibC.recvmsg(errno, fd, msg, Linux.MSG_PEEK() | MSG_DONTWAIT);
        if (r < 0) {
            int e = LibC.errno(errno);
            if (e == Errnos.ECONNRESET || e == Errnos.ENOTCONN) {
                return true;
            }
            throw Errnos.exception("read", e);
        }
        return msghdr.msg_controllen(msg) == 0;
    }

    /** Frees the reassembly buffer (at close, or to grow it). */
    void free() {
        if (reassemblyArena != null) {
            reassemblyArena.close();
            reassemblyArena = null;
            reassembly = null;
        }
    }
}
