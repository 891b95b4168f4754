package io.panapipe.internal.windows;

import io.panapipe.PipeException;
import io.panapipe.bindings.windows.Win32;
import org.junit.jupiter.api.Test;

import static io.panapipe.internal.windows.WinError.ReadOutcome.CANCELLED;
import static io.panapipe.internal.windows.WinError.ReadOutcome.DATA;
import static io.panapipe.internal.windows.WinError.ReadOutcome.END_OF_STREAM;
import static io.panapipe.internal.windows.WinError.ReadOutcome.FAILURE;
import static io.panapipe.internal.windows.WinError.ReadOutcome.PARTIAL_MESSAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Error-code mapping: runs everywhere (no native call). */
class WinErrorTest {
    @Test
    void localConstantsMatchTheBindingsAndTheDocumentedValues() {
        assertEquals(Win32.ERROR_SUCCESS(), WinError.ERROR_SUCCESS);
        assertEquals(Win32.ERROR_FILE_NOT_FOUND(), WinError.ERROR_FILE_NOT_FOUND);
        assertEquals(Win32.ERROR_ACCESS_DENIED(), WinError.ERROR_ACCESS_DENIED);
        assertEquals(Win32.ERROR_INVALID_HANDLE(), WinError.ERROR_INVALID_HANDLE);
        assertEquals(Win32.ERROR_HANDLE_EOF(), WinError.ERROR_HANDLE_EOF);
        assertEquals(Win32.ERROR_BROKEN_PIPE(), WinError.ERROR_BROKEN_PIPE);
        assertEquals(Win32.ERROR_PIPE_BUSY(), WinError.ERROR_PIPE_BUSY);
        assertEquals(Win32.ERROR_NO_DATA(), WinError.ERROR_NO_DATA);
        assertEquals(Win32.ERROR_PIPE_NOT_CONNECTED(), WinError.ERROR_PIPE_NOT_CONNECTED);
        assertEquals(Win32.ERROR_MORE_DATA(), WinError.ERROR_MORE_DATA);
        assertEquals(Win32.WAIT_TIMEOUT(), WinError.WAIT_TIMEOUT);
        assertEquals(Win32.ERROR_PIPE_CONNECTED(), WinError.ERROR_PIPE_CONNECTED);
        assertEquals(Win32.ERROR_PIPE_LISTENING(), WinError.ERROR_PIPE_LISTENING);
        assertEquals(Win32.ERROR_ABANDONED_WAIT_0(), WinError.ERROR_ABANDONED_WAIT_0);
        assertEquals(Win32.ERROR_OPERATION_ABORTED(), WinError.ERROR_OPERATION_ABORTED);
        assertEquals(Win32.ERROR_IO_INCOMPLETE(), WinError.ERROR_IO_INCOMPLETE);
        assertEquals(Win32.ERROR_IO_PENDING(), WinError.ERROR_IO_PENDING);
        assertEquals(Win32.ERROR_NOT_FOUND(), WinError.ERROR_NOT_FOUND);
        assertEquals(Win32.WSA_IO_PENDING(), WinError.ERROR_IO_PENDING);
        assertEquals(Win32.WSAECONNRESET(), WinError.WSAECONNRESET);
        // documented values (winerror.h)
        assertEquals(231, WinError.ERROR_PIPE_BUSY);
        assertEquals(234, WinError.ERROR_MORE_DATA);
        assertEquals(535, WinError.ERROR_PIPE_CONNECTED);
        assertEquals(997, WinError.ERROR_IO_PENDING);
        assertEquals(3, WinError.ERROR_PATH_NOT_FOUND);
        assertEquals(230, WinError.ERROR_BAD_PIPE);
    }

    @Test
    void moreDataIsDataNotAnError() {
        assertEquals(PARTIAL_MESSAGE, WinError.classifyRead(234));
        assertEquals(DATA, WinError.classifyRead(0));
    }

    @Test
    void brokenNotConnectedAndNoDataOnReadAreEndOfStream() {
        assertEquals(END_OF_STREAM, WinError.classifyRead(109));
        assertEquals(END_OF_STREAM, WinError.classifyRead(233));
        assertEquals(END_OF_STREAM, WinError.classifyRead(232));
        assertEquals(END_OF_STREAM, WinError.classifyRead(38));
    }

    @Test
    void abortedIsCancelledAndTheRestFail() {
        assertEquals(CANCELLED, WinError.classifyRead(995));
        assertEquals(FAILURE, WinError.classifyRead(5));
        assertEquals(FAILURE, WinError.classifyRead(6));
        assertEquals(FAILURE, WinError.classifyRead(87));
    }

    @Test
    void busyAndAbsentClassification() {
        assertTrue(WinError.isBusy(231));
        assertFalse(WinError.isBusy(2));
        assertTrue(WinError.isAbsent(2));
        assertTrue(WinError.isAbsent(3));
        assertFalse(WinError.isAbsent(231));
        assertFalse(WinError.isAbsent(5));
        assertTrue(WinError.isPeerGone(109));
        assertTrue(WinError.isPeerGone(232));
        assertTrue(WinError.isPeerGone(233));
        assertFalse(WinError.isPeerGone(234));
    }

    @Test
    void engineClassifiesExceptionsByCode() {
        PipeException busy = WinError.exception("connect to \\\\.\\pipe\\x", 231);
        assertEquals(231, busy.nativeCode());
        assertEquals("ERROR_PIPE_BUSY", busy.symbolicName());
        assertTrue(busy.getMessage().contains("ERROR_PIPE_BUSY (231)"), busy.getMessage());
        assertTrue(busy.getMessage().contains("busy"), busy.getMessage());
        PipeException absent = WinError.exception("connect", 2);
        assertEquals("ERROR_FILE_NOT_FOUND", absent.symbolicName());
        assertTrue(absent.getMessage().contains("no server"), absent.getMessage());
    }

    @Test
    void namesUnknownCodesNumerically() {
        assertEquals("ERROR_NO_DATA", WinError.name(232));
        assertEquals("ERROR_4294967295", WinError.name(-1));
        assertEquals("ERROR_12345", WinError.name(12345));
    }

    @Test
    void trimsSystemText() {
        assertEquals("All pipe instances are busy", WinError.trimMessage("All pipe instances are busy.\r\n"));
    }
}
