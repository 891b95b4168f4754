package io.panapipe;

/**
 * How much a Windows pipe server may act as the client (the {@code SECURITY_*} quality-of-service
 * flags a client passes to {@code CreateFileW}). Ignored on Unix, where a server learns only the
 * peer's credentials.
 *
 * @since 0.1
 */
public enum ImpersonationLevel {
    /** The server cannot learn who the client is. */
    ANONYMOUS,
    /** The server can identify the client and check its rights, but not act as it (the default). */
    IDENTIFICATION,
    /** The server can act as the client on this machine. */
    IMPERSONATION,
    /** The server can act as the client on other machines too. */
    DELEGATION
}
