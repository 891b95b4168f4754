package io.panapipe.contract;

import io.panapipe.PipeName;
import io.panapipe.internal.Engines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** Helpers shared by the contract tests: fresh names, the engine under test, fd counting. */
final class TestPipes {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private TestPipes() {
    }

    /** A name no other test uses. */
    static PipeName freshName(String what) {
        return PipeName.of("t-" + ProcessHandle.current().pid() + "-" + what + "-" + COUNTER.incrementAndGet());
    }

    static String engine() {
        return Engines.get().name();
    }

    /**
     * Whether the engine under test is the IOCP engine running on the Windows model (test code
     * that models the named-pipe file system on Linux: a model run, not a Windows run).
     */
    static boolean onWindowsModel() {
        return engine().contains("Windows model");
    }

    /** The address the engine uses for {@code name}: on the Windows model, the pipe path of its logical name. */
    static String osPath(PipeName name) {
        return onWindowsModel() ? "\\\\.\\pipe\\" + name.logicalName() : name.osPath();
    }

    /** Open file descriptors of this process (Linux), or -1 where /proc is missing. */
    static int openFds() {
        Path fd = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fd)) {
            return -1;
        }
        try (var s = Files.list(fd)) {
            return (int) s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Waits until {@code open fds <= expected} (the JDK closes some fds lazily); returns the last count. */
    static int awaitFds(int expected) throws InterruptedException {
        int n = openFds();
        for (int i = 0; i < 100 && n > expected; i++) {
            Thread.sleep(20);
            n = openFds();
        }
        return n;
    }
}
