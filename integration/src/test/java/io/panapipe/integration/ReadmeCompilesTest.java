package io.panapipe.integration;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first five minutes: every {@code ```java} block of README.md and examples/README.md is a
 * whole compilation unit (imports included) and compiles, with all lint warnings as errors,
 * against panapipe-core and the client libraries the README shows (this module's test class path).
 */
class ReadmeCompilesTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("(?ms)^```java\\s*\\n(.*?)^```\\s*$");
    private static final Pattern PUBLIC_TYPE = Pattern.compile("(?m)^public\\s+(?:final\\s+)?(?:class|record|interface|enum)\\s+(\\w+)");

    static List<String> javaBlocks(Path markdown) throws IOException {
        String text = Files.readString(markdown);
        List<String> blocks = new ArrayList<>();
        Matcher m = JAVA_BLOCK.matcher(text);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    private static void compiles(String property) throws IOException {
        String file = System.getProperty(property);
        assertNotNull(file, "surefire sets " + property);
        Path markdown = Path.of(file);
        List<String> blocks = javaBlocks(markdown);
        assertFalse(blocks.isEmpty(), markdown + " has no ```java block");

        Path out = Files.createTempDirectory("readme-java");
        try {
            List<Path> sources = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                String block = blocks.get(i);
                Matcher type = PUBLIC_TYPE.matcher(block);
                assertTrue(type.find(), markdown.getFileName() + " block " + (i + 1)
                        + " is not a whole compilation unit (no public class):\n" + block);
                Path dir = Files.createDirectories(out.resolve("block" + (i + 1)));
                Path source = dir.resolve(type.group(1) + ".java");
                Files.writeString(source, block);
                sources.add(source);
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            assertNotNull(javac, "a JDK (not a JRE) runs the tests");
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
                List<String> options = List.of("--release", "22", "-Xlint:all", "-Werror",
                        "-proc:none", "-cp", System.getProperty("java.class.path"),
                        "-d", Files.createDirectories(out.resolve("classes")).toString());
                StringWriter log = new StringWriter();
                boolean ok = javac.getTask(log, files, diagnostics, options, null,
                        files.getJavaFileObjectsFromPaths(sources)).call();
                StringBuilder report = new StringBuilder();
                for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                    report.append(d.getKind()).append(' ')
                            .append(d.getSource() == null ? "" : Path.of(d.getSource().toUri()).getFileName())
                            .append(':').append(d.getLineNumber()).append(": ")
                            .append(d.getMessage(Locale.ROOT)).append('\n');
                }
                assertTrue(ok, markdown.getFileName() + "'s Java does not compile:\n" + report + log);
                assertEquals("", report.toString(), "javac had something to say");
            }
        } finally {
            ServerProcess.deleteTree(out);
        }
    }

    @Test
    void readmeJavaCompiles() throws IOException {
        compiles("panapipe.readme");
    }

    @Test
    void examplesReadmeJavaCompiles() throws IOException {
        compiles("panapipe.examples.readme");
    }
}
