package io.panapipe.bench;

import io.panapipe.bindings.WindowsLibraries;
import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.linux.io_uring_params;
import io.panapipe.bindings.windows.Win32;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Describes the machine a benchmark or test ran on: OS, kernel, JDK, process, whether io_uring can
 * be set up here (and if not, why), and where pipes live. Everything native goes through the
 * generated bindings, so the report is also a quick check that they work on this machine.
 */
@SuppressWarnings("restricted") // native calls through the bindings are the point of this class
public final class PlatformReport {

    private PlatformReport() {
    }

    /** Prints the report, one {@code key: value} line per fact. Never throws for a missing feature. */
    public static void print(PrintStream out) {
        String os = System.getProperty("os.name", "?");
        out.println("OS:            " + os + " " + System.getProperty("os.version", "?")
                + " (" + System.getProperty("os.arch", "?") + ")");
        out.println("JDK:           " + System.getProperty("java.runtime.version", System.getProperty("java.version"))
                + ", " + System.getProperty("java.vendor", "?")
                + " (" + System.getProperty("java.vm.name", "?") + ")");
        out.println("CPUs:          " + Runtime.getRuntime().availableProcessors());

        if (os.startsWith("Windows")) {
            printWindows(out);
        } else if (os.startsWith("Linux")) {
            printLinux(out);
        } else {
            out.println("PID:           " + ProcessHandle.current().pid());
            out.println("io_uring:      not available on " + os + " (the NIO engine is used)");
            out.println("Pipe dir:      " + unixPipeDirectory(uidOrNull()));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Windows

    private static void printWindows(PrintStream out) {
        try {
            WindowsLibraries.load();
            out.println("PID:           " + Win32.GetCurrentProcessId() + " (GetCurrentProcessId)");
        } catch (Throwable e) {
            out.println("PID:           " + ProcessHandle.current().pid()
                    + " (bindings unavailable: " + e + ")");
        }
        out.println("Engine:        I/O completion port (overlapped named pipes)");
        out.println("Pipe dir:      \\\\.\\pipe\\ (the named-pipe namespace)");
    }

    // ---------------------------------------------------------------------------------------
    // Linux

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static void printLinux(PrintStream out) {
        out.println("PID:           " + Linux.getpid() + " (getpid)");
        int uid = Linux.getuid();
        out.println("UID:           " + uid + " (getuid)");
        printIoUring(out);
        out.println("Pipe dir:      " + unixPipeDirectory(uid));
    }

    /** io_uring_setup(2, &params) through syscall(2), errno captured by the downcall itself. */
    private static void printIoUring(PrintStream out) {
        try (Arena arena = Arena.ofConfined()) {
            // long syscall(long number, ...): the variadic part is (unsigned entries, struct io_uring_params *).
            MethodHandle syscall = Linker.nativeLinker().downcallHandle(
                    Linux.syscall.address(),
                    FunctionDescriptor.of(Linux.C_LONG, Linux.C_LONG, Linux.C_INT, Linux.C_POINTER),
                    Linker.Option.firstVariadicArg(1),
                    Linker.Option.captureCallState("errno"));
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment params = io_uring_params.allocate(arena); // zeroed: no flags
            long fd = (long) syscall.invokeExact(state, (long) Linux.SYS_io_uring_setup(), 2, params);
            if (fd >= 0) {
                int features = io_uring_params.features(params);
                out.println("io_uring:      available (io_uring_setup ok, sq_entries="
                        + io_uring_params.sq_entries(params) + ", cq_entries=" + io_uring_params.cq_entries(params) + ")");
                out.println("io_uring feat: 0x" + Integer.toHexString(features) + " " + featureNames(features));
                Linux.close((int) fd);
            } else {
                int errno = (int) ERRNO.get(state, 0L);
                out.println("io_uring:      NOT available: io_uring_setup failed with errno " + errno + " "
                        + errnoName(errno) + " (" + strerror(errno) + ")");
                for (String hint : ioUringHints(errno)) {
                    out.println("               hint: " + hint);
                }
            }
        } catch (Throwable e) {
            out.println("io_uring:      could not probe: " + e);
        }
    }

    private static List<String> featureNames(int features) {
        List<String> names = new ArrayList<>();
        int known = 0;
        for (Map.Entry<Integer, String> e : constants("IORING_FEAT_").entrySet()) {
            int bit = e.getKey();
            if (Integer.bitCount(bit) == 1) {
                known |= bit;
                if ((features & bit) != 0) {
                    names.add(e.getValue());
                }
            }
        }
        int unknown = features & ~known;
        if (unknown != 0) {
            names.add("0x" + Integer.toHexString(unknown) + " (newer than the bindings)");
        }
        return names;
    }

    private static List<String> ioUringHints(int errno) {
        List<String> hints = new ArrayList<>();
        Optional<String> disabled = readFirstLine(Path.of("/proc/sys/kernel/io_uring_disabled"));
        if (disabled.isPresent()) {
            String v = disabled.get().trim();
            String meaning = switch (v) {
                case "0" -> "io_uring allowed for everyone";
                case "1" -> "io_uring only for processes in kernel.io_uring_group (or CAP_SYS_ADMIN)";
                case "2" -> "io_uring disabled for everyone";
                default -> "unknown value";
            };
            hints.add("/proc/sys/kernel/io_uring_disabled = " + v + " (" + meaning + ")");
        } else {
            hints.add("/proc/sys/kernel/io_uring_disabled is absent (kernel older than 6.6, or not Linux /proc)");
        }
        readProcStatus("Seccomp:").ifPresent(v -> hints.add("seccomp mode " + v
                + (v.equals("2") ? " (filtering: container runtimes' default profiles often block io_uring;"
                        + " Docker has since 25.0)" : "")));
        if (errno == Linux.ENOSYS()) {
            hints.add("ENOSYS: kernel built without CONFIG_IO_URING, older than 5.1, or a seccomp filter answers ENOSYS");
        } else if (errno == Linux.EPERM()) {
            hints.add("EPERM: io_uring is disabled by sysctl or forbidden by seccomp/LSM for this process");
        } else if (errno == Linux.ENOMEM()) {
            hints.add("ENOMEM: locked-memory limit too low for the rings (ulimit -l)");
        }
        hints.add("Panapipe falls back to the NIO engine when io_uring is unavailable");
        return hints;
    }

    // ---------------------------------------------------------------------------------------
    // Unix pipe directory (same rule as PipeName)

    private static Integer uidOrNull() {
        try {
            return Linux.getuid();
        } catch (Throwable e) {
            return null;
        }
    }

    private static String unixPipeDirectory(Integer uid) {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        Path dir;
        String why;
        if (xdg != null && !xdg.isEmpty() && Files.isDirectory(Path.of(xdg))) {
            dir = Path.of(xdg, "panapipe");
            why = "from $XDG_RUNTIME_DIR";
        } else {
            dir = Path.of(System.getProperty("java.io.tmpdir"), "panapipe-" + (uid == null ? "?" : uid));
            why = xdg == null || xdg.isEmpty() ? "$XDG_RUNTIME_DIR not set" : "$XDG_RUNTIME_DIR is not a directory";
        }
        return dir + " (" + why + (Files.isDirectory(dir) ? ", exists" : ", not created yet") + ")";
    }

    // ---------------------------------------------------------------------------------------
    // helpers

    private static String strerror(int errno) {
        try {
            return Linux.strerror(errno).reinterpret(1024).getString(0);
        } catch (Throwable e) {
            return "strerror unavailable";
        }
    }

    /** The symbolic name of an errno value, from the generated constants. */
    private static String errnoName(int errno) {
        return constants("E").getOrDefault(errno, "E?");
    }

    /** errno names that share their value with the name reported instead (EAGAIN, EOPNOTSUPP). */
    private static final java.util.Set<String> ALIASES = java.util.Set.of("EWOULDBLOCK", "ENOTSUP");

    /** The int constants of the Linux header class whose names start with {@code prefix}, by value. */
    private static Map<Integer, String> constants(String prefix) {
        Map<Integer, String> byValue = new TreeMap<>();
        Method[] methods = Linux.class.getMethods();
        java.util.Arrays.sort(methods, java.util.Comparator.comparing(Method::getName));
        for (Method m : methods) {
            String n = m.getName();
            if (n.startsWith(prefix) && !ALIASES.contains(n) && m.getParameterCount() == 0 && m.getReturnType() == int.class
                    && Modifier.isStatic(m.getModifiers())
                    && (!prefix.equals("E") || n.chars().allMatch(c -> Character.isUpperCase(c) || Character.isDigit(c)))) {
                try {
                    byValue.putIfAbsent((Integer) m.invoke(null), n);
                } catch (ReflectiveOperationException e) {
                    // not a constant
                }
            }
        }
        return byValue;
    }

    private static Optional<String> readFirstLine(Path p) {
        try {
            return Files.readAllLines(p).stream().findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> readProcStatus(String key) {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith(key))
                    .map(l -> l.substring(key.length()).trim())
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Prints the report to standard output. */
    public static void main(String[] args) {
        print(System.out);
    }
}
