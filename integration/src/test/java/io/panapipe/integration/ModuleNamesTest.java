package io.panapipe.integration;

import io.panapipe.PipeName;
import org.junit.jupiter.api.Test;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The published jars are named modules with the names the README gives (a module-path user writes
 * them into {@code requires} and {@code --enable-native-access}), exporting the public packages only.
 */
class ModuleNamesTest {
    private static ModuleDescriptor descriptorOf(Class<?> type) throws URISyntaxException {
        Path location = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<ModuleReference> found = ModuleFinder.of(location).findAll();
        assertEquals(1, found.size(), location + " holds one module");
        ModuleDescriptor d = found.iterator().next().descriptor();
        assertFalse(d.isAutomatic(), location + " has a module-info, not an automatic name");
        return d;
    }

    @Test
    void coreAndBindingsAreTheNamedModulesTheReadmeNames() throws Exception {
        ModuleDescriptor core = descriptorOf(PipeName.class);
        assertEquals("io.panapipe.core", core.name());
        Set<String> exports = core.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
        assertEquals(Set.of("io.panapipe", "io.panapipe.net", "io.panapipe.windows"), exports);
        assertTrue(core.requires().stream().anyMatch(r -> r.name().equals("io.panapipe.bindings")));

        ModuleDescriptor bindings = descriptorOf(io.panapipe.bindings.linux.Linux.class);
        assertEquals("io.panapipe.bindings", bindings.name());
    }
}
