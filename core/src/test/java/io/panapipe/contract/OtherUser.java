package io.panapipe.contract;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
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
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** The class directories or jars of this module's classes, its tests and the bindings. */
    private static String classPath() throws URISyntaxException {
        List<String> parts = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {OtherUser.class, io.panapipe.PipeServer.class,
                io.panapipe.bindings.linux.Linux.class}) {
            String p = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            if (!parts.contains(p)) {
                parts.add(p);
            }
        }
        return String.join(File.pathSeparator, parts);
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
