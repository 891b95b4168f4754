package io.panapipe.contract;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A second local user for the tests where another user attacks or is attacked. Created with
 * {@code useradd} when the tests run as root (CI does); elsewhere those tests are skipped with the
 * reason. Its programs are Java main classes of this module, run with {@code setpriv}.
 */
final class OtherUser {
    static final String NAME = "panapipe-other";

    private OtherUser() {
    }

    /** Skips the calling test unless there is (now) a second user to run things as. */
    static void require() throws Exception {
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "needs Linux (useradd, setpriv)");
        assumeTrue("root".equals(System.getProperty("user.name")) || uid() == 0,
                "needs root to create a second local user and run a process as it (CI runs as root)");
        if (run(List.of("id", "-u", NAME)) != 0) {
            int rc = run(List.of("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME));
            if (rc != 0 && run(List.of("id", "-u", NAME)) != 0) {
                throw new AssertionError("useradd " + NAME + " failed with " + rc);
            }
        }
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
    }

    static int uid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** The second user's uid. */
    static int otherUid() throws Exception {
        Process p = new ProcessBuilder("id", "-u", NAME).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        return Integer.parseInt(out);
    }

    private static int run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    /** Starts {@code main} of {@code mainClass} as the second user, in a JVM with this module's classes. */
    static Process java(Class<?> mainClass, String... args) throws Exception {
        int uid = otherUid();
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=/tmp",
                "-D" + io.panapipe.internal.Engines.PROPERTY + "=" + TestPipes.engine(),
                "-cp", classPath(), mainClass.getName()));
        cmd.addAll(List.of(args));
        // a working directory the other user can enter (the checkout may be under a private home)
        return new ProcessBuilder(cmd).directory(new File("/tmp")).redirectErrorStream(true).start();
    }

    private static String classPath;

    /**
     * The class directories or jars of this module's classes, its tests and the bindings, copied to
     * a world-readable place once: the checkout may live where the other user cannot read (a CI
     * clone under root's home).
     */
    private static synchronized String classPath() throws Exception {
        if (classPath != null) {
            return classPath;
        }
        Path base = Files.createTempDirectory(Path.of("/tmp"), "pp-cp-");
        List<String> parts = new ArrayList<>();
        int i = 0;
        for (Class<?> c : new Class<?>[] {OtherUser.class, io.panapipe.PipeServer.class,
                io.panapipe.bindings.linux.Linux.class}) {
            Path from = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path to = base.resolve(Integer.toString(i++));
            if (Files.isDirectory(from)) {
                try (var walk = Files.walk(from)) {
                    for (Path f : (Iterable<Path>) walk::iterator) {
                        Path t = to.resolve(from.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(t);
                        } else {
                            Files.copy(f, t);
                        }
                    }
                }
            } else {
                Files.createDirectories(to);
                to = Files.copy(from, to.resolve(from.getFileName()));
            }
            parts.add(to.toString());
        }
        try (var walk = Files.walk(base)) {
            for (Path f : (Iterable<Path>) walk::iterator) {
                Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString(
                        Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (var walk = Files.walk(base)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (Exception ignored) {
                // a temp dir
            }
        }));
        classPath = String.join(File.pathSeparator, parts);
        return classPath;
    }

    /** Reads the child's first output line (it prints {@code ready} once listening), failing on anything else. */
    static void awaitReady(Process p) throws Exception {
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        String line = in.readLine();
        if (!"ready".equals(line)) {
            StringBuilder rest = new StringBuilder(String.valueOf(line));
            for (String l; (l = in.readLine()) != null; ) {
                rest.append('\n').append(l);
            }
            throw new AssertionError("the other user's program did not start: " + rest);
        }
    }
}
