package io.panapipe.bench;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A harness child JVM driven by lines, for a harness that needs more than one exchange with it
 * ({@link ManyConnections#awaitLine} reads one answer only): one daemon thread reads the child's
 * output (stdout and stderr) into a queue and a log for the whole of its life, commands go to its
 * stdin, and closing its stdin is its signal to end (the harness children exit when their stdin
 * closes, so they also die with this JVM). Start it with {@link Main#childJava}, which carries the
 * run's {@code -D} properties and the peer's engine. Every wait is bounded.
 */
final class ChildJvm implements Closeable {
    /** What a child prints instead of the line asked for when it fails: {@code ERROR <message>}. */
    static final String ERROR = "ERROR";

    private static final String END = new String("end of output"); // compared by identity

    final String name;
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder log = new StringBuilder();
    private final Writer stdin;

    private ChildJvm(String name, Process process) {
        this.name = name;
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread.ofPlatform().daemon().name("child-" + name).start(() -> {
            try {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (log) {
                        log.append(name).append(": ").append(line).append('\n');
                    }
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the child is gone
            }
            lines.add(END);
        });
    }

    /** Starts {@code cmd} (from {@link Main#childJava} plus the harness's arguments). */
    static ChildJvm start(String name, List<String> cmd) throws IOException {
        return new ChildJvm(name, new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /**
     * The next line that starts with {@code prefix} or with {@link #ERROR} (other lines are skipped;
     * they stay in the log), or null if none came before {@code deadlineNanos} or the child ended.
     */
    String await(String prefix, long deadlineNanos) throws InterruptedException {
        while (true) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) return null;
            String l = lines.poll(left, TimeUnit.NANOSECONDS);
            if (l == null) return null;
            if (l == END) {
                lines.add(END); // for the next await
                return null;
            }
            if (l.startsWith(prefix) || l.startsWith(ERROR)) return l;
        }
    }

    /** Sends one command line to the child's stdin. */
    void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** The child's CPU time so far (all its threads), or -1 if the OS does not say. */
    long cpuNanos() {
        return Main.cpuNanos(process.toHandle());
    }

    long pid() {
        return process.pid();
    }

    /** Everything the child printed so far, each line prefixed with its name. */
    String log() {
        synchronized (log) {
            return log.toString();
        }
    }

    /** Closes its stdin (the signal to end), waits up to 5 s, then kills it and its descendants. */
    @Override public void close() {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // gone already
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
