package io.panapipe.bench;

import io.panapipe.internal.Engines;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The registry of Java peers, by the names used in {@code @Param peer} and in the report. */
public final class Peers {
    private Peers() {}

    /** The C reference, blocking: not a {@link Transport}, run as an external process by {@link CReference}. */
    public static final String C = "c";

    /** The C reference, busy-polling ({@code MSG_DONTWAIT} loops): compare a spinning Java row with this. */
    public static final String C_SPIN = "c-spin";

    /**
     * Panapipe's own peers and the engine each runs ({@code -Dpanapipe.engine=}), in report order.
     * <b>Adding an engine's peer is one line here</b>: it then gets its adapter, its engine on every
     * fork and child JVM, the quick run's many/ and idle/ cases, a place in the report, and it becomes
     * the ratio reference when its engine is the default. Also name it in the {@code @Param peer}
     * lists of {@link RoundTripBench} and {@link StreamBench} (annotation values must be literals;
     * {@code PeersTest} fails until they match {@link #javaPeers()}).
     */
    private static final List<Map.Entry<String, String>> ENGINE_PEERS = List.of(
            Map.entry("panapipe-epoll", "epoll"),
            Map.entry("panapipe-uring", "io_uring"),
            Map.entry("panapipe-nio", "nio"));

    /** Panapipe's own peers, in report order. */
    public static final List<String> PANAPIPE = ENGINE_PEERS.stream().map(Map.Entry::getKey).toList();

    /** The JDK's own AF_UNIX channels: the peer the headline targets are stated against. */
    public static final String JDK = "jdk-nio";

    private static final Map<String, Supplier<Transport>> ALL = new LinkedHashMap<>();
    static {
        for (String p : PANAPIPE) ALL.put(p, () -> new PanapipeTransport(p, engineOf(p)));
        ALL.put(JDK, JdkNioTransport::new);
        ALL.put("junixsocket", () -> new JunixsocketTransport(false));
        ALL.put("junixsocket-channel", () -> new JunixsocketTransport(true));
        ALL.put("ipcsocket-jna", () -> new IpcsocketTransport(false));
        ALL.put("ipcsocket-jni", () -> new IpcsocketTransport(true));
    }

    /**
     * The Panapipe engine {@code peer} needs (e.g. {@code io_uring} or {@code nio}), or null for other peers.
     * A JVM runs one engine, chosen once: every JMH fork and harness child JVM of a Panapipe peer gets
     * {@code -Dpanapipe.engine=} this (see {@link #jvmArgs}).
     */
    public static String engineOf(String peer) {
        for (Map.Entry<String, String> e : ENGINE_PEERS) if (e.getKey().equals(peer)) return e.getValue();
        return null;
    }

    /** The Panapipe peer of {@code engine}, or null if no peer runs it. */
    public static String peerOfEngine(String engine) {
        for (Map.Entry<String, String> e : ENGINE_PEERS) if (e.getValue().equals(engine)) return e.getKey();
        return null;
    }

    /**
     * The Panapipe peer ratios are taken to: the one of {@code defaultEngine} (the engine a user gets
     * without asking, see {@link #main}), else the first of {@link #PANAPIPE}.
     */
    public static String reference(String defaultEngine) {
        String p = defaultEngine == null ? null : peerOfEngine(defaultEngine);
        return p != null ? p : PANAPIPE.get(0);
    }

    /** The peers of the headline cases (many/ and idle/ in the quick run): every Panapipe peer and the JDK. */
    public static List<String> headline() {
        List<String> l = new java.util.ArrayList<>(PANAPIPE);
        l.add(JDK);
        return List.copyOf(l);
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

    /** Prints {@code ENGINE <name>}: the engine this JVM picks on its own (run in a child JVM by {@link Main}). */
    public static void main(String[] args) {
        try {
            System.out.println("ENGINE " + Engines.get().name());
        } catch (Throwable e) {
            System.out.println("ENGINE ? " + Main.oneLine(e.toString()));
        }
        System.out.flush();
        Runtime.getRuntime().halt(0); // an engine's poller threads must not keep this JVM alive
    }
}
