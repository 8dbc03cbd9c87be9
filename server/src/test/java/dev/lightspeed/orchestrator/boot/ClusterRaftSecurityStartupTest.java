package dev.lightspeed.orchestrator.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.server.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What a cluster node refuses at start about its Raft traffic (docs/cluster.md, "Security of
 * Raft traffic"): plaintext Raft on a non-loopback address without --insecure, TLS without a CA
 * for the other nodes, and a certificate the other nodes would refuse. None of these binds a
 * socket when the node behaves; a node that wrongly started is caught by the time limit.
 */
class ClusterRaftSecurityStartupTest {
  @TempDir Path dir;
  private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "cluster-node-under-test");
    t.setDaemon(true);
    return t;
  });

  @AfterEach
  void stop() {
    runner.shutdownNow();
  }

  private record Run(int exit, String err) {}

  /** ServerMain as node n1 of a 3-node file whose n1 has {@code raftHost}, plus {@code flags}. */
  private Run node(String raftHost, String... flags) throws Exception {
    Path file = dir.resolve("cluster.json");
    Files.writeString(file, "{\"name\": \"sec\", \"groups\": 1, \"peers\": ["
        + "{\"id\": \"n1\", \"raftAddress\": \"" + raftHost + ":" + freePort()
        + "\", \"apiAddress\": \"127.0.0.1:" + freePort() + "\"},"
        + "{\"id\": \"n2\", \"raftAddress\": \"127.0.0.1:" + freePort()
        + "\", \"apiAddress\": \"127.0.0.1:" + freePort() + "\"},"
        + "{\"id\": \"n3\", \"raftAddress\": \"127.0.0.1:" + freePort()
        + "\", \"apiAddress\": \"127.0.0.1:" + freePort() + "\"}]}");
    List<String> args = new ArrayList<>(List.of("--cluster", file.toString(), "--node-id", "n1",
        "--data-dir", dir.resolve("data").toString()));
    args.addAll(List.of(flags));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      CommandLine cli = new CommandLine(new ServerMain());
      cli.setErr(new java.io.PrintWriter(System.err, true));
      Future<Integer> exit = runner.submit(() -> cli.execute(args.toArray(new String[0])));
      return new Run(exit.get(30, TimeUnit.SECONDS), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(original);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private String[] tls(TestCertificates.Issued cert, Path ca) {
    return new String[] {"--tls-cert", cert.certFile().toString(), "--tls-key",
        cert.keyFile().toString(), "--tls-client-ca", ca.toString()};
  }

  @Test
  void plaintextRaftOnANonLoopbackAddress_isRefused_namingTheFlagsToAdd() throws Exception {
    // 192.0.2.1 (TEST-NET-1): not loopback, and never bound since the node refuses first.
    Run r = node("192.0.2.1");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("refusing to run Raft on 192.0.2.1:")
        .contains("(the raftAddress of n1), which is not a loopback address, in plaintext")
        .contains("--tls-cert, --tls-key and --raft-tls-ca or --tls-client-ca")
        .contains("--insecure");
  }

  @Test
  void tlsWithoutAClientCa_isRefused() throws Exception {
    var ca = TestCertificates.authority(dir, "ca");
    var cert = TestCertificates.node(dir, ca, "n1");
    Run r = node("127.0.0.1", "--tls-cert", cert.certFile().toString(),
        "--tls-key", cert.keyFile().toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("a cluster node with --tls-cert needs a CA to check the other"
        + " nodes by: --raft-tls-ca FILE");
  }

  @Test
  void aCertificateThatDoesNotNameTheNode_isRefused() throws Exception {
    var ca = TestCertificates.authority(dir, "ca");
    Run r = node("127.0.0.1", tls(TestCertificates.node(dir, ca, "n9"), ca.certFile()));

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("does not name node 'n1'").contains("CN=n9")
        .contains("its CN or a DNS subjectAltName");
  }

  @Test
  void aCertificateForServersOnly_isRefused() throws Exception {
    var ca = TestCertificates.authority(dir, "ca");
    // CN=n1, but extended key usage serverAuth only: the other nodes would refuse it as a client.
    Run r = node("127.0.0.1", tls(TestCertificates.server(dir, ca, "n1"), ca.certFile()));

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("extended key usage without clientAuth");
  }

  @Test
  void aKeyOfAnotherCertificate_isRefused() throws Exception {
    var ca = TestCertificates.authority(dir, "ca");
    var n1 = TestCertificates.node(dir, ca, "n1");
    var other = TestCertificates.node(dir, ca, "n2");
    Run r = node("127.0.0.1", "--tls-cert", n1.certFile().toString(),
        "--tls-key", other.keyFile().toString(), "--tls-client-ca", ca.certFile().toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("is not the private key of the certificate in");
  }

  @Test
  void problem_isNoneOnLoopback_withMutualTls_orWithInsecure() throws Exception {
    assertThat(RaftSecurity.problem(options(), null, "n1", "127.0.0.1", "127.0.0.1:6001")).isNull();
    assertThat(RaftSecurity.problem(options("--insecure"), null, "n1", "10.0.0.1", "10.0.0.1:6001"))
        .isNull();
    assertThat(RaftSecurity.problem(
        options("--tls-cert", "c", "--tls-key", "k", "--tls-client-ca", "ca"), null,
        "n1", "10.0.0.1", "10.0.0.1:6001")).isNull();
    // --raft-tls-ca alone is a CA for the peers: the API needs no client certificates.
    assertThat(RaftSecurity.problem(options("--tls-cert", "c", "--tls-key", "k"), Path.of("ca"),
        "n1", "10.0.0.1", "10.0.0.1:6001")).isNull();
    assertThat(RaftSecurity.problem(options(), Path.of("ca"), "n1", "127.0.0.1",
        "127.0.0.1:6001")).contains("--raft-tls-ca needs --tls-cert and --tls-key");
    assertThat(RaftSecurity.problem(options(), null, "n1", "10.0.0.1", "10.0.0.1:6001"))
        .contains("refusing to run Raft on 10.0.0.1:6001");
    // --insecure does not make TLS without a CA usable: there is nothing to check peers by.
    assertThat(RaftSecurity.problem(options("--insecure", "--tls-cert", "c", "--tls-key", "k"),
        null, "n1", "127.0.0.1", "127.0.0.1:6001")).contains("--raft-tls-ca FILE")
        .contains("--tls-client-ca FILE");
  }

  private static ProductionOptions options(String... args) {
    ProductionOptions o = new ProductionOptions();
    new CommandLine(o).parseArgs(args);
    return o;
  }
}
