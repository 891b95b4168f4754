package io.panapipe.internal.windows;

import io.panapipe.ImpersonationLevel;
import io.panapipe.PipeMode;
import io.panapipe.PipeName;
import io.panapipe.PipeOptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CreateNamedPipeW / CreateFileW flag words, from documented values; runs everywhere. */
class PipeFlagsTest {
    private static final int FILE_FLAG_OVERLAPPED = 0x40000000;
    private static final int FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000;
    private static final int PIPE_ACCESS_DUPLEX = 0x3;
    private static final int PIPE_TYPE_MESSAGE = 0x4;
    private static final int PIPE_READMODE_MESSAGE = 0x2;
    private static final int PIPE_REJECT_REMOTE_CLIENTS = 0x8;
    private static final int SECURITY_SQOS_PRESENT = 0x00100000;

    @Test
    void openModeIsDuplexOverlappedAndFirstInstanceOnlyFirst() {
        assertEquals(PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE, PipeFlags.serverOpenMode(true));
        assertEquals(PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED, PipeFlags.serverOpenMode(false));
    }

    @Test
    void pipeModeFollowsModeAndRemoteClientOption() {
        PipeOptions d = PipeOptions.defaults();
        assertEquals(PIPE_REJECT_REMOTE_CLIENTS, PipeFlags.serverPipeMode(d)); // byte type+read mode, PIPE_WAIT are 0
        assertEquals(PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_REJECT_REMOTE_CLIENTS,
                PipeFlags.serverPipeMode(d.withMode(PipeMode.MESSAGE)));
        assertEquals(0, PipeFlags.serverPipeMode(d.withRejectRemoteClients(false)));
        assertEquals(PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE,
                PipeFlags.serverPipeMode(d.withMode(PipeMode.MESSAGE).withRejectRemoteClients(false)));
    }

    @Test
    void instancesBuffersAndBacklog() {
        PipeOptions d = PipeOptions.defaults();
        assertEquals(255, PipeFlags.maxInstances(d)); // PIPE_UNLIMITED_INSTANCES
        assertEquals(4, PipeFlags.maxInstances(d.withMaxInstances(4)));
        assertEquals(4, PipeFlags.backlogTarget(d));
        assertEquals(2, PipeFlags.backlogTarget(d.withMaxInstances(2)));
        assertEquals(1, PipeFlags.backlogTarget(d.withAcceptBacklog(1)));
        assertEquals(1, PipeFlags.backlogTarget(d.withMaxInstances(1).withAcceptBacklog(16)));
        PipeOptions b = d.withBufferSizes(1000, 2000);
        assertEquals(1000, PipeFlags.inBufferSize(b));
        assertEquals(2000, PipeFlags.outBufferSize(b));
    }

    @Test
    void clientFlagsCarrySqosWithTheImpersonationLevel() {
        PipeOptions d = PipeOptions.defaults();
        assertEquals(FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | 0x00010000, PipeFlags.clientFlags(d));
        assertEquals(0, PipeFlags.impersonation(ImpersonationLevel.ANONYMOUS));
        assertEquals(0x00010000, PipeFlags.impersonation(ImpersonationLevel.IDENTIFICATION));
        assertEquals(0x00020000, PipeFlags.impersonation(ImpersonationLevel.IMPERSONATION));
        assertEquals(0x00030000, PipeFlags.impersonation(ImpersonationLevel.DELEGATION));
        assertEquals(0x80000000 | 0x40000000, PipeFlags.clientAccess());
    }

    @Test
    void messageClientsSetMessageReadMode() {
        assertEquals(-1, PipeFlags.clientReadMode(PipeOptions.defaults()));
        assertEquals(PIPE_READMODE_MESSAGE, PipeFlags.clientReadMode(PipeOptions.defaults().withMode(PipeMode.MESSAGE)));
    }

    @Test
    void completionModesSkipPortAndEvent() {
        assertEquals(0x1 | 0x2, PipeFlags.completionModes());
    }

    @Test
    void pathValidation() {
        assertEquals("\\\\.\\pipe\\svc", PipeFlags.pipePath(PipeName.ofWindowsPath("\\\\.\\pipe\\svc")));
        assertTrue(PipeFlags.isLocalPipePath("\\\\.\\pipe\\svc"));
        assertTrue(PipeFlags.isLocalPipePath("\\\\.\\PIPE\\svc"));
        assertFalse(PipeFlags.isLocalPipePath("\\\\server\\pipe\\svc"));
        // a logical name is the same pipe everywhere (off Windows only the Windows model gets here)
        assertEquals("\\\\.\\pipe\\svc", PipeFlags.pipePath(PipeName.of("svc")));
        assertThrows(IllegalArgumentException.class,
                () -> PipeFlags.pipePath(PipeName.ofSocketPath(java.nio.file.Path.of("/tmp/x.sock"))));
        assertThrows(IllegalArgumentException.class, () -> PipeName.ofWindowsPath("\\\\.\\pipe\\" + "a".repeat(300)));
        assertThrows(IllegalArgumentException.class, () -> PipeName.ofWindowsPath("\\\\.\\pipe\\"));
        assertThrows(IllegalArgumentException.class, () -> PipeName.ofWindowsPath("C:\\pipe\\x"));
    }
}
