package io.panapipe.internal.windows;

import io.panapipe.PipeOptions;
import io.panapipe.bindings.windows._SECURITY_ATTRIBUTES;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** SDDL construction inputs; runs everywhere. */
class PipeSecurityTest {
    @Test
    void defaultGrantsOnlyTheGivenUserWithAProtectedDacl() {
        assertEquals("D:P(A;;GA;;;S-1-5-21-1004336348-1177238915-682003330-1001)",
                PipeSecurity.currentUserOnlySddl("S-1-5-21-1004336348-1177238915-682003330-1001"));
    }

    @Test
    void rejectsWhatIsNotAStringSid() {
        assertThrows(IllegalArgumentException.class, () -> PipeSecurity.currentUserOnlySddl(null));
        assertThrows(IllegalArgumentException.class, () -> PipeSecurity.currentUserOnlySddl("BA"));
        assertThrows(IllegalArgumentException.class, () -> PipeSecurity.currentUserOnlySddl("S-1"));
        // no ACE smuggling through the SID text
        assertThrows(IllegalArgumentException.class,
                () -> PipeSecurity.currentUserOnlySddl("S-1-5-21-1)(A;;GA;;;WD"));
    }

    @Test
    void anSddlOptionReplacesTheDefault() {
        String custom = "D:P(A;;GA;;;SY)(A;;GA;;;BA)";
        assertEquals(custom, PipeSecurity.sddlFor(PipeOptions.defaults().withSddl(custom), null));
        assertEquals("D:P(A;;GA;;;S-1-5-18)", PipeSecurity.sddlFor(PipeOptions.defaults(), "S-1-5-18"));
    }

    @Test
    void securityAttributesLayoutMatchesTheBindings() {
        assertEquals(_SECURITY_ATTRIBUTES.sizeof(), PipeSecurity.SECURITY_ATTRIBUTES_SIZE);
        assertEquals(_SECURITY_ATTRIBUTES.lpSecurityDescriptor$offset(), PipeSecurity.SA_DESCRIPTOR_OFFSET);
        assertEquals(_SECURITY_ATTRIBUTES.bInheritHandle$offset(), PipeSecurity.SA_INHERIT_OFFSET);
    }
}
