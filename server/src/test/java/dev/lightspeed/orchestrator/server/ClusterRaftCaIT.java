package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.security.AuthInterceptor;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * {@code --raft-tls-ca} (docs/cluster.md, "Security of Raft traffic"): three server jars whose
 * Raft traffic is mutual TLS checked against the nodes' own CA, while the API is TLS without
 * client certificates and authenticates callers by token alone. Before the flag, a cluster node
 * with --tls-cert refused to start without --tls-client-ca, which made every API client present
 * a certificate.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterRaftCaIT {
  private static final String TOKEN = "raft-ca-it-token-0123456789abcdef";

  @TempDir Path dir;
  private final Map<String, Process> nodes = new LinkedHashMap<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    channels.forEach(ManagedChannel::shutdownNow);
    for (Process p : nodes.values()) {
      p.destroy();
    }
    for (Process p : nodes.values()) {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void raftIsMutualTlsWithTheNodesCa_whileApiClientsUseTlsAndATokenWithoutACertificate()
      throws Exception {
    String jar = System.getProperty("server.jar");
    var nodesCa = TestCertificates.authority(dir, "nodes-ca");
    Path tokens = Files.writeString(dir.resolve("tokens"), TOKEN + " admin,operator,reader it\n");
    Map<String, Integer> api = new LinkedHashMap<>();
    StringBuilder peers = new StringBuilder();
    for (int i = 1; i <= 3; i++) {
      api.put("n" + i, freePort());
      peers.append(i > 1 ? "," : "").append("{\"id\":\"n").append(i)
          .append("\",\"raftAddress\":\"127.0.0.1:").append(freePort())
          .append("\",\"apiAddress\":\"127.0.0.1:").append(api.get("n" + i)).append("\"}");
    }
    Path file = Files.writeString(dir.resolve("cluster.json"),
        "{\"name\":\"raft-ca\",\"groups\":2,\"peers\":[" + peers + "]}");
    Map<String, Path> logs = new LinkedHashMap<>();
    for (String id : api.keySet()) {
      var cert = TestCertificates.node(dir, nodesCa, id);
      Path log = dir.resolve(id + ".log");
      logs.put(id, log);
      nodes.put(id, new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
          "-jar", jar, "--cluster", file.toString(), "--node-id", id,
          "--data-dir", dir.resolve(id).toString(),
          "--tls-cert", cert.certFile().toString(), "--tls-key", cert.keyFile().toString(),
          "--raft-tls-ca", nodesCa.certFile().toString(), "--token-file", tokens.toString()))
          .redirectErrorStream(true).redirectOutput(log.toFile()).start());
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
          .contains("peers must hold a certificate of --raft-tls-ca");
    }

    // A client with no certificate: TLS trusting the nodes' CA, and the token.
    var n1 = stub("n1", api.get("n1"), nodesCa.certFile(), TOKEN);
    n1.createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(Fixtures.pipeline("orders", "extract")).build());
    // Replicated through Raft's mutual TLS: another node reads it (linearizable read).
    assertThat(stub("n3", api.get("n3"), nodesCa.certFile(), TOKEN)
        .getPipeline(GetPipelineRequest.newBuilder().setName("orders").build())
        .getPipeline().getName()).isEqualTo("orders");
    // The API still authenticates: no token, no call.
    assertThatThrownBy(() -> stub("n2", api.get("n2"), nodesCa.certFile(), null)
        .getPipeline(GetPipelineRequest.newBuilder().setName("orders").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  private OrchestratorServiceGrpc.OrchestratorServiceBlockingStub stub(
      String id, int port, Path ca, String token) throws IOException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port)
        .sslContext(GrpcSslContexts.forClient().trustManager(ca.toFile()).build())
        .overrideAuthority(id)
        .build();
    channels.add(channel);
    var stub = OrchestratorServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
    if (token == null) {
      return stub;
    }
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
