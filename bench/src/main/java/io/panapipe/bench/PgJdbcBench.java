package io.panapipe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * pgjdbc {@code SELECT 1} round trips against one local PostgreSQL, three ways in one run: over
 * Panapipe ({@code socketFactory=io.panapipe.net.PipeSocketFactory}, the server's Unix socket),
 * over TCP loopback (127.0.0.1, the driver's own sockets), and over junixsocket's
 * {@code AFUNIXSocketFactory$FactoryArg} (the same Unix socket). One connection per peer, one
 * prepared statement; rounds alternate between the peers so that machine noise hits all alike.
 *
 * <p>The server is started here (initdb + postgres in a temp dir, as an unprivileged user when
 * run as root, killed at the end). Run with {@code ./run pgjdbc [rounds] [opsPerRound]}.
 */
public final class PgJdbcBench {
    static final String IT_USER = System.getenv().getOrDefault("PANAPIPE_IT_USER", "panapipe-it");

    /** One peer: a name and the JDBC properties that route the driver's socket. */
    record Peer(String name, String url, Properties props) {
    }

    /** µs per round trip (median of the rounds) and process CPU µs per round trip. */
    record Result(String peer, double medianMicros, double minMicros, double cpuMicros, long ops) {
    }

    private PgJdbcBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int opsPerRound = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        try (Postgres pg = Postgres.start()) {
            List<Result> results = run(pg, rounds, opsPerRound, 2_000);
            System.out.println(table(results));
        }
    }

    static List<Peer> peers(Postgres pg) {
        List<Peer> l = new ArrayList<>();
        l.add(new Peer("panapipe", pg.url(), pg.props(Map.of("socketFactory", "io.panapipe.net.PipeSocketFactory",
                "socketFactoryArg", pg.socket().toString()))));
        l.add(new Peer("tcp-loopback", "jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres", pg.props(Map.of())));
        l.add(new Peer("junixsocket", pg.url(), pg.props(Map.of(
                "socketFactory", "org.newsclub.net.unix.AFUNIXSocketFactory$FactoryArg",
                "socketFactoryArg", pg.socket().toString()))));
        return l;
    }

    /** Runs {@code rounds} interleaved rounds of {@code opsPerRound} round trips per peer, after a warm-up. */
    static List<Result> run(Postgres pg, int rounds, int opsPerRound, int warmupOps) throws SQLException {
        List<Peer> peers = peers(pg);
        List<Connection> conns = new ArrayList<>();
        List<PreparedStatement> stmts = new ArrayList<>();
        try {
            for (Peer p : peers) {
                Connection c = DriverManager.getConnection(p.url(), p.props());
                conns.add(c);
                stmts.add(c.prepareStatement("SELECT 1"));
            }
            for (PreparedStatement s : stmts) {
                roundTrips(s, warmupOps);
            }
            double[][] perOp = new double[peers.size()][rounds];
            long[] cpu = new long[peers.size()];
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < peers.size(); i++) {
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    roundTrips(stmts.get(i), opsPerRound);
                    long t = System.nanoTime() - t0;
                    cpu[i] += os.getProcessCpuTime() - c0;
                    perOp[i][r] = t / 1_000.0 / opsPerRound;
                }
            }
            List<Result> results = new ArrayList<>();
            for (int i = 0; i < peers.size(); i++) {
                double[] v = perOp[i].clone();
                Arrays.sort(v);
                double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
                long ops = (long) rounds * opsPerRound;
                results.add(new Result(peers.get(i).name(), median, v[0], cpu[i] / 1_000.0 / ops, ops));
            }
            return results;
        } finally {
            for (Connection c : conns) {
                c.close();
            }
        }
    }

    private static void roundTrips(PreparedStatement s, int n) throws SQLException {
        for (int k = 0; k < n; k++) {
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next() || rs.getInt(1) != 1) {
                    throw new IllegalStateException("SELECT 1 did not return 1");
                }
            }
        }
    }

    /** The Markdown table: µs per round trip, ratios to TCP loopback and to junixsocket. */
    static String table(List<Result> results) {
        double tcp = results.stream().filter(r -> r.peer().equals("tcp-loopback")).findFirst().orElseThrow().medianMicros();
        double junix = results.stream().filter(r -> r.peer().equals("junixsocket")).findFirst().orElseThrow().medianMicros();
        StringBuilder b = new StringBuilder();
        b.append("pgjdbc SELECT 1 round trip (µs, median of rounds; lower is better)\n\n");
        b.append("| peer | µs/op (median) | µs/op (best round) | vs TCP loopback | vs junixsocket | process CPU µs/op |\n");
        b.append("|---|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2fx | %.2fx | %.2f |%n", r.peer(),
                    r.medianMicros(), r.minMicros(), r.medianMicros() / tcp, r.medianMicros() / junix, r.cpuMicros()));
        }
        b.append(String.format(Locale.ROOT, "%n%d round trips per peer; ratios are this row / that row (below 1.00x = faster).%n",
                results.get(0).ops()));
        return b.toString();
    }

    /** A throw-away PostgreSQL cluster: a Unix socket in a temp dir and TCP on 127.0.0.1:port. */
    static final class Postgres implements AutoCloseable {
        private final Path dir;
        private final int port;
        private final Process process;

        private Postgres(Path dir, int port, Process process) {
            this.dir = dir;
            this.port = port;
            this.process = process;
        }

        Path socket() {
            return dir.resolve(".s.PGSQL." + port);
        }

        int port() {
            return port;
        }

        String url() {
            return "jdbc:postgresql://localhost:" + port + "/postgres";
        }

        Properties props(Map<String, String> extra) {
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            p.setProperty("sslmode", "disable");
            p.setProperty("connectTimeout", "10");
            p.putAll(extra);
            return p;
        }

        static boolean root() {
            return "root".equals(System.getProperty("user.name"));
        }

        static List<String> asServerUser(List<String> command) {
            if (!root()) {
                return command;
            }
            List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=" + IT_USER, "--regid=" + IT_USER,
                    "--clear-groups", "--"));
            c.addAll(command);
            return c;
        }

        static Path program(String name) throws IOException {
            Path root = Path.of("/usr/lib/postgresql");
            if (Files.isDirectory(root)) {
                try (Stream<Path> versions = Files.list(root)) {
                    var found = versions.map(v -> v.resolve("bin").resolve(name)).filter(Files::isExecutable)
                            .max(Comparator.comparing(p -> p.getParent().getParent().getFileName().toString(),
                                    Comparator.comparingInt(s -> s.matches("\\d+") ? Integer.parseInt(s) : 0)));
                    if (found.isPresent()) {
                        return found.get();
                    }
                }
            }
            for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                Path p = Path.of(d, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
            throw new IllegalStateException("PostgreSQL's " + name + " is not installed (Debian: apt-get install postgresql; "
                    + "./test installs it through scripts/integration-deps.sh)");
        }

        static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            }
        }

        static Postgres start() throws IOException, InterruptedException {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "pp-pgbench",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if (root()) {
                UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
                PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
                view.setOwner(users.lookupPrincipalByName(IT_USER));
                view.setGroup(users.lookupPrincipalByGroupName(IT_USER));
            }
            Path data = dir.resolve("data");
            Path log = dir.resolve("postgres.log");
            Process init = new ProcessBuilder(asServerUser(List.of(program("initdb").toString(), "-D", data.toString(),
                    "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")))
                    .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("initdb.log").toFile()).start();
            if (!init.waitFor(120, TimeUnit.SECONDS) || init.exitValue() != 0) {
                init.destroyForcibly();
                throw new IllegalStateException("initdb failed: " + Files.readString(dir.resolve("initdb.log")));
            }
            int port = freePort();
            Process pg = new ProcessBuilder(asServerUser(List.of(program("postgres").toString(), "-D", data.toString(),
                    "-k", dir.toString(), "-p", String.valueOf(port), "-c", "listen_addresses=127.0.0.1",
                    "-c", "fsync=off", "-c", "unix_socket_permissions=0777")))
                    .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Postgres p = new Postgres(dir, port, pg);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!p.ready()) {
                if (!pg.isAlive() || System.nanoTime() > deadline) {
                    p.close();
                    throw new IllegalStateException("postgres did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
            return p;
        }

        private boolean ready() {
            if (!Files.exists(socket())) {
                return false;
            }
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                    props(Map.of())); Statement s = c.createStatement()) {
                return s.execute("SELECT 1");
            } catch (SQLException e) {
                return false;
            }
        }

        @Override
        public void close() {
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            children.forEach(ProcessHandle::destroyForcibly);
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // leave it
            }
        }
    }

    /** For callers that want the numbers, not the table. */
    static Map<String, Result> byPeer(List<Result> results) {
        Map<String, Result> m = new LinkedHashMap<>();
        results.forEach(r -> m.put(r.peer(), r));
        return m;
    }
}
