package io.panapipe.bindings;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.panapipe.bindings.linux.Linux;
import io.panapipe.bindings.windows.Win32;
import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every top-level generated class (header class, its shared base, structs, unions, typedefs and
 * callbacks) must initialize on any platform, without the native libraries of the other one.
 * Nested function holders are left alone: they look their symbol up when they initialize.
 */
class GeneratedClassesLoadTest {

    @ParameterizedTest
    @ValueSource(classes = {Win32.class, Linux.class})
    void everyTopLevelClassInitializes(Class<?> header) throws Exception {
        List<String> names = topLevelClassNames(header);
        assertTrue(names.size() > 10, "found only " + names);
        for (String name : names) {
            Class<?> c = Class.forName(name, true, header.getClassLoader());
            // Struct, union and typedef classes expose their layout; evaluate it.
            for (Method m : c.getMethods()) {
                if (m.getName().equals("layout") && m.getParameterCount() == 0
                        && Modifier.isStatic(m.getModifiers())) {
                    MemoryLayout layout = (MemoryLayout) m.invoke(null);
                    assertTrue(layout.byteSize() >= 0);
                }
            }
        }
    }

    private static List<String> topLevelClassNames(Class<?> header) throws IOException, URISyntaxException {
        Path dir = Path.of(header.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve(header.getPackageName().replace('.', '/'));
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(f -> f.endsWith(".class"))
                    .map(f -> f.substring(0, f.length() - ".class".length()))
                    .filter(n -> !n.contains("$") || n.endsWith("$shared"))
                    .map(n -> header.getPackageName() + "." + n)
                    .sorted()
                    .toList();
        }
    }
}
