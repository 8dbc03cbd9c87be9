package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.cluster.RaftTls;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.grpc.ClusterEntries;
import dev.lightspeed.orchestrator.grpc.ProtoMapper;
import dev.lightspeed.orchestrator.grpc.Reads;
import dev.lightspeed.orchestrator.replication.GroupState;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutual TLS between cluster nodes (docs/cluster.md, "Security of Raft traffic"): three real
 * nodes on loopback, each with a certificate of one CA naming its node id. They replicate as in
 * plaintext; a plain Ratis client with a certificate of another CA, or of the right CA naming no
 * node, or in plaintext, cannot submit to them; and a node does not talk to a server at a peer's
 * address whose certificate names no node.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterRaftTlsTest extends ClusterTestBase {
  private Path certs;
  private TestCertificates.Authority ca;
  private final Map<String, TestCertificates.Issued> nodeCerts = new HashMap<>();

  @BeforeEach
  void certificates() throws Exception {
    certs = Files.createDirectories(dataDirs.resolve("certs"));
    ca = TestCertificates.authority(certs, "cluster-ca");
    for (String id : new String[] {"n1", "n2", "n3"}) {
      nodeCerts.put(id, TestCertificates.node(certs, ca, id));
    }
    raftTls = id -> {
      try {
        return RaftTls.load(layout, id, nodeCerts.get(id).certFile(),
            nodeCerts.get(id).keyFile(), ca.certFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
  }

  @Test
  void threeNodesWithMutualTlsReplicateWritesAndEveryReplicaReachesTheSameSignature()
      throws Exception {
    startCluster(2);
    stub("n1").createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "extract")).build());
    stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build());
    stub("n3").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b2", "extract", 2)).build());

    String signature = status("n1").getSignature();
    for (String node : nodes.keySet()) {
      assertThat(status(node).getSignature()).as("GetStatus through %s", node)
          .isEqualTo(signature);
    }
    int group = layout.placement().groupOf("orders");
    for (String node : nodes.keySet()) {
      GroupState replica =
          (GroupState) nodes.get(node).host().node().stateMachine(group).state();
      awaitTrue("replica " + node + " applies both enqueues", () -> {
        try {
          return Reads.getStatus(replica.registry().get("orders")).getSignature()
              .equals(signature);
        } catch (RuntimeException notYetCreated) {
          return false;
        }
      });
    }
  }

  /**
   * AddClusterNode under mutual Raft TLS, the other nodes not restarted: the change's lock entry
   * names the joining node, so every node's check accepts its certificate before its groups
   * change (docs/cluster.md, "Adding a node under mutual TLS"). Without that, the members refuse
   * it ("the address is no raftAddress of cluster 'test'") and the add fails.
   */
  @Test
  @Timeout(180)
  void aNodeIsAddedUnderMutualTlsWithoutRestartingTheOthers() throws Exception {
    startCluster(4);
    dev.lightspeed.orchestrator.cluster.ClusterLayout three = layout;
    dev.lightspeed.orchestrator.v1.ClusterPeer n4 = dev.lightspeed.orchestrator.v1.ClusterPeer
        .newBuilder().setId("n4").setRaftAddress("127.0.0.1:" + freePort())
        .setApiAddress("127.0.0.1:" + freePort()).build();
    java.util.List<dev.lightspeed.orchestrator.v1.ClusterPeer> peers =
        new java.util.ArrayList<>(three.config().getPeersList());
    peers.add(n4);
    dev.lightspeed.orchestrator.cluster.ClusterLayout four = three.withPeers(peers);
    String onN4 = null;
    for (int i = 0; onN4 == null; i++) {
      if (four.placement().membersOf(four.placement().groupOf("p" + i)).contains("n4")) {
        onN4 = "p" + i;
      }
    }
    stub("n1").createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline(onN4, "extract")).build());
    stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline(onN4).setBatch(batch("b1", "extract", 1)).build());

    nodeCerts.put("n4", TestCertificates.node(certs, ca, "n4"));
    layout = four; // n4's own file (and so its check) lists every node
    startNode(four, "n4", ServerSettings.defaults(), null, true);
    var added = stub("n2").addClusterNode(
        dev.lightspeed.orchestrator.v1.AddClusterNodeRequest.newBuilder().setPeer(n4).build());
    assertThat(added.getPeersList()).extracting(p -> p.getId())
        .containsExactly("n1", "n2", "n3", "n4");

    stub("n3").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline(onN4).setBatch(batch("b2", "extract", 2)).build());
    String pipelineOnN4 = onN4;
    String signature = stub("n1").getStatus(GetStatusRequest.newBuilder()
        .setPipeline(pipelineOnN4).build()).getSignature();
    int group = four.placement().groupOf(pipelineOnN4);
    GroupState replica =
        (GroupState) nodes.get("n4").host().node().stateMachine(group).state();
    awaitTrue("n4's replica has both enqueues", () -> {
      try {
        return Reads.getStatus(replica.registry().get(pipelineOnN4)).getSignature()
            .equals(signature);
      } catch (RuntimeException notYetCreated) {
        return false;
      }
    });
  }

  @Test
  void aRaftClientWithoutTheCertificateOfANodeCannotSubmit() throws Exception {
    startCluster(1);
    Path elsewhere = Files.createDirectories(dataDirs.resolve("other-certs"));
    TestCertificates.Authority otherCa = TestCertificates.authority(elsewhere, "other-ca");
    // (a) another CA's certificate, naming a node of the file
    TestCertificates.Issued foreign = TestCertificates.node(elsewhere, otherCa, "n1");
    // (b) the cluster's CA, naming no node (an API client's certificate would look like this)
    TestCertificates.Issued stranger = TestCertificates.node(certs, ca, "intruder");

    String refusedA = refusedLog(() -> assertThat(submitCreate("by-foreign",
        tls(foreign))).as("another CA's certificate").isFalse());
    String refusedB = refusedLog(() -> assertThat(submitCreate("by-stranger",
        tls(stranger))).as("the right CA, naming no node").isFalse());
    // Logged once per process (then every 10 minutes): this is the only plaintext peer here.
    String refusedC = refusedLog(() -> assertThat(submitCreate("by-plaintext", null))
        .as("plaintext").isFalse());

    for (String name : new String[] {"by-foreign", "by-stranger", "by-plaintext"}) {
      for (String node : nodes.keySet()) {
        assertPipelineMissing(node, name);
      }
    }
    assertThat(refusedA).contains("Raft peer refused (incoming)")
        .contains("fails the TLS checks (signed by a CA of --tls-client-ca, dates, key usage, host)");
    assertThat(refusedB).contains("Raft peer refused (incoming)").contains("CN=intruder")
        .contains("names no node of cluster 'test' [n1, n2, n3]");
    assertThat(refusedC).contains("event=raft_peer_refused plaintext=true direction=incoming")
        .contains("a gRPC client spoke plaintext to this node's mutual-TLS Raft port");

    // The same client with a node's certificate is admitted: the refusals above are the
    // certificates', not the client's.
    assertThat(submitCreate("by-node", tls(nodeCerts.get("n2")))).isTrue();
    assertThat(stub("n1").getPipeline(GetPipelineRequest.newBuilder().setName("by-node").build())
        .getPipeline().getName()).isEqualTo("by-node");
  }

  @Test
  void aNodeDoesNotTalkToAServerAtAPeersAddressWhoseCertificateNamesNoNode() throws Exception {
    startCluster(1);
    String n3Raft = layout.config().getPeers(2).getRaftAddress();
    int port = Integer.parseInt(n3Raft.substring(n3Raft.lastIndexOf(':') + 1));
    nodes.remove("n3").stop();

    // An impostor at n3's address, with a certificate of the cluster's CA naming no node.
    TestCertificates.Issued stranger = TestCertificates.node(certs, ca, "intruder");
    AtomicInteger completed = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    try (SSLServerSocket impostor = impostor(stranger, port)) {
      Thread acceptor = new Thread(() -> {
        while (!impostor.isClosed()) {
          try (SSLSocket s = (SSLSocket) impostor.accept()) {
            try {
              s.startHandshake();
              // TLS 1.3: the server's handshake ends when the client's Finished arrives,
              // which the client sends only after it accepted the server's certificate.
              completed.incrementAndGet();
            } catch (IOException handshakeRefused) {
              refused.incrementAndGet();
            }
          } catch (SocketException closed) {
            return;
          } catch (IOException e) {
            refused.incrementAndGet();
          }
        }
      }, "impostor");
      acceptor.setDaemon(true);
      String log = refusedLog(() -> {
        acceptor.start();
        // n1 and n2 still make a majority, and their leader keeps dialing n3's address.
        untilAccepted("a write through n1 without n3", () -> stub("n1").createPipeline(
            CreatePipelineRequest.newBuilder().setSpec(pipeline("orders", "extract")).build()));
        awaitTrue("the nodes dial n3's address three times", () -> refused.get() >= 3
            || completed.get() > 0);
      });
      assertThat(completed.get()).as("handshakes the nodes completed with the impostor")
          .isZero();
      assertThat(log).contains("Raft peer refused (dialing " + n3Raft + ")")
          .contains("does not name node 'n3'");
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private GetStatusResponse status(String node) {
    return stub(node).getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build());
  }

  private void assertPipelineMissing(String node, String name) {
    try {
      stub(node).getPipeline(GetPipelineRequest.newBuilder().setName(name).build());
      throw new AssertionError("pipeline " + name + " exists on " + node);
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }
  }

  /** A client's side of mutual TLS with {@code cert}, trusting the cluster's CA. */
  private GrpcTlsConfig tls(TestCertificates.Issued cert) {
    return new GrpcTlsConfig(cert.keyFile().toFile(), cert.certFile().toFile(),
        ca.certFile().toFile(), true);
  }

  /**
   * A plain Ratis client (not the nodes' GroupClient) submitting a CreatePipeline entry to the
   * group of {@code name}, as a node would; whether the group accepted it.
   */
  private boolean submitCreate(String name, GrpcTlsConfig tls) throws IOException {
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    Parameters parameters = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(parameters, tls);
    }
    byte[] entry = ClusterEntries.entry(name, System.currentTimeMillis(),
        new Command.CreatePipeline(ProtoMapper.toCore(pipeline(name, "extract").build())),
        (byte) 0);
    try (RaftClient client = RaftClient.newBuilder()
        .setProperties(properties)
        .setParameters(parameters)
        .setRaftGroup(layout.raftGroup(layout.placement().groupOf(name)))
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            20, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
        .build()) {
      RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(entry)));
      return reply.isSuccess();
    } catch (IOException refused) {
      return false;
    }
  }

  private interface Action {
    void run() throws Exception;
  }

  /** What the nodes logged (stderr) while {@code action} ran. */
  private static String refusedLog(Action action) throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(original);
    }
    String log = err.toString(StandardCharsets.UTF_8);
    original.print(log);
    return log;
  }

  private static SSLServerSocket impostor(TestCertificates.Issued cert, int port)
      throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("impostor", cert.key(), new char[0],
        new java.security.cert.X509Certificate[] {cert.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, new char[0]);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(kmf.getKeyManagers(), null, null);
    SSLServerSocket socket = (SSLServerSocket) context.getServerSocketFactory()
        .createServerSocket(port, 50, InetAddress.getLoopbackAddress());
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setApplicationProtocols(new String[] {"h2"});
    socket.setSSLParameters(parameters);
    return socket;
  }
}
