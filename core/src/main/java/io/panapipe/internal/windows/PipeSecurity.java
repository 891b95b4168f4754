package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.PipeOptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Security descriptors of pipe servers, and the identity checks of clients.
 *
 * <p>Default: a protected DACL with one ACE granting {@code GENERIC_ALL} to the user of this
 * process's token, {@code D:P(A;;GA;;;<user SID>)} — nobody else, not even administrators or
 * other sessions of the same machine, may open the pipe, and nothing is inherited. The SID is read
 * from the token ({@code OpenProcessToken} + {@code GetTokenInformation(TokenUser)} +
 * {@code ConvertSidToStringSidW}), never hard-coded. An SDDL string from
 * {@link PipeOptions#withSddl} replaces it. Either way the text is turned into a self-relative
 * descriptor by {@code ConvertStringSecurityDescriptorToSecurityDescriptorW}, kept alive as long
 * as the server (so it outlives every {@code CreateNamedPipeW} call that uses it), and freed with
 * {@code LocalFree} when the server is released.
 */
final class PipeSecurity {
    private PipeSecurity() {
    }

    /** {@code TOKEN_QUERY} (winnt.h 0x0008). */
    private static final int TOKEN_QUERY = 0x0008;
    /** {@code TokenUser} (TOKEN_INFORMATION_CLASS 1). */
    private static final int TOKEN_USER = 1;
    /** {@code SDDL_REVISION_1}. */
    private static final int SDDL_REVISION_1 = 1;
    /** {@code sizeof(SECURITY_ATTRIBUTES)} on x64: DWORD nLength, (pad), LPVOID descriptor, BOOL inherit, (pad). */
    static final long SECURITY_ATTRIBUTES_SIZE = 24;
    static final long SA_DESCRIPTOR_OFFSET = 8;
    static final long SA_INHERIT_OFFSET = 16;

    private static final Pattern SID = Pattern.compile("S-1-\\d+(-\\d+)+");

    /** The current user's SID as read through one kernel (the real one, or a test's model). */
    private record KnownSid(Win32Api api, String sid) {
    }

    private static volatile KnownSid currentUserSid;

    /** The SDDL of the default descriptor for the user {@code sid}: {@code D:P(A;;GA;;;<sid>)}. */
    static String currentUserOnlySddl(String sid) {
        if (sid == null || !SID.matcher(sid).matches()) {
            throw new IllegalArgumentException("not a string SID (S-1-...): " + sid);
        }
        return "D:P(A;;GA;;;" + sid + ")";
    }

    /** The SDDL a server with {@code options} gets, given the current user's SID. */
    static String sddlFor(PipeOptions options, String currentUserSid) {
        return options.sddl() != null ? options.sddl() : currentUserOnlySddl(currentUserSid);
    }

    /** A server's descriptor plus the {@code SECURITY_ATTRIBUTES} that points at it. */
    static final class Descriptor implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final Win32Api api;
        private final long descriptor;
        private final MemorySegment attributes;
        private final String sddl;

        private Descriptor(Win32Api api, String sddl) throws PipeException {
            this.api = api;
            this.sddl = sddl;
            long converted = 0;
            try {
                MemorySegment capture = api.newCapture(arena);
                MemorySegment text = arena.allocateFrom(sddl, StandardCharsets.UTF_16LE);
                MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
                if (api.convertStringSecurityDescriptorToSecurityDescriptorW(capture, text.address(),
                        SDDL_REVISION_1, out.address(), 0L) == 0) {
                    int error = api.lastError(capture);
                    throw WinError.exception("ConvertStringSecurityDescriptorToSecurityDescriptorW(\"" + sddl + "\")", error);
                }
                converted = out.get(ValueLayout.JAVA_LONG, 0);
                descriptor = converted;
                attributes = arena.allocate(SECURITY_ATTRIBUTES_SIZE, 8);
                attributes.set(ValueLayout.JAVA_INT, 0, (int) SECURITY_ATTRIBUTES_SIZE);
                attributes.set(ValueLayout.JAVA_LONG, SA_DESCRIPTOR_OFFSET, descriptor);
                attributes.set(ValueLayout.JAVA_INT, SA_INHERIT_OFFSET, 0);
            } catch (PipeException | RuntimeException e) {
                if (converted != 0) {
                    // the system allocated it (LocalAlloc); nobody else would free it
                    api.localFree(api.newCapture(arena), converted);
                }
                arena.close();
                throw e;
            }
        }

        /** The {@code SECURITY_ATTRIBUTES*} for {@code CreateNamedPipeW}. */
        long attributes() {
            return attributes.address();
        }

        String sddl() {
            return sddl;
        }

        @Override
        public void close() {
            MemorySegment capture = api.newCapture(arena);
            api.localFree(capture, descriptor);
            arena.close();
        }
    }

    /** Builds the descriptor a server with {@code options} uses. */
    static Descriptor forServer(Win32Api api, PipeOptions options) throws PipeException {
        return new Descriptor(api, sddlFor(options, options.sddl() != null ? null : currentUserSid(api)));
    }

    /** The string SID of this process's token user, read once. */
    static String currentUserSid(Win32Api api) throws PipeException {
        KnownSid known = currentUserSid;
        if (known == null || known.api() != api) {
            String sid;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = api.newCapture(arena);
                sid = tokenUserSid(api, capture, arena, api.getCurrentProcess(), "current process");
            }
            known = new KnownSid(api, sid);
            currentUserSid = known;
        }
        return known.sid();
    }

    /** The string SID of the token user of the process {@code pid} (for the server-user check). */
    static String processUserSid(Win32Api api, int pid) throws PipeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = api.newCapture(arena);
            long process = api.openProcess(capture, Win32Api.PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
            if (process == 0) {
                throw WinError.exception("OpenProcess(" + pid + ")", api.lastError(capture));
            }
            try {
                return tokenUserSid(api, capture, arena, process, "process " + pid);
            } finally {
                api.closeHandle(capture, process);
            }
        }
    }

    private static String tokenUserSid(Win32Api api, MemorySegment capture, Arena arena, long process, String whose)
            throws PipeException {
        MemorySegment tokenOut = arena.allocate(ValueLayout.JAVA_LONG);
        if (api.openProcessToken(capture, process, TOKEN_QUERY, tokenOut.address()) == 0) {
            throw WinError.exception("OpenProcessToken(" + whose + ")", api.lastError(capture));
        }
        long token = tokenOut.get(ValueLayout.JAVA_LONG, 0);
        try {
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            api.getTokenInformation(capture, token, TOKEN_USER, 0L, 0, length.address()); // size query
            int size = length.get(ValueLayout.JAVA_INT, 0);
            if (size <= 0) {
                throw WinError.exception("GetTokenInformation(TokenUser) size", api.lastError(capture));
            }
            MemorySegment info = arena.allocate(size, 8);
            if (api.getTokenInformation(capture, token, TOKEN_USER, info.address(), size, length.address()) == 0) {
                throw WinError.exception("GetTokenInformation(TokenUser)", api.lastError(capture));
            }
            long sid = info.get(ValueLayout.JAVA_LONG, 0); // TOKEN_USER.User.Sid
            MemorySegment textOut = arena.allocate(ValueLayout.JAVA_LONG);
            if (api.convertSidToStringSidW(capture, sid, textOut.address()) == 0) {
                throw WinError.exception("ConvertSidToStringSidW", api.lastError(capture));
            }
            long text = textOut.get(ValueLayout.JAVA_LONG, 0);
            try {
                return wideString(text);
            } finally {
                api.localFree(capture, text);
            }
        } finally {
            api.closeHandle(capture, token);
        }
    }

    /** Reads a NUL-terminated UTF-16LE string at {@code address}. */
    static String wideString(long address) {
        MemorySegment s = MemorySegment.ofAddress(address).reinterpret(Integer.MAX_VALUE);
        int n = 0;
        while (s.get(ValueLayout.JAVA_CHAR_UNALIGNED, 2L * n) != 0) {
            n++;
        }
        return new String(s.asSlice(0, 2L * n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_16LE);
    }
}
