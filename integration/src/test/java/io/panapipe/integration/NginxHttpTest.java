package io.panapipe.integration;

import io.panapipe.PipeName;
import io.panapipe.net.PipeSocketFactory;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.EventListener;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SchemePortResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.HttpClientConnectionOperator;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.TimeValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * nginx (Debian's package) listening only on a Unix socket in a private temp dir, queried over
 * Panapipe by OkHttp 4 and Apache HttpClient 5 (classic), each given a {@link PipeSocketFactory}
 * and a plain {@code http://localhost/} URL.
 */
@DisabledOnOs(value = OS.WINDOWS, disabledReason = "the servers are started on Unix sockets; Windows is covered by core's tests")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NginxHttpTest {
    private static final String HELLO = "hello from nginx\n";

    private static Path dir;
    private static Path socket;
    private static ServerProcess nginx;
    private static byte[] big;

    @BeforeAll
    static void startNginx() throws Exception {
        dir = ServerProcess.tempDir("pp-nginx");
        socket = dir.resolve("nginx.sock");
        Path www = Files.createDirectories(dir.resolve("www/files"));
        big = new byte[1 << 20];
        new Random(42).nextBytes(big);
        Files.write(www.resolve("big.bin"), big);
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, """
                daemon off;
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 64; }
                http {
                    access_log off;
                    client_body_temp_path %1$s/tmp-body;
                    proxy_temp_path %1$s/tmp-proxy;
                    fastcgi_temp_path %1$s/tmp-fastcgi;
                    uwsgi_temp_path %1$s/tmp-uwsgi;
                    scgi_temp_path %1$s/tmp-scgi;
                    keepalive_timeout 60s;
                    keepalive_requests 1000;
                    server {
                        listen unix:%2$s;
                        default_type text/plain;
                        location = / { return 200 "%3$s"; }
                        location = /post { return 200 "posted\\n"; }
                        location /files/ { root %1$s/www; }
                    }
                }
                """.formatted(dir, socket, HELLO.replace("\n", "\\n")));
        Path program = ServerProcess.findProgram("nginx", List.of("nginx", "/usr/sbin/nginx"));
        nginx = ServerProcess.start("nginx", List.of(program.toString(), "-p", dir.toString(),
                "-e", dir.resolve("error.log").toString(), "-c", conf.toString()), dir);
        nginx.awaitReady(Duration.ofSeconds(30), () -> Files.exists(socket));
    }

    @AfterAll
    static void stopNginx() {
        if (nginx != null) {
            nginx.close();
        }
        ServerProcess.deleteTree(dir);
    }

    private static PipeSocketFactory factory() {
        return new PipeSocketFactory(PipeName.ofSocketPath(socket));
    }

    /** Counts the connections OkHttp opens (each one is a new PipeSocket connected to nginx). */
    static final class Connections extends EventListener {
        final AtomicInteger started = new AtomicInteger();
        final Set<Connection> acquired = ConcurrentHashMap.newKeySet();

        @Override
        public void connectStart(Call call, InetSocketAddress address, java.net.Proxy proxy) {
            started.incrementAndGet();
        }

        @Override
        public void connectionAcquired(Call call, Connection connection) {
            acquired.add(connection);
        }
    }

    @Test
    void okHttpGetsPageAndAMegabyteFile() throws Exception {
        OkHttpClient http = new OkHttpClient.Builder().socketFactory(factory()).build();
        try (Response r = http.newCall(new Request.Builder().url("http://localhost/").build()).execute()) {
            assertEquals(200, r.code());
            assertTrue(r.header("Server", "").startsWith("nginx"), "Server: " + r.header("Server"));
            assertEquals(HELLO, r.body().string());
        }
        try (Response r = http.newCall(new Request.Builder().url("http://localhost/files/big.bin").build()).execute()) {
            assertEquals(200, r.code());
            assertArrayEquals(big, r.body().bytes());
        }
        http.connectionPool().evictAll();
    }

    /**
     * OkHttp checks a pooled connection idle for 10 s or more before a non-GET request: it sets
     * SO_TIMEOUT to 1 ms and reads; only a {@link java.net.SocketTimeoutException} means "healthy".
     * Anything else makes it drop the connection and open a new one, which this test would count.
     */
    @Test
    void okHttpPoolHealthCheckKeepsTheIdleConnection() throws Exception {
        Connections events = new Connections();
        OkHttpClient http = new OkHttpClient.Builder().socketFactory(factory()).eventListener(events).build();
        Request get = new Request.Builder().url("http://localhost/").build();
        Request post = new Request.Builder().url("http://localhost/post")
                .post(RequestBody.create("x=1", MediaType.get("application/x-www-form-urlencoded"))).build();
        try (Response r = http.newCall(get).execute()) {
            assertEquals(HELLO, r.body().string());
        }
        Thread.sleep(10_500);   // past OkHttp's IDLE_CONNECTION_HEALTHY_NS (10 s)
        try (Response r = http.newCall(post).execute()) {
            assertEquals(200, r.code());
            assertEquals("posted\n", r.body().string());
        }
        try (Response r = http.newCall(get).execute()) {
            assertEquals(HELLO, r.body().string());
        }
        assertEquals(1, events.started.get(), "OkHttp opened a second connection: the health check failed");
        assertEquals(1, events.acquired.size());
        http.connectionPool().evictAll();
    }

    /** A connection manager whose sockets come from {@link PipeSocketFactory} (HttpClient 5.4 API). */
    static PoolingHttpClientConnectionManager pipeConnectionManager(PipeSocketFactory sockets, AtomicInteger created) {
        PoolingHttpClientConnectionManagerBuilder builder = new PoolingHttpClientConnectionManagerBuilder() {
            @Override
            protected HttpClientConnectionOperator createConnectionOperator(
                    SchemePortResolver schemePortResolver, DnsResolver dnsResolver, TlsSocketStrategy tls) {
                return new DefaultHttpClientConnectionOperator(proxy -> {
                    created.incrementAndGet();
                    return sockets.createSocket();
                }, schemePortResolver, dnsResolver, RegistryBuilder.<TlsSocketStrategy>create().build());
            }
        };
        // Validate a pooled connection before every reuse: HttpClient's stale check reads with a
        // 1 ms SO_TIMEOUT and keeps the connection only on SocketTimeoutException.
        return builder.setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setValidateAfterInactivity(TimeValue.ofMilliseconds(1)).build())
                .build();
    }

    @Test
    void apacheHttpClientReusesOneValidatedConnection() throws Exception {
        AtomicInteger created = new AtomicInteger();
        try (CloseableHttpClient http = HttpClients.custom()
                .setConnectionManager(pipeConnectionManager(factory(), created)).build()) {
            for (int i = 0; i < 5; i++) {
                String body = http.execute(new HttpGet("http://localhost/"), response -> {
                    assertEquals(200, response.getCode());
                    return EntityUtils.toString(response.getEntity(), StandardCharsets.UTF_8);
                });
                assertEquals(HELLO, body);
                Thread.sleep(20);   // past validateAfterInactivity: the next lease runs the stale check
            }
            byte[] file = http.execute(new HttpGet("http://localhost/files/big.bin"),
                    response -> EntityUtils.toByteArray(response.getEntity()));
            assertArrayEquals(big, file);
        }
        assertEquals(1, created.get(), "HttpClient opened more than one connection: the stale check failed");
    }

    @Test
    void aSocketFromTheFactoryTalksRawHttp() throws IOException {
        try (Socket s = factory().createSocket("localhost", 80)) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(reply.startsWith("HTTP/1.1 200"), reply);
            assertTrue(reply.endsWith(HELLO), reply);
        }
    }
}
