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
    public static final List<String> PANAPIPE = List.of("panapipe-uring", "panapipe-nio");

    private static final Map<String, Supplier<Transport>> ALL = new LinkedHashMap<>();
    static {
        ALL.put("panapipe-uring", () -> new PanapipeTransport("panapipe-uring", "io_uring"));
        ALL.put("panapipe-nio", () -> new PanapipeTransport("panapipe-nio", "nio"));
        ALL.put("jdk-nio", JdkNioTransport::new);
        ALL.put("junixsocket", () -> new JunixsocketTransport(false));
        ALL.put("junixsocket-channel", () -> new JunixsocketTransport(true));
        ALL.put("ipcsocket-jna", () -> new IpcsocketTransport(false));
        ALL.put("ipcsocket-jni", () -> new IpcsocketTransport(true));
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
