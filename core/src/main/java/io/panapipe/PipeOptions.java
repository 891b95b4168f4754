package io.panapipe;

import java.util.Objects;

/**
 * Settings of a pipe server or client: an immutable value, changed with {@code with...} methods.
 * {@link #defaults()} is what {@link PipeServer#bind(PipeName)} and
 * {@link PipeClient#connect(PipeName)} use.
 *
 * <pre>{@code
 * PipeOptions options = PipeOptions.defaults()
 *         .withMode(PipeMode.MESSAGE)
 *         .withAcceptBacklog(8);
 * try (PipeServer server = PipeServer.bind(PipeName.of("my-service"), options)) { ... }
 * }</pre>
 *
 * <p>Settings that one platform has and the other lacks are ignored where they mean nothing; each
 * method says where it applies.
 */
public final class PipeOptions {
    /** Windows' maximum for {@code nMaxInstances}; means "as many as resources allow". */
    public static final int UNLIMITED_INSTANCES = 255;
    /** Largest buffer size accepted by {@link #withBufferSizes} and {@link #withHeapBufferSize}. */
    public static final int MAX_BUFFER_SIZE = 64 << 20;
    /** Largest accept backlog accepted by {@link #withAcceptBacklog}. */
    public static final int MAX_ACCEPT_BACKLOG = 4096;

    private static final PipeOptions DEFAULTS = new PipeOptions(PipeMode.BYTE, UNLIMITED_INSTANCES, 4,
            0, 0, 16 * 1024, null, null, true, ImpersonationLevel.IDENTIFICATION, false);

    private final PipeMode mode;
    private final int maxInstances;
    private final int acceptBacklog;
    private final int inBufferSize;
    private final int outBufferSize;
    private final int heapBufferSize;
    private final String sddl;
    private final String posixPermissions;
    private final boolean rejectRemoteClients;
    private final ImpersonationLevel impersonationLevel;
    private final boolean verifyServerUser;

    private PipeOptions(PipeMode mode, int maxInstances, int acceptBacklog, int inBufferSize, int outBufferSize,
                        int heapBufferSize, String sddl, String posixPermissions, boolean rejectRemoteClients,
                        ImpersonationLevel impersonationLevel, boolean verifyServerUser) {
        this.mode = mode;
        this.maxInstances = maxInstances;
        this.acceptBacklog = acceptBacklog;
        this.inBufferSize = inBufferSize;
        this.outBufferSize = outBufferSize;
        this.heapBufferSize = heapBufferSize;
        this.sddl = sddl;
        this.posixPermissions = posixPermissions;
        this.rejectRemoteClients = rejectRemoteClients;
        this.impersonationLevel = impersonationLevel;
        this.verifyServerUser = verifyServerUser;
    }

