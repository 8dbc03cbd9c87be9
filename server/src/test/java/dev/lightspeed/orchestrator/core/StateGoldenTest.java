package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The snapshot bytes and the signature of a few fixed states, against files written by the code
 * as it was when they were made (src/test/resources/golden-state). Both encodings are promises:
 * a snapshot must be read by the next server, and equal states must keep equal signatures across
 * versions (SPEC: clients compare them). A refactoring of {@link StateCodec}, {@link
 * StateSignature} or {@link RememberedBatches} must leave every byte as it was.
 *
 * <p>A deliberate format change (a new snapshot format or signature version) regenerates the files:
 * {@code mvn -pl server test -Dtest=StateGoldenTest -Dgolden.update=true}, then review and commit
 * the difference with the change.
 */
class StateGoldenTest {
  private static final Path DIR = Path.of("src/test/resources/golden-state");

  @ParameterizedTest
  @ValueSource(strings = {"empty", "history-1", "history-2", "history-3", "history-7", "busy"})
  void snapshotBytesAndSignature_areTheRecordedOnes(String name) throws IOException {
    PipelineRuntime rt = state(name);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      rt.writeSnapshot(out);
    }
    // A large snapshot is kept as its digest: the proof is the same, the repository smaller.
    boolean large = bytes.size() > 32 * 1024;
    String snapshot = large
        ? sha256(bytes.toByteArray()) + " " + bytes.size() + "\n"
        : wrap(HexFormat.of().formatHex(bytes.toByteArray()));
    String signature = rt.queries().signature() + "\n";
    Path snapshotFile = DIR.resolve(name + (large ? ".snapshot.sha256" : ".snapshot.hex"));
    Path signatureFile = DIR.resolve(name + ".signature");
    if (Boolean.getBoolean("golden.update")) {
      Files.createDirectories(DIR);
      Files.writeString(snapshotFile, snapshot, StandardCharsets.US_ASCII);
      Files.writeString(signatureFile, signature, StandardCharsets.US_ASCII);
    }
    assertThat(rt.queries().valid()).isTrue();
    assertThat(snapshot).isEqualTo(Files.readString(snapshotFile, StandardCharsets.US_ASCII));
    assertThat(signature).isEqualTo(Files.readString(signatureFile, StandardCharsets.US_ASCII));
  }

  private static PipelineRuntime state(String name) {
    if (name.equals("empty")) {
      return PipelineRuntime.create(StateCodecTest.spec());
    }
    if (name.equals("busy")) {
      return busy();
    }
    // A whole random history of StateCodecTest: live batches in every state, retries, dead
    // letters, acked and cancelled batches, runs, audit entries, events.
    int seed = Integer.parseInt(name.substring("history-".length()));
    PipelineRuntime rt = PipelineRuntime.create(StateCodecTest.spec());
    for (Function<PipelineRuntime, String> op : StateCodecTest.randomOps(new Random(seed), 200)) {
      op.apply(rt);
    }
    return rt;
  }

  /**
   * Enough remembered batches that the remembered store grows its rows, its text and its indexes
   * several times; batch keys acked again (so older entries lose their ack slot), idempotency keys
   * of various lengths, a stage appended by an update, and some entries already forgotten.
   */
  private static PipelineRuntime busy() {
    PipelineSpec spec = StateCodecTest.spec().toBuilder().dedupWindowMs(60_000).build();
    PipelineRuntime rt = PipelineRuntime.create(spec);
    long now = 1_000;
    for (int round = 0; round < 3; round++) {
      if (round == 2) {
        rt.updatePipeline(List.of("stages", "connectors"),
            spec.toBuilder().stages("a", "b", "c")
                .connectors(List.of(Connector.of("src-a", ConnectorKind.SOURCE, "a"),
                    Connector.of("src-b", ConnectorKind.SOURCE, "b").withOrdered(true),
                    Connector.of("sink-b", ConnectorKind.SINK, "b")
                        .withDeadLetterDestination("dlq://b"),
                    Connector.of("src-c", ConnectorKind.SOURCE, "c")))
                .build(),
            now);
      }
      for (int i = 0; i < 150; i++) {
        String stage = round == 2 && i % 3 == 0 ? "c" : i % 2 == 0 ? "a" : "b";
        String idem = "idem-" + round + "-" + i + "-" + "x".repeat(i % 17);
        // Keys repeat across rounds: a later ack of the same key takes the ack over.
        rt.enqueueBatch(new Batch("key-" + (i % 60), stage, 1 + i % 30, 0, idem, 0), now);
        now += 7;
        if (i % 10 == 0) {
          // Gone without an ack: remembered by idempotency key only.
          rt.enqueueBatch(new Batch("cancelled-" + round + "-" + i, "a", 1, 0, "c" + idem, 0), now);
          rt.applyAction(new OperatorAction.CancelBatch("cancelled-" + round + "-" + i), now);
        }
        for (StartedBatch started : rt.startAvailable(now, 4, Set.of()).started()) {
          rt.ackBatch(started.batch().key(), started.attempt(), now);
        }
      }
      now += 35_000; // round 0 is forgotten during round 2
    }
    return rt;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** Lines of 64 hex digits, so that a difference shows where it is. */
  private static String wrap(String hex) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < hex.length(); i += 64) {
      out.append(hex, i, Math.min(hex.length(), i + 64)).append('\n');
    }
    return out.toString();
  }
}
