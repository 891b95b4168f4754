package io.panapipe.internal.windows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The kernel boundary of the IOCP engine: every kernel32/advapi32/ws2_32 call the engine makes,
 * and nothing else. The engine's classes call only this interface, never a downcall of their own,
 * and none of them knows which implementation runs.
 *
 * <ul>
 *   <li>{@link Win32Calls} — the real FFM downcalls; the only implementation in the library, and
 *       what {@link IocpEngine#instance()} always uses.</li>
 *   <li>The <em>Windows model</em> — a model of the named-pipe file system and the completion port
 *       written from Wine's conformance tests, in Panapipe's <em>test</em> sources only, so that the
 *       engine's Java logic runs on Linux in {@code ./test}. It is never part of the library: a model
 *       run says nothing about Windows beyond what the model's own conformance tests pin down.</li>
 * </ul>
 *
 * <p>Conventions (those of the Windows x64 ABI the real calls use): pointers are {@code long}
 * addresses; {@code BOOL} results are {@code int}, 0 for failure; a failing call leaves its
 * {@code GetLastError} value in {@code capture} (a segment from {@link #newCapture}, read with
 * {@link #lastError}), captured by the linker because a separate {@code GetLastError} downcall
 * could see a value the JVM clobbered in between (DESIGN rule 9).
 */
interface Win32Api {
    /** {@code PROCESS_QUERY_LIMITED_INFORMATION} (0x1000, winnt.h); not in the generated bindings. */
    int PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;

    /** Bytes of the capture area a caller passes (at most {@link OverlappedSlot#CAPTURE_CAPACITY}). */
    long captureSize();

    /** The {@code GetLastError} value the last capturing call stored in {@code capture}. */
    int lastError(MemorySegment capture);

    /** A capture area for calls off the hot path. */
    MemorySegment newCapture(Arena arena);

    /** {@code ReadFile(h, buf, n, NULL, ov)}: BOOL. */
    int readFile(MemorySegment capture, long handle, long buffer, int length, long overlapped);

    /** {@code WriteFile(h, buf, n, NULL, ov)}: BOOL. */
    int writeFile(MemorySegment capture, long handle, long buffer, int length, long overlapped);

    int connectNamedPipe(MemorySegment capture, long handle, long overlapped);

    /** {@code CancelIoEx(h, ov)} — one operation, whichever thread issued it (never {@code CancelIo}). */
    int cancelIoEx(MemorySegment capture, long handle, long overlapped);

    /** {@code GetOverlappedResult(h, ov, &bytes, wait)}; only ever called with {@code wait == FALSE}. */
    int getOverlappedResult(MemorySegment capture, long handle, long overlapped, long bytesOut, int wait);

    long createIoCompletionPort(MemorySegment capture, long handle, long existingPort, long key, int threads);

    int getQueuedCompletionStatusEx(MemorySegment capture, long port, long entries, int count, long removedOut, int millis, int alertable);

    int postQueuedCompletionStatus(MemorySegment capture, long port, int bytes, long key, long overlapped);

    int setFileCompletionNotificationModes(MemorySegment capture, long handle, byte flags);

    long createNamedPipeW(MemorySegment capture, long name, int openMode, int pipeMode, int maxInstances, int outBuffer, int inBuffer, int defaultTimeout, long securityAttributes);

    long createFileW(MemorySegment capture, long name, int access, int share, long securityAttributes, int disposition, int flags, long template);

    int closeHandle(MemorySegment capture, long handle);

    int disconnectNamedPipe(MemorySegment capture, long handle);

    int setNamedPipeHandleState(MemorySegment capture, long handle, long mode, long maxCollection, long collectTimeout);

    int getNamedPipeClientProcessId(MemorySegment capture, long handle, long pidOut);

    int getNamedPipeServerProcessId(MemorySegment capture, long handle, long pidOut);

    int getNamedPipeInfo(MemorySegment capture, long handle, long flags, long outSize, long inSize, long maxInstances);

    /**
     * {@code WSAGetOverlappedResult(s, ov, &bytes, wait, &flags)} (ws2_32): BOOL; on failure its
     * code is read with {@link #wsaLastError}. Only ever called with {@code wait == FALSE}.
     */
    int wsaGetOverlappedResult(MemorySegment capture, long socket, long overlapped, long bytesOut, int wait, long flagsOut);

    /** The {@code WSAGetLastError} value the last Winsock call stored in {@code capture}. */
    int wsaLastError(MemorySegment capture);

    long openProcess(MemorySegment capture, int access, int inherit, int pid);

    long getCurrentProcess();

    int openProcessToken(MemorySegment capture, long process, int access, long tokenOut);

    int getTokenInformation(MemorySegment capture, long token, int infoClass, long buffer, int length, long returnLengthOut);

    int convertSidToStringSidW(MemorySegment capture, long sid, long stringOut);

    int convertStringSecurityDescriptorToSecurityDescriptorW(MemorySegment capture, long sddl, int revision, long descriptorOut, long sizeOut);

    long localFree(MemorySegment capture, long memory);

    int equalSid(MemorySegment capture, long a, long b);
}