    /**
     * Byte mode, unlimited instances, backlog 4, OS buffer sizes, a 16 KiB heap buffer, current user
     * only, remote clients rejected, impersonation level IDENTIFICATION, no server-user check on
     * explicit paths.
     *
     * @return the default options (one shared instance)
     */
    public static PipeOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Byte stream or messages; both ends must agree. Default {@link PipeMode#BYTE}.
     *
     * <p>The largest message {@link PipeMode#MESSAGE} carries, per engine (one contract: a message
     * over the limit fails with a {@link PipeException} before any of it is sent, and the pipe
     * stays usable):
     * <ul>
     * <li>Windows: {@value #MAX_BUFFER_SIZE} bytes ({@code ERROR_MORE_DATA} splits it over reads).
     * <li>Linux ({@code SOCK_SEQPACKET}): what the sender's socket send buffer holds — about
     *     208 KiB by default ({@code net.core.wmem_default}), more with {@link #withBufferSizes}'s
     *     {@code outBufferSize} up to {@code net.core.wmem_max}. Over it: {@code EMSGSIZE}, naming
     *     that option.
     * <li>The nio engine (macOS, and Linux when forced): no MESSAGE mode at all — neither the JDK's
     *     {@code SocketChannel} nor macOS offers AF_UNIX {@code SOCK_SEQPACKET}; bind and connect
     *     throw {@link UnsupportedOperationException}. Frame messages over BYTE mode there.
     * </ul>
     *
     * @param mode {@link PipeMode#BYTE} or {@link PipeMode#MESSAGE}
     * @return a copy of these options with that mode
     * @throws NullPointerException if {@code mode} is {@code null}
     */
    public PipeOptions withMode(PipeMode mode) {
        return new PipeOptions(Objects.requireNonNull(mode, "mode"), maxInstances, acceptBacklog, inBufferSize,
                outBufferSize, heapBufferSize, sddl, posixPermissions, rejectRemoteClients, impersonationLevel,
                verifyServerUser);
    }

    /**
     * Windows: {@code nMaxInstances} of {@code CreateNamedPipeW}, the most connections (connected or
     * waiting) the name may have at once; 1 to {@value #UNLIMITED_INSTANCES} (= unlimited, the
     * default). Unix: the most connections the server has handed out from {@code accept} and not yet
     * closed; at the limit {@code accept} waits (within its timeout) for one to close, new clients
     * wait in the backlog ({@link #withAcceptBacklog}) and, once it is full, retry until their
     * connect deadline, as Windows clients retry {@code ERROR_PIPE_BUSY}.
     *
     * @param maxInstances 1 to {@value #UNLIMITED_INSTANCES}
     * @return a copy of these options with that limit
     * @throws IllegalArgumentException if {@code maxInstances} is out of range
     */
    public PipeOptions withMaxInstances(int maxInstances) {
        if (maxInstances < 1 || maxInstances > UNLIMITED_INSTANCES) {
            throw new IllegalArgumentException("maxInstances must be 1.." + UNLIMITED_INSTANCES + ", was " + maxInstances);
        }
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, rejectRemoteClients, impersonationLevel, verifyServerUser);
    }

    /**
     * How many clients can connect before the server calls {@code accept()}. Windows: pipe
     * instances kept waiting in {@code ConnectNamedPipe} (at least one always is). Unix: the
     * {@code listen()} backlog. 1 to {@value #MAX_ACCEPT_BACKLOG}; default 4.
     *
     * @param acceptBacklog 1 to {@value #MAX_ACCEPT_BACKLOG}
     * @return a copy of these options with that backlog
     * @throws IllegalArgumentException if {@code acceptBacklog} is out of range
     */
    public PipeOptions withAcceptBacklog(int acceptBacklog) {
        if (acceptBacklog < 1 || acceptBacklog > MAX_ACCEPT_BACKLOG) {
            throw new IllegalArgumentException("acceptBacklog must be 1.." + MAX_ACCEPT_BACKLOG + ", was " + acceptBacklog);
        }
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, rejectRemoteClients, impersonationLevel, verifyServerUser);
    }

    /**
     * OS buffer sizes in bytes; 0 (the default) keeps the OS's choice. Windows: {@code nInBufferSize}
     * and {@code nOutBufferSize} (advisory; Windows may round them). Unix: {@code SO_RCVBUF} and
     * {@code SO_SNDBUF}.
     *
     * @param inBufferSize receive buffer size in bytes, 0 to {@value #MAX_BUFFER_SIZE}; 0 keeps the OS's
     * @param outBufferSize send buffer size in bytes, 0 to {@value #MAX_BUFFER_SIZE}; 0 keeps the OS's
     * @return a copy of these options with those sizes
     * @throws IllegalArgumentException if either size is out of range
     */
    public PipeOptions withBufferSizes(int inBufferSize, int outBufferSize) {
        checkSize("inBufferSize", inBufferSize, 0);
        checkSize("outBufferSize", outBufferSize, 0);
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, rejectRemoteClients, impersonationLevel, verifyServerUser);
    }

    /**
     * Size of the native buffer each connection allocates, on first use, to move bytes of heap
     * arrays, heap {@code ByteBuffer}s and heap segments (native segments go to the kernel as they
     * are). 256 bytes to 64 MiB; default 16 KiB. A larger heap transfer is done in pieces of this
     * size, except a MESSAGE-mode write, which is always sent whole.
     *
     * @param heapBufferSize bytes, 256 to {@value #MAX_BUFFER_SIZE}
     * @return a copy of these options with that size
     * @throws IllegalArgumentException if {@code heapBufferSize} is out of range
     */
    public PipeOptions withHeapBufferSize(int heapBufferSize) {
        checkSize("heapBufferSize", heapBufferSize, 256);
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, rejectRemoteClients, impersonationLevel, verifyServerUser);
    }

