package io.panapipe.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The registry of Java peers, by the names used in {@code @Param peer} and in the report. */
public final class Peers {
    private Peers() {}

    /** The C reference: not a {@link Transport}, run as an external process by {@link CReference}. */
    public static final String C = "c";

    /** Panapipe's own peers: ratios in the report are taken to the first of these present in a run. */
    public static final List<String> PANAPIPE = List.of("panapipe-epoll", "panapipe-uring", "panapipe-nio");

    private static final Map<String, Supplier<Transport>> ALL = new LinkedHashMap<>();
    static {
        ALL.put("panapipe-epoll", () -> new PanapipeTransport("panapipe-epoll", engineOf("panapipe-epoll")));
        ALL.put("panapipe-uring", () -> new PanapipeTransport("panapipe-uring", engineOf("panapipe-uring")));
        ALL.put("panapipe-nio", () -> new PanapipeTransport("panapipe-nio", engineOf("panapipe-nio")));
        ALL.put("jdk-nio", JdkNioTransport::new);
        ALL.put("junixsocket", () -> new JunixsocketTransport(false));
        ALL.put("junixsocket-channel", () -> new JunixsocketTransport(true));
        ALL.put("ipcsocket-jna", () -> new IpcsocketTransport(false));
        ALL.put("ipcsocket-jni", () -> new IpcsocketTransport(true));
    }

    /**
     * The Panapipe engine {@code peer} needs ({@code io_uring} or {@code nio}), or null for other peers.
     * A JVM runs one engine, chosen once: every JMH fork and harness child JVM of a Panapipe peer gets
     * {@code -Dpanapipe.engine=} this (see {@link #jvmArgs}).
     */
    public static String engineOf(String peer) {
        return switch (peer) {
            case "panapipe-epoll" -> "epoll";
            case "panapipe-uring" -> "io_uring";
            case "panapipe-nio" -> "nio";
            default -> null;
        };
    }

    /** The extra JVM arguments of a JVM that measures {@code peer}: the engine for Panapipe's, none for others. */
    public static List<String> jvmArgs(String peer) {
        String e = engineOf(peer);
        return e == null ? List.of() : List.of("-Dpanapipe.engine=" + e);
    }

    /** Names of all Java peers, in report order. */
    public static List<String> javaPeers() { return List.copyOf(ALL.keySet()); }

    /** A new adapter for {@code name}. */
    public static Transport of(String name) {
        Supplier<Transport> s = ALL.get(name);
        if (s == null) throw new IllegalArgumentException("unknown peer '" + name + "'; known: " + ALL.keySet());
        return s.get();
    }
}
