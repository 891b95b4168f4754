package io.panapipe.integration;

import io.panapipe.net.PipeSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PostgreSQL (Debian's server, started here by initdb + postgres on a private Unix socket with no
 * TCP listener) through pgjdbc's {@code socketFactory} / {@code socketFactoryArg} connection
 * properties: the driver instantiates {@link PipeSocketFactory} reflectively with the socket path
 * and connects its socket to a resolved {@code localhost:5432}, which the socket ignores.
 */
@DisabledOnOs(value = OS.WINDOWS, disabledReason = "the servers are started on Unix sockets; Windows is covered by core's tests")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PostgresJdbcTest {
    static final int PORT = 5432;

    private static Path dir;
    private static ServerProcess postgres;
    private static Path socket;

    /** Starts a throw-away cluster; also used by the benchmark's pgjdbc case. */
    @BeforeAll
    static void startPostgres() throws Exception {
        dir = ServerProcess.tempDir("pp-pg");
        Path data = dir.resolve("data");
        Path initdb = ServerProcess.findProgram("PostgreSQL (initdb)", ServerProcess.postgresPrograms("initdb"));
        Path server = ServerProcess.findProgram("PostgreSQL (postgres)", ServerProcess.postgresPrograms("postgres"));
        ServerProcess.run("initdb", List.of(initdb.toString(), "-D", data.toString(), "-U", "postgres",
                "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"), dir, Duration.ofSeconds(120));
        postgres = ServerProcess.start("postgres", List.of(server.toString(), "-D", data.toString(),
                "-k", dir.toString(), "-p", String.valueOf(PORT), "-c", "listen_addresses=",
                "-c", "fsync=off", "-c", "unix_socket_permissions=0777", "-c", "max_connections=20"), dir);
        socket = dir.resolve(".s.PGSQL." + PORT);
        postgres.awaitReady(Duration.ofSeconds(30), () -> Files.exists(socket) && canQuery());
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
        ServerProcess.deleteTree(dir);
    }

    private static boolean canQuery() {
        try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
            return s.execute("SELECT 1");
        } catch (SQLException e) {
            return false;   // still starting up ("the database system is starting up")
        }
    }

    /** A pgjdbc connection over Panapipe, configured only through the driver's own properties. */
    static Connection connect(Properties extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("sslmode", "disable");
        p.setProperty("socketFactory", PipeSocketFactory.class.getName());
        p.setProperty("socketFactoryArg", socket.toString());
        p.setProperty("connectTimeout", "10");
        p.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://localhost:" + PORT + "/postgres", p);
    }

    @Test
    void selectOneOverTheUnixSocket() throws Exception {
        try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1, inet_server_addr(), current_setting('listen_addresses')")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
                // NULL server address: the backend sees a Unix-domain connection, not TCP
                assertNull(rs.getString(2));
                // and the server has no TCP listener at all
                assertEquals("", rs.getString(3));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND client_addr IS NULL AND client_port = -1")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1), "pg_stat_activity shows this backend as a Unix-socket client");
            }
        }
    }

    @Test
    void tablesAndAMegabyteOfDataBothWays() throws Exception {
        String big = "x".repeat(1 << 20);
        try (Connection c = connect(new Properties())) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE t (id int PRIMARY KEY, body text)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?, ?)")) {
                for (int i = 0; i < 200; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, i == 0 ? big : "row " + i);
                    ps.addBatch();
                }
                assertEquals(200, ps.executeBatch().length);
            }
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT body, (SELECT count(*) FROM t), (SELECT sum(id) FROM t) FROM t WHERE id = 0")) {
                assertTrue(rs.next());
                assertEquals(big, rs.getString(1));
                assertEquals(200, rs.getInt(2));
                assertEquals(199 * 200 / 2, rs.getInt(3));
            }
            c.commit();
        }
    }

    @Test
    void socketTimeoutSurfacesAsTheDriversTimeout() throws Exception {
        Properties p = new Properties();
        p.setProperty("socketTimeout", "1");   // seconds: pgjdbc sets SO_TIMEOUT on our socket
        try (Connection c = connect(p); Statement s = c.createStatement()) {
            long t0 = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> s.execute("SELECT pg_sleep(5)"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms >= 900 && ms < 4_500, "timed out after " + ms + " ms");
            assertTrue(hasCause(e, SocketTimeoutException.class), "cause chain: " + e);
            // pgjdbc closes a connection whose read timed out
            assertTrue(c.isClosed());
        }
        // the server is fine, and new connections work
        try (Connection c = connect(new Properties()); Statement s = c.createStatement()) {
            assertFalse(c.isClosed());
            assertTrue(s.execute("SELECT 2"));
        }
    }

    static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
