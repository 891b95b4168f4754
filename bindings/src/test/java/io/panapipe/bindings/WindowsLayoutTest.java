package io.panapipe.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.panapipe.bindings.windows.ACCESS_ALLOWED_ACE;
import io.panapipe.bindings.windows.ACE_HEADER;
import io.panapipe.bindings.windows.ACL;
import io.panapipe.bindings.windows.OVERLAPPED;
import io.panapipe.bindings.windows.OVERLAPPED_ENTRY;
import io.panapipe.bindings.windows.SECURITY_ATTRIBUTES;
import io.panapipe.bindings.windows.SECURITY_DESCRIPTOR;
import io.panapipe.bindings.windows.SID;
import io.panapipe.bindings.windows.SID_AND_ATTRIBUTES;
import io.panapipe.bindings.windows.TOKEN_USER;
import io.panapipe.bindings.windows.WSABUF;
import io.panapipe.bindings.windows.WSAData;
import io.panapipe.bindings.windows.Win32;
import io.panapipe.bindings.windows._OVERLAPPED;
import io.panapipe.bindings.windows.in_addr;
import io.panapipe.bindings.windows.sockaddr_in;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Checks the Windows bindings against the documented Windows x64 ABI. Runs on every platform:
 * layouts and constants need no Windows libraries.
 */
class WindowsLayoutTest {

    @Test
    void cLongAndDwordAreFourBytes() {
        assertEquals(4, Win32.C_LONG.byteSize());
        assertEquals(ValueLayout.JAVA_INT, Win32.C_LONG);
        // OVERLAPPED_ENTRY.dwNumberOfBytesTransferred is a DWORD (unsigned long)
        assertEquals(4, OVERLAPPED_ENTRY.dwNumberOfBytesTransferred$layout().byteSize());
        assertEquals(4, SECURITY_ATTRIBUTES.nLength$layout().byteSize());
        assertEquals(8, Win32.C_POINTER.byteSize());
    }

    @Test
    void overlapped() {
        assertEquals(32, OVERLAPPED.sizeof());
        assertEquals(32, _OVERLAPPED.layout().byteSize());
        assertEquals(8, OVERLAPPED.layout().byteAlignment());
        assertEquals(0, OVERLAPPED.Internal$offset());
        assertEquals(8, OVERLAPPED.InternalHigh$offset());
        assertEquals(16, OVERLAPPED.Offset$offset());
        assertEquals(20, OVERLAPPED.OffsetHigh$offset());
        assertEquals(16, OVERLAPPED.Pointer$offset());
        assertEquals(24, OVERLAPPED.hEvent$offset());
        assertEquals(8, OVERLAPPED.Internal$layout().byteSize());
        assertEquals(4, OVERLAPPED.Offset$layout().byteSize());
    }

