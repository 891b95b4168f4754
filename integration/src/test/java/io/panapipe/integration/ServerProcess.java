package io.panapipe.integration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * A real server program started by a test: run as an unprivileged user when the tests run as root
 * (PostgreSQL refuses root; CI runs as root), in a private temp dir, output to a log file, stopped
 * (and its descendants killed) by {@link #close()}. Every wait is bounded.
 */
final class ServerProcess implements AutoCloseable {
    /** The user servers run as when the tests run as root; scripts/integration-deps.sh creates it. */
    static final String IT_USER = System.getenv().getOrDefault("PANAPIPE_IT_USER", "panapipe-it");

    private final String what;
    private final Process process;
    private final Path log;

    private ServerProcess(String what, Process process, Path log) {
        this.what = what;
        this.process = process;
        this.log = log;
    }

    static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /**
     * A fresh private directory under /tmp (short, for the 107-byte socket path limit), owned by
     * the user the servers run as.
     */
    static Path tempDir(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), prefix,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        giveToServerUser(dir);
        return dir;
    }

    /** As root, hands {@code path} to {@link #IT_USER}; otherwise leaves it alone. */
    static void giveToServerUser(Path path) throws IOException {
        if (!runningAsRoot()) {
            return;
        }
        UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal user;
        GroupPrincipal group;
        try {
            user = users.lookupPrincipalByName(IT_USER);
            group = users.lookupPrincipalByGroupName(IT_USER);
        } catch (IOException e) {
            throw new IllegalStateException("the tests run as root, and servers must run as the unprivileged user '"
                    + IT_USER + "', which does not exist: run ./test (scripts/integration-deps.sh creates it)", e);
        }
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(user);
        view.setGroup(group);
    }

    /** The first executable of {@code candidates} (absolute paths or glob-free names on PATH). */
    static Path findProgram(String what, List<String> candidates) {
        for (String c : candidates) {
            Path p = Path.of(c);
            if (p.isAbsolute()) {
                if (Files.isExecutable(p)) {
                    return p;
                }
                continue;
            }
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                Path q = Path.of(dir, c);
                if (Files.isExecutable(q)) {
                    return q;
                }
            }
        }
        throw new IllegalStateException(what + " is not installed (looked for " + candidates
                + "): ./test installs it with apt-get (scripts/integration-deps.sh); install it by hand otherwise");
    }

    /** Executables {@code /usr/lib/postgresql/<version>/bin/<name>}, newest version first. */
    static List<String> postgresPrograms(String name) throws IOException {
        List<String> found = new ArrayList<>();
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                versions.sorted(Comparator.comparing(ServerProcess::versionOf).reversed())
                        .map(v -> v.resolve("bin").resolve(name))
                        .filter(Files::isExecutable)
                        .forEach(p -> found.add(p.toString()));
            }
        }
        found.add(name);
        return found;
    }

    private static int versionOf(Path p) {
        try {
            return Integer.parseInt(p.getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The command, prefixed to drop to {@link #IT_USER} when running as root. */
    static List<String> asServerUser(List<String> command) {
        if (!runningAsRoot()) {
            return command;
        }
        List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=" + IT_USER, "--regid=" + IT_USER,
                "--clear-groups", "--"));
        c.addAll(command);
        return c;
    }

    /** Runs a command to completion (bounded), failing with its output if it fails. */
    static void run(String what, List<String> command, Path dir, Duration limit) throws IOException, InterruptedException {
        Path log = dir.resolve(what.replaceAll("[^A-Za-z0-9]", "_") + ".log");
        Process p = new ProcessBuilder(asServerUser(command)).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(what + " did not finish within " + limit + ":\n" + tail(log));
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(what + " failed with exit code " + p.exitValue() + ":\n" + tail(log));
        }
    }

    /** Starts a server in the background; its output goes to {@code <dir>/<what>.log}. */
    static ServerProcess start(String what, List<String> command, Path dir) throws IOException {
        Path log = dir.resolve(what.replaceAll("[^A-Za-z0-9]", "_") + ".log");
        Process p = new ProcessBuilder(asServerUser(command)).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new ServerProcess(what, p, log);
    }

    /** Waits until {@code ready} holds, failing with the server's log if it exits or takes too long. */
    void awaitReady(Duration limit, BooleanSupplier ready) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!ready.getAsBoolean()) {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + process.exitValue()
                        + " before it was ready:\n" + tail(log));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(what + " was not ready within " + limit + ":\n" + tail(log));
            }
            Thread.sleep(50);
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Stops the server: SIGTERM, then SIGKILL after 10 s, descendants too. */
    @Override
    public void close() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle c : children) {
            c.destroyForcibly();
        }
    }

    /** Deletes a temp dir and everything in it (best effort: logs of a failed run are kept if this fails). */
    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // leave it
                }
            });
        } catch (IOException e) {
            // leave it
        }
    }
}
