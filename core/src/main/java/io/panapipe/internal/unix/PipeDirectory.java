package io.panapipe.internal.unix;

import io.panapipe.PipeException;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The private directory of logical names on Unix, where current-user-only holds both ways
 * (DESIGN rule 14). Both ends check it:
 * the server creates it ({@code 0700}) or tightens its own; a client refuses a directory that is
 * a symbolic link, belongs to another user or that others can write, since whoever controls the
 * directory decides which socket a name reaches.
 *
 * <p>Where: the system property {@code panapipe.dir} if set; else {@code $XDG_RUNTIME_DIR/panapipe}
 * when that variable names a directory; else {@code <java.io.tmpdir>/panapipe-<uid>}. The fallback
 * is keyed on the uid, not the user name; it is still predictable, so another local user can create
 * it first: both ends then refuse it, and the message says how to recover.
 */
public final class PipeDirectory {
    /** The system property that overrides the directory of logical names. */
    public static final String PROPERTY = "panapipe.dir";

    private static final int GROUP_OR_OTHER = 0077;
    private static final int GROUP_OR_OTHER_WRITE = 0022;
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);

    private PipeDirectory() {
    }

    /**
     * The directory of logical names for this process (not created here).
     *
     * @return the directory's path
     */
    public static Path path() {
        String override = System.getProperty(PROPERTY);
        if (override != null && !override.isEmpty()) {
            return Path.of(override);
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty() && Files.isDirectory(Path.of(xdg))) {
            return Path.of(xdg, "panapipe");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "panapipe-" + UnixUser.uid());
    }

    /**
     * Server side: creates {@code dir} with mode {@code 0700} if absent; refuses one that is not a
     * real directory of this user; removes group and other bits from one that is.
     *
     * @param dir the directory of the socket file
     * @param what the operation, e.g. {@code "bind ..."}, for the exception message
     * @throws IOException a {@link PipeException} ({@code EACCES}) if the directory is a symbolic
     *         link, not a directory, or another user's; or creating or tightening it failed
     */
    public static void ensureForServer(Path dir, String what) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Path parent = dir.getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException raced) {
                // another process created it meanwhile; checked below like any existing one
            }
        }
        int mode = checkOwned(dir, what);
        if ((mode & GROUP_OR_OTHER) != 0) {
            Files.setPosixFilePermissions(dir, OWNER_ONLY); // ours: tighten it
        }
    }

    /**
     * Client side: the directory must exist as a real directory of this user that nobody else can
     * write; a missing one means no server (the caller's connect then reports {@code ENOENT}).
     *
     * @param dir the directory of the socket file
     * @param what the operation, e.g. {@code "connect to ..."}, for the exception message
     * @throws IOException a {@link PipeException} ({@code EACCES}) if the directory is a symbolic
     *         link, not a directory, another user's, or writable by others; or reading its
     *         attributes failed
     */
    public static void checkForClient(Path dir, String what) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = checkOwned(dir, what);
        if ((mode & GROUP_OR_OTHER_WRITE) != 0) {
            throw refused(what, dir, "others can write to it (mode " + Integer.toOctalString(mode & 07777)
                    + "), so anyone could have planted the socket");
        }
    }

    /** Checks that {@code dir} is a directory (not a link) owned by this user; returns its mode. */
    private static int checkOwned(Path dir, String what) throws IOException {
        if (Files.isSymbolicLink(dir)) {
            throw refused(what, dir, "it is a symbolic link (to " + readLink(dir) + ", owned by "
                    + UnixUser.describe(dir) + ")");
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw refused(what, dir, "it exists but is not a directory");
        }
        int owner = UnixUser.ownerUid(dir);
        if (owner != UnixUser.uid()) {
            throw refused(what, dir, "it belongs to " + UnixUser.describe(dir) + ", not to this user (uid "
                    + UnixUser.uid() + ")");
        }
        return UnixUser.mode(dir);
    }

    private static String readLink(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            return "?";
        }
    }

    private static PipeException refused(String what, Path dir, String why) {
        return new PipeException(what, Errno.EACCES, "EACCES", "refusing the pipe directory " + dir + ": " + why
                + ". Another local user may have created it to intercept this user's pipes. Remove it if it is "
                + "stale, or give this user a private directory: set XDG_RUNTIME_DIR, or -D" + PROPERTY
                + "=<a directory only this user can write> on both ends");
    }
}
