package io.panapipe.internal.unix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;

/**
 * This process's user, found once (at class initialisation, i.e. the first bind or connect) from
 * the owner of a file the process owns, so that later checks need no user-database look-up and no
 * descriptor (a look-up can fail with {@code EMFILE} exactly when a server is under pressure).
 */
public final class UnixUser {
    private static final int UID;
    private static final UserPrincipal PRINCIPAL;

    static {
        try {
            Path self = Path.of("/proc/self");
            if (Files.isDirectory(self)) {
                UID = (Integer) Files.getAttribute(self, "unix:uid");
                PRINCIPAL = Files.getOwner(self);
            } else {
                Path probe = Files.createTempFile("panapipe-uid", ".tmp");
                try {
                    UID = (Integer) Files.getAttribute(probe, "unix:uid");
                    PRINCIPAL = Files.getOwner(probe);
                } finally {
                    Files.deleteIfExists(probe);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tell this process's uid", e);
        }
    }

    private UnixUser() {
    }

    /**
     * The effective uid of this process.
     *
     * @return the uid
     */
    public static int uid() {
        return UID;
    }

    /**
     * This process's user as the JDK's {@code SO_PEERCRED} principals name it (equal by uid).
     *
     * @return the user principal
     */
    public static UserPrincipal principal() {
        return PRINCIPAL;
    }

    /**
     * The uid owning {@code path} (not following a final symbolic link).
     *
     * @param path a file or directory
     * @return the owner's uid
     * @throws IOException if the attribute cannot be read (e.g. the file does not exist)
     */
    public static int ownerUid(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The owner of {@code path} as {@code "alice (uid 1001)"}, the name from the system's user
     * database where it has one (best effort: for messages only).
     *
     * @param path a file or directory
     * @return the description, or {@code "an unknown user"} if the owner cannot be read
     */
    public static String describe(Path path) {
        try {
            return Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName() + " (uid " + ownerUid(path) + ")";
        } catch (IOException e) {
            return "an unknown user";
        }
    }

    /**
     * {@code "alice (uid 1001)"} from the system's user database ({@code /etc/passwd}), or
     * {@code "uid 1001"} where it has no entry (best effort: for messages only).
     *
     * @param uid a user id
     * @return the description
     */
    public static String describe(int uid) {
        try (var lines = Files.lines(Path.of("/etc/passwd"))) {
            return lines.map(l -> l.split(":", 4))
                    .filter(f -> f.length > 3 && f[2].equals(Integer.toString(uid)))
                    .map(f -> f[0] + " (uid " + uid + ")")
                    .findFirst().orElse("uid " + uid);
        } catch (IOException | RuntimeException e) {
            return "uid " + uid;
        }
    }

    /**
     * The mode bits of {@code path} (not following a final symbolic link).
     *
     * @param path a file or directory
     * @return the {@code st_mode} bits, file type included
     * @throws IOException if the attribute cannot be read
     */
    public static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }
}