    /**
     * Windows only: the server's security descriptor as an SDDL string, e.g.
     * {@code "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;AU)"}. Replaces the default, which grants access
     * to the current user (the process token's user SID) only. {@code null} restores the default.
     *
     * @param sddl the security descriptor in SDDL, or {@code null} for current-user-only
     * @return a copy of these options with that descriptor
     * @throws IllegalArgumentException if {@code sddl} is blank or contains a NUL character
     */
    public PipeOptions withSddl(String sddl) {
        if (sddl != null && (sddl.isBlank() || sddl.indexOf('\0') >= 0)) {
            throw new IllegalArgumentException("SDDL must be non-blank and free of NUL characters");
        }
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, rejectRemoteClients, impersonationLevel, verifyServerUser);
    }

    /**
     * Unix only: the socket file's permissions as {@code rwxrwxrwx} text, e.g. {@code "rw-rw----"}
     * to let the group connect. Setting it turns off the current-user-only peer check; the socket
     * must then live in a directory others can reach ({@link PipeName#ofSocketPath}). {@code null}
     * restores the default: {@code rw-------} and only peers with this process's uid are accepted.
     *
     * @param permissions nine characters such as {@code "rw-rw----"}, or {@code null} for
     *        current-user-only
     * @return a copy of these options with those permissions
     * @throws IllegalArgumentException if {@code permissions} is not of the form {@code rwxrwxrwx}
     *         (each letter or {@code -})
     */
    public PipeOptions withPosixPermissions(String permissions) {
        if (permissions != null && !permissions.matches("[r-][w-][x-][r-][w-][x-][r-][w-][x-]")) {
            throw new IllegalArgumentException("permissions must look like rw-r-----, was " + permissions);
        }
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                permissions, rejectRemoteClients, impersonationLevel, verifyServerUser);
    }

    /**
     * Windows only: {@code PIPE_REJECT_REMOTE_CLIENTS} (default {@code true}): clients on other
     * machines cannot connect over SMB. Unix sockets are always local.
     *
     * @param reject {@code true} to refuse clients on other machines
     * @return a copy of these options with that setting
     */
    public PipeOptions withRejectRemoteClients(boolean reject) {
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, reject, impersonationLevel, verifyServerUser);
    }

    /**
     * Windows only, client side: what the server may do with the client's identity. Default
     * IDENTIFICATION.
     *
     * @param level the impersonation level the client grants the server
     * @return a copy of these options with that level
     * @throws NullPointerException if {@code level} is {@code null}
     */
    public PipeOptions withImpersonationLevel(ImpersonationLevel level) {
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, rejectRemoteClients, Objects.requireNonNull(level, "level"), verifyServerUser);
    }

    /**
     * Client side: refuse the connection unless the server process runs as the same user as this
     * one (Windows: the server process's token user; Unix: {@code SO_PEERCRED} uid).
     *
     * <p>Unix: a logical name ({@link PipeName#of}) is always checked, whatever this says: the
     * client refuses a pipe directory that is a symbolic link, is not its own or that others can
     * write, and a server whose uid differs, with a {@link PipeException} ({@code EACCES}) naming
     * the owner. This option extends the uid check to explicit paths ({@link PipeName#ofSocketPath}),
     * which default to no check because system services (e.g. {@code /var/run/docker.sock}) run as
     * other users. Default off.
     *
     * <p>The other direction: a server with the current-user-only policy (the default) closes a
     * client of another uid as soon as it is accepted, without a word; that client sees end of
     * stream or {@code EPIPE} on its first read or write, not a reason.
     *
     * @param verify {@code true} to check the server's user on explicit paths too
     * @return a copy of these options with that setting
     */
    public PipeOptions withVerifyServerUser(boolean verify) {
        return new PipeOptions(mode, maxInstances, acceptBacklog, inBufferSize, outBufferSize, heapBufferSize, sddl,
                posixPermissions, rejectRemoteClients, impersonationLevel, verify);
    }

    /**
     * The pipe mode set with {@link #withMode}.
     *
     * @return {@link PipeMode#BYTE} or {@link PipeMode#MESSAGE}
     */
    public PipeMode mode() { return mode; }

    /**
     * The instance limit set with {@link #withMaxInstances}.
     *
     * @return 1 to {@value #UNLIMITED_INSTANCES}
     */
    public int maxInstances() { return maxInstances; }

    /**
     * The accept backlog set with {@link #withAcceptBacklog}.
     *
     * @return 1 to {@value #MAX_ACCEPT_BACKLOG}
     */
    public int acceptBacklog() { return acceptBacklog; }

    /**
     * The receive buffer size set with {@link #withBufferSizes}.
     *
     * @return bytes, or 0 for the OS's choice
     */
    public int inBufferSize() { return inBufferSize; }

    /**
     * The send buffer size set with {@link #withBufferSizes}.
     *
     * @return bytes, or 0 for the OS's choice
     */
    public int outBufferSize() { return outBufferSize; }

    /**
     * The per-connection staging buffer size set with {@link #withHeapBufferSize}.
     *
     * @return bytes
     */
    public int heapBufferSize() { return heapBufferSize; }

    /**
     * The SDDL set with {@link #withSddl}.
     *
     * @return the SDDL string, or {@code null} for current-user-only
     */
    public String sddl() { return sddl; }

    /**
     * The permissions set with {@link #withPosixPermissions}.
     *
     * @return the {@code rwxrwxrwx} text, or {@code null} for current-user-only
     */
    public String posixPermissions() { return posixPermissions; }

    /**
     * Whether only the current user may connect (no SDDL or POSIX permissions given).
     *
     * @return {@code true} if neither {@link #sddl()} nor {@link #posixPermissions()} is set
     */
    public boolean currentUserOnly() { return sddl == null && posixPermissions == null; }

    /**
     * The setting of {@link #withRejectRemoteClients} (Windows only).
     *
     * @return {@code true} if clients on other machines are refused
     */
    public boolean rejectRemoteClients() { return rejectRemoteClients; }

    /**
     * The level set with {@link #withImpersonationLevel} (Windows only, client side).
     *
     * @return the impersonation level the client grants the server
     */
    public ImpersonationLevel impersonationLevel() { return impersonationLevel; }

    /**
     * The setting of {@link #withVerifyServerUser} (client side).
     *
     * @return {@code true} if the client checks the server's user on explicit paths too
     */
    public boolean verifyServerUser() { return verifyServerUser; }

    private static void checkSize(String what, int size, int min) {
        if (size < min || size > MAX_BUFFER_SIZE) {
            throw new IllegalArgumentException(what + " must be " + min + ".." + MAX_BUFFER_SIZE + " bytes, was " + size);
        }
    }

    @Override
    public String toString() {
        return "PipeOptions[mode=" + mode + ", maxInstances=" + maxInstances + ", acceptBacklog=" + acceptBacklog
                + ", inBufferSize=" + inBufferSize + ", outBufferSize=" + outBufferSize + ", heapBufferSize="
                + heapBufferSize + ", sddl=" + sddl + ", posixPermissions=" + posixPermissions
                + ", rejectRemoteClients=" + rejectRemoteClients + ", impersonationLevel=" + impersonationLevel
                + ", verifyServerUser=" + verifyServerUser + "]";
    }
}