    @Test
    void overlappedAccessorsReadWhatTheyWrite() {
        MemorySegment ov = MemorySegment.ofArray(new long[4]);
        OVERLAPPED.Offset(ov, 0x11223344);
        OVERLAPPED.OffsetHigh(ov, 0x55667788);
        assertEquals(0x5566778811223344L, ov.get(ValueLayout.JAVA_LONG_UNALIGNED, 16));
        OVERLAPPED.Internal(ov, 0x103L);
        assertEquals(0x103L, ov.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
    }

    @Test
    void overlappedEntry() {
        assertEquals(32, OVERLAPPED_ENTRY.sizeof());
        assertEquals(0, OVERLAPPED_ENTRY.lpCompletionKey$offset());
        assertEquals(8, OVERLAPPED_ENTRY.lpOverlapped$offset());
        assertEquals(16, OVERLAPPED_ENTRY.Internal$offset());
        assertEquals(24, OVERLAPPED_ENTRY.dwNumberOfBytesTransferred$offset());
    }

    @Test
    void securityAttributes() {
        assertEquals(24, SECURITY_ATTRIBUTES.sizeof());
        assertEquals(0, SECURITY_ATTRIBUTES.nLength$offset());
        assertEquals(8, SECURITY_ATTRIBUTES.lpSecurityDescriptor$offset());
        assertEquals(16, SECURITY_ATTRIBUTES.bInheritHandle$offset());
    }

    @Test
    void securityStructs() {
        // SECURITY_DESCRIPTOR (absolute form): Revision, Sbz1, Control, then 4 pointers
        assertEquals(40, SECURITY_DESCRIPTOR.sizeof());
        assertEquals(2, SECURITY_DESCRIPTOR.Control$offset());
        assertEquals(8, SECURITY_DESCRIPTOR.Owner$offset());
        assertEquals(32, SECURITY_DESCRIPTOR.Dacl$offset());
        assertEquals(8, ACL.sizeof());
        assertEquals(4, ACE_HEADER.sizeof());
        assertEquals(12, ACCESS_ALLOWED_ACE.sizeof());
        assertEquals(4, ACCESS_ALLOWED_ACE.Mask$offset());
        assertEquals(8, ACCESS_ALLOWED_ACE.SidStart$offset());
        assertEquals(16, SID_AND_ATTRIBUTES.sizeof());
        assertEquals(8, SID_AND_ATTRIBUTES.Attributes$offset());
        assertEquals(16, TOKEN_USER.sizeof());
        assertEquals(12, SID.sizeof());
        assertEquals(8, SID.SubAuthority$offset());
    }

    @Test
    void winsockStructs() {
        assertEquals(16, WSABUF.sizeof());
        assertEquals(0, WSABUF.len$offset());
        assertEquals(4, WSABUF.len$layout().byteSize());
        assertEquals(8, WSABUF.buf$offset());
        assertEquals(16, sockaddr_in.sizeof());
        assertEquals(0, sockaddr_in.sin_family$offset());
        assertEquals(2, sockaddr_in.sin_port$offset());
        assertEquals(4, sockaddr_in.sin_addr$offset());
        assertEquals(4, in_addr.sizeof());
        assertEquals(408, WSAData.sizeof()); // Win64 order: lpVendorInfo before the strings
        assertEquals(8, WSAData.lpVendorInfo$offset());
        assertEquals(16, WSAData.szDescription$offset());
    }

    @Test
    void errorCodes() {
        assertEquals(0, Win32.ERROR_SUCCESS());
        assertEquals(2, Win32.ERROR_FILE_NOT_FOUND());
        assertEquals(5, Win32.ERROR_ACCESS_DENIED());
        assertEquals(6, Win32.ERROR_INVALID_HANDLE());
        assertEquals(87, Win32.ERROR_INVALID_PARAMETER());
        assertEquals(109, Win32.ERROR_BROKEN_PIPE());
        assertEquals(122, Win32.ERROR_INSUFFICIENT_BUFFER());
        assertEquals(231, Win32.ERROR_PIPE_BUSY());
        assertEquals(232, Win32.ERROR_NO_DATA());
        assertEquals(233, Win32.ERROR_PIPE_NOT_CONNECTED());
        assertEquals(234, Win32.ERROR_MORE_DATA());
        assertEquals(535, Win32.ERROR_PIPE_CONNECTED());
        assertEquals(536, Win32.ERROR_PIPE_LISTENING());
        assertEquals(995, Win32.ERROR_OPERATION_ABORTED());
        assertEquals(996, Win32.ERROR_IO_INCOMPLETE());
        assertEquals(997, Win32.ERROR_IO_PENDING());
        assertEquals(1168, Win32.ERROR_NOT_FOUND());
        assertEquals(0x103, Win32.STATUS_PENDING());
    }

    @Test
    void waitsAndPipes() {
        assertEquals(0, Win32.WAIT_OBJECT_0());
        assertEquals(258, Win32.WAIT_TIMEOUT());
        assertEquals(0xC0, Win32.WAIT_IO_COMPLETION());
        assertEquals(0x80, Win32.WAIT_ABANDONED());
        assertEquals(0xFFFFFFFF, Win32.WAIT_FAILED());
        assertEquals(0xFFFFFFFF, Win32.INFINITE());
        assertEquals(3, Win32.PIPE_ACCESS_DUPLEX());
        assertEquals(1, Win32.PIPE_ACCESS_INBOUND());
        assertEquals(2, Win32.PIPE_ACCESS_OUTBOUND());
        assertEquals(0, Win32.PIPE_TYPE_BYTE());
        assertEquals(4, Win32.PIPE_TYPE_MESSAGE());
        assertEquals(2, Win32.PIPE_READMODE_MESSAGE());
        assertEquals(8, Win32.PIPE_REJECT_REMOTE_CLIENTS());
        assertEquals(255, Win32.PIPE_UNLIMITED_INSTANCES());
        assertEquals(0x40000000, Win32.FILE_FLAG_OVERLAPPED());
        assertEquals(0x00080000, Win32.FILE_FLAG_FIRST_PIPE_INSTANCE());
        assertEquals(0x80000000, Win32.FILE_FLAG_WRITE_THROUGH());
        assertEquals(1, Win32.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS());
        assertEquals(2, Win32.FILE_SKIP_SET_EVENT_ON_HANDLE());
        assertEquals(0x00100000, Win32.SECURITY_SQOS_PRESENT());
        assertEquals(0x00010000, Win32.SECURITY_IDENTIFICATION());
        assertEquals(0x80000000, Win32.GENERIC_READ());
        assertEquals(0x40000000, Win32.GENERIC_WRITE());
        assertEquals(3, Win32.OPEN_EXISTING());
        assertEquals(-1L, Win32.INVALID_HANDLE_VALUE().address());
    }

    @Test
    void securityAndWinsockConstants() {
        assertEquals(8, Win32.TOKEN_QUERY());
        assertEquals(1, Win32.TokenUser());
        assertEquals(1, Win32.SDDL_REVISION_1());
        assertEquals(4, Win32.DACL_SECURITY_INFORMATION());
        assertEquals(997, Win32.WSA_IO_PENDING());
        assertEquals(1, Win32.WSA_FLAG_OVERLAPPED());
        assertEquals(0xFFFFFFFF, Win32.WSA_INFINITE());
        assertEquals(2, Win32.AF_INET());
        assertEquals(1, Win32.SOCK_STREAM());
        assertEquals(6, Win32.IPPROTO_TCP());
        assertEquals(0x7f000001, Win32.INADDR_LOOPBACK());
        assertEquals(-1L, Win32.INVALID_SOCKET());
        assertEquals(-1, Win32.SOCKET_ERROR());
        assertEquals(10035, Win32.WSAEWOULDBLOCK());
        assertEquals(10054, Win32.WSAECONNRESET());
        assertEquals(10061, Win32.WSAECONNREFUSED());
    }

    @Test
    void windowsLibrariesRefusesToLoadElsewhere() {
        if (!WindowsLibraries.isWindows()) {
            org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, WindowsLibraries::load);
            assertEquals(false, WindowsLibraries.isLoaded());
        }
    }
}
