package io.panapipe.examples;

import io.panapipe.bindings.WindowsLibraries;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * How to read {@code GetLastError}/{@code WSAGetLastError} correctly from Java: build the downcall
 * with {@link Linker.Option#captureCallState}, so the linker saves the value right after the call,
 * before the JVM can run anything that changes it. (Calling the generated {@code Win32.GetLastError()}
 * afterwards is a second downcall that may see a clobbered value.) Used by the Windows-only
 * low-level examples. Windows only.
 */
public final class Captured {
    private static final Linker.Option CAPTURE;
    private static final VarHandle LAST_ERROR;
    private static final VarHandle WSA_LAST_ERROR;

    static {
        WindowsLibraries.load();
        CAPTURE = Linker.Option.captureCallState("GetLastError", "WSAGetLastError");
        LAST_ERROR = Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("GetLastError"));
        WSA_LAST_ERROR = Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("WSAGetLastError"));
    }

    private final MethodHandle handle;

    private Captured(MethodHandle handle) {
        this.handle = handle;
    }

    /** A capturing downcall for a generated function: {@code Captured.of(Win32.ReadFile$address(), Win32.ReadFile$descriptor())}. */
    public static Captured of(MemorySegment address, FunctionDescriptor descriptor) {
        return new Captured(Linker.nativeLinker().downcallHandle(address, descriptor, CAPTURE));
    }

    /** A capture area; one per thread (or per call). */
    public static MemorySegment state(Arena arena) {
        return arena.allocate(Linker.Option.captureStateLayout());
    }

    /** Calls the function, saving the error codes in {@code state}. */
    public Object call(MemorySegment state, Object... args) {
        List<Object> all = new ArrayList<>(args.length + 1);
        all.add(state);
        all.addAll(List.of(args));
        try {
            return handle.invokeWithArguments(all);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Calls a function that returns an {@code int} (BOOL, DWORD). */
    public int callInt(MemorySegment state, Object... args) {
        return (int) call(state, args);
    }

    public static int lastError(MemorySegment state) {
        return (int) LAST_ERROR.get(state, 0L);
    }

    public static int wsaLastError(MemorySegment state) {
        return (int) WSA_LAST_ERROR.get(state, 0L);
    }
}
