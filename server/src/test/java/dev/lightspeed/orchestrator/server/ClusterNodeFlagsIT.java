package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real cluster node processes (the server jar, {@code --cluster}) started as an operator
 * would, each with {@code --config examples/pipelines.json}, {@code --metrics-port} and {@code
 * --http-port}: every node serves, the file's pipelines exist once for the whole cluster, each
 * node's dashboard port answers the page's JSON calls, and each node's {@code /metrics} has the
 * pipelines of its replicas and its groups' Raft state. Before, a cluster node refused
 * {@code --config} and {@code --http-port} at start (exit 2).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterNodeFlagsIT {
  @TempDir Path dir;
  private final Map<String, Process> nodes = new LinkedHashMap<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void stop() throws InterruptedException {
    for (Process p : nodes.values()) {
      p.destroy(); // SIGTERM: a graceful stop
    }
    for (Process p : nodes.values()) {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void nodesStartedWithConfigMetricsAndDashboardServeAllThree() throws Exception {
    String jar = System.getProperty("server.jar");
    Path config = Path.of(System.getProperty("user.dir")).resolve("../examples/pipelines.json")
        .normalize();
    assertThat(config).exists();
    StringBuilder peers = new StringBuilder();
    Map<String, int[]> ports = new LinkedHashMap<>(); // api, metrics, http
    for (int i = 1; i <= 3; i++) {
      int[] p = {freePort(), freePort(), freePort()};
      ports.put("n" + i, p);
      peers.append(i > 1 ? "," : "").append("{\"id\":\"n").append(i)
          .append("\",\"raftAddress\":\"127.0.0.1:").append(freePort())
          .append("\",\"apiAddress\":\"127.0.0.1:").append(p[0]).append("\"}");
    }
    Path file = Files.writeString(dir.resolve("cluster.json"),
        "{\"name\":\"it\",\"groups\":4,\"peers\":[" + peers + "]}");
    Map<String, Path> logs = new LinkedHashMap<>();
    for (var e : ports.entrySet()) {
      Path log = dir.resolve(e.getKey() + ".log");
      logs.put(e.getKey(), log);
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
          "-jar", jar, "--cluster", file.toString(), "--node-id", e.getKey(),
          "--data-dir", dir.resolve(e.getKey()).toString(), "--config", config.toString(),
          "--metrics-port", Integer.toString(e.getValue()[1]),
          "--http-port", Integer.toString(e.getValue()[2])));
      nodes.put(e.getKey(), new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (var e : logs.entrySet()) {
      while (!Files.readString(e.getValue()).contains("event=cluster_node_listening")) {
        Process p = nodes.get(e.getKey());
        if (!p.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError(e.getKey() + " did not start (exit "
              + (p.isAlive() ? "none" : p.exitValue()) + "):\n" + Files.readString(e.getValue()));
        }
        Thread.sleep(50);
      }
      assertThat(Files.readString(e.getValue())).as(e.getKey())
          .contains("event=config_applied").contains("event=http_listening")
          .contains("event=metrics_listening");
    }
    for (var e : ports.entrySet()) {
      String base = "http://127.0.0.1:" + e.getValue()[2]
          + "/lightspeed.orchestrator.v1.OrchestratorService/";
      HttpResponse<String> listed = post(base + "ListPipelines", "{}");
      assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
      assertThat(listed.body()).as(e.getKey()).contains("\"name\":\"orders\"")
          .contains("\"name\":\"clickstream\"");
      HttpResponse<String> status = post(base + "GetStatus", "{\"pipeline\":\"orders\"}");
      assertThat(status.statusCode()).as(status.body()).isEqualTo(200);

      String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + e.getValue()[1] + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).as(e.getKey()).contains("lightspeed_pipelines 2.0")
          .contains("lightspeed_pipeline_queued_batches{pipeline=\"orders\"}")
          .contains("lightspeed_raft_is_leader{group=\"0\"}")
          .contains("lightspeed_raft_commit_index{group=\"3\"}");
    }
  }

  private HttpResponse<String> post(String url, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
