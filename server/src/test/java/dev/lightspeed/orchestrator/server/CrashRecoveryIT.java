package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 in the middle of a concurrent load, several times over the same data directory: every
 * change a client got a reply for is there after the restart, nothing appears that no client
 * sent, every earlier pipeline keeps its signature, and the invariants hold. The server takes
 * snapshots from the log every few hundred records meanwhile, so a kill can land in the middle
 * of one, and the last round is killed only after one has been taken under its load.
 */
class CrashRecoveryIT {
  private static final int CLIENTS = 4;

  @TempDir Path dir;

  /** What the clients of one round sent and what the server confirmed. */
  private static final class Ledger {
    final Set<String> sent = ConcurrentHashMap.newKeySet();
    final Set<String> enqueued = ConcurrentHashMap.newKeySet();
    final Map<String, Integer> acked = new ConcurrentHashMap<>();
    final Set<String> failed = ConcurrentHashMap.newKeySet();
    final AtomicInteger actions = new AtomicInteger();
    final AtomicInteger replies = new AtomicInteger();
  }

  @Test
  void killMinusNine_atSeveralPoints_losesNothingAcknowledged() throws Exception {
    Path data = dir.resolve("data");
    Map<String, String> signatures = new HashMap<>();
    int[] killAfterReplies = {150, 400, 900};
    for (int round = 0; round < killAfterReplies.length; round++) {
      String pipeline = "crash-" + round;
      Ledger ledger = new Ledger();
      ServerProcess server = ServerProcess.start(
          dir, "--data-dir", data.toString(), "--snapshot-every", "200");
      ManagedChannel channel = channel(server);
      try {
        OrchestratorServiceBlockingStub stub = OrchestratorServiceGrpc.newBlockingStub(channel);
        // Earlier rounds' pipelines came back exactly as they were.
        for (var e : signatures.entrySet()) {
          assertThat(status(stub, e.getKey()).getSignature()).as(e.getKey()).isEqualTo(e.getValue());
        }
        createPipeline(stub, pipeline);
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
          int client = c;
          Thread t = new Thread(() -> drive(stub, pipeline, client, ledger), "client-" + c);
          clients.add(t);
          t.start();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean last = round == killAfterReplies.length - 1;
        while ((ledger.replies.get() < killAfterReplies[round]
                || (last && !server.log().contains("from the log")))
            && System.nanoTime() < deadline) {
          Thread.sleep(1);
        }
        if (last) {
          assertThat(server.log()).as("a snapshot from the log under load").contains("from the log");
        }
        assertThat(ledger.replies.get()).as("load reached the kill point").isGreaterThanOrEqualTo(killAfterReplies[round]);
        server.kill();
        for (Thread t : clients) {
          t.join(TimeUnit.SECONDS.toMillis(30));
          assertThat(t.isAlive()).as("client stops once the server is gone").isFalse();
        }
      } finally {
        channel.shutdownNow();
        server.kill();
      }

      ServerProcess restarted = ServerProcess.start(
          dir, "--data-dir", data.toString(), "--snapshot-every", "200");
      ManagedChannel channel2 = channel(restarted);
      try {
        OrchestratorServiceBlockingStub stub = OrchestratorServiceGrpc.newBlockingStub(channel2);
        verify(stub, pipeline, ledger);
        for (var e : signatures.entrySet()) {
          assertThat(status(stub, e.getKey()).getSignature()).as(e.getKey()).isEqualTo(e.getValue());
        }
        signatures.put(pipeline, status(stub, pipeline).getSignature());
      } finally {
        channel2.shutdownNow();
        restarted.close(); // graceful: also exercises the shutdown snapshot between rounds
      }
    }
  }

