package io.panapipe.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Facts about the running platform that the public API needs before any engine is chosen. */
public final class Platform {
    private static final boolean WINDOWS =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    private static final boolean LINUX =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");

    private Platform() {
    }

    public static boolean isWindows() {
        return WINDOWS;
    }

    public static boolean isLinux() {
        return LINUX;
    }

    /**
     * Where logical pipe names live on Unix: {@code $XDG_RUNTIME_DIR/panapipe} when that variable
     * names a directory, else {@code <java.io.tmpdir>/panapipe-<user>}. The directory is not
     * created here (see {@link #ensurePrivateDirectory}).
     */
    public static Path pipeDirectory() {
        String override = System.getProperty("panapipe.dir");
        if (override != null && !override.isEmpty()) {
            return Path.of(override);
        }
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty() && Files.isDirectory(Path.of(xdg))) {
            return Path.of(xdg, "panapipe");
        }
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        return Path.of(System.getProperty("java.io.tmpdir"), "panapipe-" + user);
    }

    /**
     * Creates {@code dir} with mode 0700 if absent; if present, checks that it is a directory
     * owned by this user and closed to others, so no other user can plant or read sockets there.
     */
    public static void ensurePrivateDirectory(Path dir) throws IOException {
        Set<PosixFilePermission> owner = EnumSet.of(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectories(dir.getParent());
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(owner));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another process created it; checked below
            }
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("pipe directory " + dir + " exists but is not a directory");
        }
        String me = System.getProperty("user.name");
        String ownerName = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
        if (me != null && !me.equals(ownerName)) {
            throw new IOException("pipe directory " + dir + " belongs to " + ownerName + ", not " + me
                    + "; refusing to use it (remove it, or set XDG_RUNTIME_DIR)");
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!owner.containsAll(perms)) {
            Files.setPosixFilePermissions(dir, owner); // tighten what we own
        }
    }

    /** Unchecked variant for static initialisers. */
    static void ensurePrivateDirectoryUnchecked(Path dir) {
        try {
            ensurePrivateDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
