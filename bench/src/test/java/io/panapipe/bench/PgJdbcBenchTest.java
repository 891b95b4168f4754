package io.panapipe.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pgjdbc case end to end on a tiny budget: a real PostgreSQL, each peer's connection goes where
 * it says (Unix socket for Panapipe and junixsocket, TCP for the loopback peer), and the table has
 * a row and ratios for each.
 */
@DisabledOnOs(value = OS.WINDOWS, disabledReason = "PostgreSQL is started on a Unix socket")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PgJdbcBenchTest {
    @Test
    void threePeersAgainstOneRealServer() throws Exception {
        try (PgJdbcBench.Postgres pg = PgJdbcBench.Postgres.start()) {
            for (PgJdbcBench.Peer p : PgJdbcBench.peers(pg)) {
                try (Connection c = DriverManager.getConnection(p.url(), p.props());
                     Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT inet_server_addr()")) {
                    rs.next();
                    if (p.name().equals("tcp-loopback")) {
                        assertNotNull(rs.getString(1), "TCP peer is a TCP connection");
                    } else {
                        assertNull(rs.getString(1), p.name() + " is a Unix-socket connection");
                    }
                }
            }
            List<PgJdbcBench.Result> results = PgJdbcBench.run(pg, 2, 100, 100);
            Map<String, PgJdbcBench.Result> byPeer = PgJdbcBench.byPeer(results);
            assertEquals(List.of("panapipe", "tcp-loopback", "junixsocket"), List.copyOf(byPeer.keySet()));
            for (PgJdbcBench.Result r : results) {
                assertTrue(r.medianMicros() > 0 && r.medianMicros() < 1_000_000, r.toString());
                assertEquals(200, r.ops());
            }
            String table = PgJdbcBench.table(results);
            assertTrue(table.contains("| panapipe |") && table.contains("vs TCP loopback"), table);
        }
    }
}
