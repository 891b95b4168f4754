package io.panapipe.internal.windows;

import io.panapipe.internal.Engines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Off Windows the engine says why it cannot run, without touching a Windows library. */
@DisabledOnOs(OS.WINDOWS)
class IocpAvailabilityTest {
    @Test
    void explainsItselfOffWindows() {
        String why = IocpEngine.unavailableReason();
        assertTrue(why != null && why.contains("Windows"), why);
        assertThrows(IllegalStateException.class, IocpEngine::instance);
        assertThrows(IllegalStateException.class, () -> Engines.choose("iocp"));
    }
}
