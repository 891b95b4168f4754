package io.panapipe.internal.windows;

import io.panapipe.bindings.WindowsLibraries;
import io.panapipe.bindings.windows.Win32;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Every kernel32/advapi32 call the IOCP engine makes, as downcall handles built once from the
 * generated bindings' {@code X$address()} and {@code X$descriptor()}, with two changes:
 *
 * <ul>
 *   <li>each handle captures {@code GetLastError} with {@link Linker.Option#captureCallState} into
 *       a segment the caller passes first (DESIGN rule 9: a separate {@code GetLastError} downcall can
 *       see a value the JVM clobbered in between). Hot paths pass the capture area inside their
 *       {@link OverlappedSlot}, so nothing is allocated per call;</li>
 *   <li>pointer arguments and results are plain {@code long} addresses (same registers on
 *       Windows x64), so a read at an offset into the caller's segment needs no slice.</li>
 * </ul>
 *
 * <p>This class only loads on Windows ({@link #ensureLoaded()} checks); everything that must be
 * testable elsewhere lives in the pure classes ({@link WinError}, {@link PipeFlags},
 * {@link PipeSecurity#currentUserOnlySddl}, {@link OverlappedSlot}'s layout constants).
 */
final class Win32Calls implements Win32Api {
    private Win32Calls() {
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option CAPTURE;
    private static final VarHandle LAST_ERROR;
    private static final Linker.Option CAPTURE_WSA;
    private static final VarHandle WSA_LAST_ERROR;
    /** Size of the capture-state area a caller must pass. */
    static final long CAPTURE_SIZE;

    static {
        WindowsLibraries.load(); // throws off Windows: this class is the real kernel, nothing else
        CAPTURE = Linker.Option.captureCallState("GetLastError");
        LAST_ERROR = Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("GetLastError"));
        CAPTURE_SIZE = Linker.Option.captureStateLayout().byteSize();
        CAPTURE_WSA = Linker.Option.captureCallState("WSAGetLastError");
        WSA_LAST_ERROR = Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("WSAGetLastError"));
    }

    private static final Win32Calls INSTANCE = new Win32Calls();

    /**
     * The real kernel: loads kernel32/advapi32 and builds every downcall handle on first use.
     *
     * @throws Throwable (an {@code Error} or {@code RuntimeException} from class initialisation)
     *         off Windows
     */
    static Win32Api load() {
        return INSTANCE;
    }

    @Override
    public long captureSize() {
        return CAPTURE_SIZE;
    }

    @Override
    public int lastError(MemorySegment capture) {
        return (int) LAST_ERROR.get(capture, 0L);
    }

    @Override
    public MemorySegment newCapture(Arena arena) {
        return arena.allocate(Linker.Option.captureStateLayout());
    }

    private static MethodHandle capturing(MemorySegment address, FunctionDescriptor desc) {
        return LINKER.downcallHandle(address, addressesAsLongs(desc), CAPTURE);
    }

    private static MethodHandle plain(MemorySegment address, FunctionDescriptor desc) {
        return LINKER.downcallHandle(address, addressesAsLongs(desc));
    }

    /** Replaces every pointer in {@code desc} by a 64-bit integer (Windows x64 passes both alike). */
    static FunctionDescriptor addressesAsLongs(FunctionDescriptor desc) {
        MemoryLayout[] args = desc.argumentLayouts().stream()
                .map(l -> l instanceof AddressLayout ? ValueLayout.JAVA_LONG : l)
                .toArray(MemoryLayout[]::new);
        return desc.returnLayout()
                .map(r -> FunctionDescriptor.of(r instanceof AddressLayout ? ValueLayout.JAVA_LONG : r, args))
                .orElseGet(() -> FunctionDescriptor.ofVoid(args));
    }

    private static AssertionError unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new AssertionError("downcall threw a checked exception", t);
    }

    // ---- overlapped I/O: the hot path ------------------------------------------------------

    private static final MethodHandle READ_FILE = capturing(Win32.ReadFile$address(), Win32.ReadFile$descriptor());
    private static final MethodHandle WRITE_FILE = capturing(Win32.WriteFile$address(), Win32.WriteFile$descriptor());
    private static final MethodHandle CONNECT_NAMED_PIPE =
            capturing(Win32.ConnectNamedPipe$address(), Win32.ConnectNamedPipe$descriptor());
    private static final MethodHandle CANCEL_IO_EX = capturing(Win32.CancelIoEx$address(), Win32.CancelIoEx$descriptor());
    private static final MethodHandle GET_OVERLAPPED_RESULT =
            capturing(Win32.GetOverlappedResult$address(), Win32.GetOverlappedResult$descriptor());

    /** {@code ReadFile(h, buf, n, NULL, ov)}: BOOL. */
    @Override
    public int readFile(MemorySegment capture, long handle, long buffer, int length, long overlapped) {
        try {
            return (int) READ_FILE.invokeExact(capture, handle, buffer, length, 0L, overlapped);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code WriteFile(h, buf, n, NULL, ov)}: BOOL. */
    @Override
    public int writeFile(MemorySegment capture, long handle, long buffer, int length, long overlapped) {
        try {
            return (int) WRITE_FILE.invokeExact(capture, handle, buffer, length, 0L, overlapped);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int connectNamedPipe(MemorySegment capture, long handle, long overlapped) {
        try {
            return (int) CONNECT_NAMED_PIPE.invokeExact(capture, handle, overlapped);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code CancelIoEx(h, ov)} — one operation, whichever thread issued it (never {@code CancelIo}). */
    @Override
    public int cancelIoEx(MemorySegment capture, long handle, long overlapped) {
        try {
            return (int) CANCEL_IO_EX.invokeExact(capture, handle, overlapped);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code GetOverlappedResult(h, ov, &bytes, wait)}; only ever called with {@code wait == FALSE}. */
    @Override
    public int getOverlappedResult(MemorySegment capture, long handle, long overlapped, long bytesOut, int wait) {
        try {
            return (int) GET_OVERLAPPED_RESULT.invokeExact(capture, handle, overlapped, bytesOut, wait);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final MethodHandle WSA_GET_OVERLAPPED_RESULT = LINKER.downcallHandle(
            Win32.WSAGetOverlappedResult$address(), addressesAsLongs(Win32.WSAGetOverlappedResult$descriptor()), CAPTURE_WSA);

    @Override
    public int wsaGetOverlappedResult(MemorySegment capture, long socket, long overlapped, long bytesOut, int wait,
                                      long flagsOut) {
        try {
            return (int) WSA_GET_OVERLAPPED_RESULT.invokeExact(capture, socket, overlapped, bytesOut, wait, flagsOut);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int wsaLastError(MemorySegment capture) {
        return (int) WSA_LAST_ERROR.get(capture, 0L);
    }

    // ---- the completion port ---------------------------------------------------------------

    private static final MethodHandle CREATE_IO_COMPLETION_PORT =
            capturing(Win32.CreateIoCompletionPort$address(), Win32.CreateIoCompletionPort$descriptor());
    private static final MethodHandle GET_QUEUED_COMPLETION_STATUS_EX =
            capturing(Win32.GetQueuedCompletionStatusEx$address(), Win32.GetQueuedCompletionStatusEx$descriptor());
    private static final MethodHandle POST_QUEUED_COMPLETION_STATUS =
            capturing(Win32.PostQueuedCompletionStatus$address(), Win32.PostQueuedCompletionStatus$descriptor());
    private static final MethodHandle SET_FILE_COMPLETION_NOTIFICATION_MODES = capturing(
            Win32.SetFileCompletionNotificationModes$address(), Win32.SetFileCompletionNotificationModes$descriptor());

    @Override
    public long createIoCompletionPort(MemorySegment capture, long handle, long existingPort, long key, int threads) {
        try {
            return (long) CREATE_IO_COMPLETION_PORT.invokeExact(capture, handle, existingPort, key, threads);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int getQueuedCompletionStatusEx(MemorySegment capture, long port, long entries, int count,
                                           long removedOut, int millis, int alertable) {
        try {
            return (int) GET_QUEUED_COMPLETION_STATUS_EX.invokeExact(capture, port, entries, count, removedOut,
                    millis, alertable);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int postQueuedCompletionStatus(MemorySegment capture, long port, int bytes, long key, long overlapped) {
        try {
            return (int) POST_QUEUED_COMPLETION_STATUS.invokeExact(capture, port, bytes, key, overlapped);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int setFileCompletionNotificationModes(MemorySegment capture, long handle, byte flags) {
        try {
            return (int) SET_FILE_COMPLETION_NOTIFICATION_MODES.invokeExact(capture, handle, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- handles and named pipes -----------------------------------------------------------

    private static final MethodHandle CREATE_NAMED_PIPE_W =
            capturing(Win32.CreateNamedPipeW$address(), Win32.CreateNamedPipeW$descriptor());
    private static final MethodHandle CREATE_FILE_W = capturing(Win32.CreateFileW$address(), Win32.CreateFileW$descriptor());
    private static final MethodHandle CLOSE_HANDLE = capturing(Win32.CloseHandle$address(), Win32.CloseHandle$descriptor());
    private static final MethodHandle DISCONNECT_NAMED_PIPE =
            capturing(Win32.DisconnectNamedPipe$address(), Win32.DisconnectNamedPipe$descriptor());
    private static final MethodHandle SET_NAMED_PIPE_HANDLE_STATE =
            capturing(Win32.SetNamedPipeHandleState$address(), Win32.SetNamedPipeHandleState$descriptor());
    private static final MethodHandle GET_NAMED_PIPE_CLIENT_PROCESS_ID =
            capturing(Win32.GetNamedPipeClientProcessId$address(), Win32.GetNamedPipeClientProcessId$descriptor());
    private static final MethodHandle GET_NAMED_PIPE_SERVER_PROCESS_ID =
            capturing(Win32.GetNamedPipeServerProcessId$address(), Win32.GetNamedPipeServerProcessId$descriptor());
    private static final MethodHandle GET_NAMED_PIPE_INFO =
            capturing(Win32.GetNamedPipeInfo$address(), Win32.GetNamedPipeInfo$descriptor());

    @Override
    public long createNamedPipeW(MemorySegment capture, long name, int openMode, int pipeMode, int maxInstances,
                                 int outBuffer, int inBuffer, int defaultTimeout, long securityAttributes) {
        try {
            return (long) CREATE_NAMED_PIPE_W.invokeExact(capture, name, openMode, pipeMode, maxInstances, outBuffer,
                    inBuffer, defaultTimeout, securityAttributes);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public long createFileW(MemorySegment capture, long name, int access, int share, long securityAttributes,
                            int disposition, int flags, long template) {
        try {
            return (long) CREATE_FILE_W.invokeExact(capture, name, access, share, securityAttributes, disposition,
                    flags, template);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int closeHandle(MemorySegment capture, long handle) {
        try {
            return (int) CLOSE_HANDLE.invokeExact(capture, handle);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int disconnectNamedPipe(MemorySegment capture, long handle) {
        try {
            return (int) DISCONNECT_NAMED_PIPE.invokeExact(capture, handle);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int setNamedPipeHandleState(MemorySegment capture, long handle, long mode, long maxCollection,
                                       long collectTimeout) {
        try {
            return (int) SET_NAMED_PIPE_HANDLE_STATE.invokeExact(capture, handle, mode, maxCollection, collectTimeout);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int getNamedPipeClientProcessId(MemorySegment capture, long handle, long pidOut) {
        try {
            return (int) GET_NAMED_PIPE_CLIENT_PROCESS_ID.invokeExact(capture, handle, pidOut);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int getNamedPipeServerProcessId(MemorySegment capture, long handle, long pidOut) {
        try {
            return (int) GET_NAMED_PIPE_SERVER_PROCESS_ID.invokeExact(capture, handle, pidOut);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int getNamedPipeInfo(MemorySegment capture, long handle, long flags, long outSize, long inSize,
                                long maxInstances) {
        try {
            return (int) GET_NAMED_PIPE_INFO.invokeExact(capture, handle, flags, outSize, inSize, maxInstances);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- processes, tokens and security descriptors ----------------------------------------

    /**
     * {@code OpenProcess} is not in the generated bindings (bindings/jextract/windows/includes.txt
     * lacks it), so it is looked up here in kernel32 with its documented signature:
     * {@code HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId)}.
     */
    private static final MethodHandle OPEN_PROCESS = LINKER.downcallHandle(
            SymbolLookup.libraryLookup("kernel32", Arena.global()).find("OpenProcess").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            CAPTURE);
    private static final MethodHandle GET_CURRENT_PROCESS =
            plain(Win32.GetCurrentProcess$address(), Win32.GetCurrentProcess$descriptor());
    private static final MethodHandle OPEN_PROCESS_TOKEN =
            capturing(Win32.OpenProcessToken$address(), Win32.OpenProcessToken$descriptor());
    private static final MethodHandle GET_TOKEN_INFORMATION =
            capturing(Win32.GetTokenInformation$address(), Win32.GetTokenInformation$descriptor());
    private static final MethodHandle CONVERT_SID_TO_STRING_SID_W =
            capturing(Win32.ConvertSidToStringSidW$address(), Win32.ConvertSidToStringSidW$descriptor());
    private static final MethodHandle CONVERT_STRING_SD_TO_SD_W = capturing(
            Win32.ConvertStringSecurityDescriptorToSecurityDescriptorW$address(),
            Win32.ConvertStringSecurityDescriptorToSecurityDescriptorW$descriptor());
    private static final MethodHandle LOCAL_FREE = capturing(Win32.LocalFree$address(), Win32.LocalFree$descriptor());
    private static final MethodHandle EQUAL_SID = capturing(Win32.EqualSid$address(), Win32.EqualSid$descriptor());
    private static final MethodHandle FORMAT_MESSAGE_W =
            capturing(Win32.FormatMessageW$address(), Win32.FormatMessageW$descriptor());

    @Override
    public long openProcess(MemorySegment capture, int access, int inherit, int pid) {
        try {
            return (long) OPEN_PROCESS.invokeExact(capture, access, inherit, pid);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public long getCurrentProcess() {
        try {
            return (long) GET_CURRENT_PROCESS.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int openProcessToken(MemorySegment capture, long process, int access, long tokenOut) {
        try {
            return (int) OPEN_PROCESS_TOKEN.invokeExact(capture, process, access, tokenOut);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int getTokenInformation(MemorySegment capture, long token, int infoClass, long buffer, int length,
                                   long returnLengthOut) {
        try {
            return (int) GET_TOKEN_INFORMATION.invokeExact(capture, token, infoClass, buffer, length, returnLengthOut);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int convertSidToStringSidW(MemorySegment capture, long sid, long stringOut) {
        try {
            return (int) CONVERT_SID_TO_STRING_SID_W.invokeExact(capture, sid, stringOut);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int convertStringSecurityDescriptorToSecurityDescriptorW(MemorySegment capture, long sddl, int revision,
                                                                    long descriptorOut, long sizeOut) {
        try {
            return (int) CONVERT_STRING_SD_TO_SD_W.invokeExact(capture, sddl, revision, descriptorOut, sizeOut);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public long localFree(MemorySegment capture, long memory) {
        try {
            return (long) LOCAL_FREE.invokeExact(capture, memory);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int equalSid(MemorySegment capture, long a, long b) {
        try {
            return (int) EQUAL_SID.invokeExact(capture, a, b);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Not part of {@link Win32Api}: only {@link WinError#systemMessage} uses it, on Windows, for message text. */
    static int formatMessageW(MemorySegment capture, int flags, long source, int messageId, int languageId,
                              long buffer, int size, long arguments) {
        try {
            return (int) FORMAT_MESSAGE_W.invokeExact(capture, flags, source, messageId, languageId, buffer, size,
                    arguments);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