  /** One client: lifecycles on its own stage until the server goes away. */
  private static void drive(OrchestratorServiceBlockingStub stub, String pipeline, int client, Ledger ledger) {
    String stage = "s" + client;
    try {
      for (int i = 1; ; i++) {
        String key = "c" + client + "-" + i;
        ledger.sent.add(key);
        stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(pipeline)
            .setBatch(Batch.newBuilder().setKey(key).setStage(stage).setRecords(1)
                .setIdempotencyKey(key).setSequence(i))
            .build());
        ledger.enqueued.add(key);
        ledger.replies.incrementAndGet();
        var started = stub.startAvailable(StartAvailableRequest.newBuilder()
            .setPipeline(pipeline).addStages(stage).build());
        List<dev.lightspeed.orchestrator.v1.StartedBatch> batches = new ArrayList<>();
        started.forEachRemaining(r -> batches.add(r.getStarted()));
        ledger.replies.incrementAndGet();
        for (var s : batches) {
          String k = s.getBatch().getKey();
          if (k.hashCode() % 3 == 0 && s.getAttempt() == 1) {
            stub.failBatch(FailBatchRequest.newBuilder().setPipeline(pipeline).setKey(k)
                .setAttempt(s.getAttempt()).setReason("flaky sink").build());
            ledger.failed.add(k);
          } else {
            ProcessOutcome o = stub.ackBatch(AckBatchRequest.newBuilder().setPipeline(pipeline)
                .setKey(k).setAttempt(s.getAttempt()).build()).getOutcome();
            ledger.acked.put(k, o.getProcessed().getAttempt());
          }
          ledger.replies.incrementAndGet();
        }
        if (i % 25 == 0) {
          stub.applyAction(ApplyActionRequest.newBuilder().setPipeline(pipeline)
              .setAction(OperatorAction.newBuilder().setPause(OperatorAction.Pause.getDefaultInstance()))
              .build());
          stub.applyAction(ApplyActionRequest.newBuilder().setPipeline(pipeline)
              .setAction(OperatorAction.newBuilder().setResume(OperatorAction.Resume.getDefaultInstance()))
              .build());
          ledger.actions.addAndGet(2);
          ledger.replies.incrementAndGet();
        }
      }
    } catch (StatusRuntimeException gone) {
      // the server was killed: this client is done
    }
  }

  private static void verify(OrchestratorServiceBlockingStub stub, String pipeline, Ledger ledger) {
    GetStatusResponse status = status(stub, pipeline);
    assertThat(status.getValid()).as(status.getInvalidReason()).isTrue();
    Map<String, BatchView> live = new HashMap<>();
    String token = "";
    do {
      ListBatchesResponse page = stub.listBatches(ListBatchesRequest.newBuilder()
          .setPipeline(pipeline).setPageSize(1000).setPageToken(token).build());
      page.getBatchesList().forEach(b -> live.put(b.getBatch().getKey(), b));
      token = page.getNextPageToken();
    } while (!token.isEmpty());

    assertThat(ledger.sent).as("nothing appears that was never sent").containsAll(live.keySet());
    Set<String> confirmed = new HashSet<>(ledger.enqueued);
    confirmed.addAll(ledger.acked.keySet());
    for (String key : confirmed) {
      if (ledger.acked.containsKey(key)) {
        assertThat(live).as("acked batch %s is no longer live", key).doesNotContainKey(key);
        ProcessOutcome again = stub.ackBatch(AckBatchRequest.newBuilder().setPipeline(pipeline)
            .setKey(key).setAttempt(ledger.acked.get(key)).build()).getOutcome();
        assertThat(again.getProcessed().getBatchKey()).isEqualTo(key);
      } else if (!live.containsKey(key)) {
        // Acked, but the reply was lost with the server: the ack itself must be durable.
        ProcessOutcome done = stub.ackBatch(AckBatchRequest.newBuilder().setPipeline(pipeline)
            .setKey(key).build()).getOutcome();
        assertThat(done.hasProcessed()).as("enqueued batch %s is live or done", key).isTrue();
      }
    }
    for (String key : ledger.failed) {
      BatchView view = live.get(key);
      if (view != null) {
        assertThat(view.getAttempt()).as("failed batch %s kept its attempt", key).isGreaterThanOrEqualTo(1);
      }
    }
    int audit = stub.listAuditLog(ListAuditLogRequest.newBuilder().setPipeline(pipeline)
        .setPageSize(1000).build()).getEntriesCount();
    assertThat(audit).as("every acknowledged action is in the audit log").isGreaterThanOrEqualTo(ledger.actions.get());
  }

  private static GetStatusResponse status(OrchestratorServiceBlockingStub stub, String pipeline) {
    return stub.getStatus(GetStatusRequest.newBuilder().setPipeline(pipeline).build());
  }

  private static void createPipeline(OrchestratorServiceBlockingStub stub, String name) {
    PipelineSpec.Builder spec = PipelineSpec.newBuilder().setName(name)
        .setBoundary(Boundary.newBuilder().setMaxInFlight(64).setLeaseMs(600_000))
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(3).setInitialBackoffMs(0));
    for (int c = 0; c < CLIENTS; c++) {
      spec.addStages("s" + c).addConnectors(Connector.newBuilder().setName("src-" + c)
          .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE).setStage("s" + c));
    }
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec).build());
  }

  private static ManagedChannel channel(ServerProcess server) {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build();
  }
}
