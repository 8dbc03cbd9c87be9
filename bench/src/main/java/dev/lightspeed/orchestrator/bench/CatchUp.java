package dev.lightspeed.orchestrator.bench;

import static dev.lightspeed.orchestrator.bench.LoadGenerator.say;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * How long a new node takes to catch up from a snapshot (issue 17): a 3-node cluster of real server
 * jars, one group, whose one pipeline holds {@code records} queued batches; a follower is killed,
 * its data directory deleted (a replacement machine), and started again empty. The leader's log
 * was purged up to its last snapshot ({@code --raft-snapshot-every}), so Ratis must send the
 * snapshot, then the few entries after it. Timed from the new process's start until its replica
 * has applied the group's commit index and reports the leader's signature.
 */
final class CatchUp {
  private static final String PIPELINE = "catch-up";
  private static final int ITEMS_PER_CALL = 1_000;
  private static final int CALLS_IN_FLIGHT = 8;

  record Result(long records, long entries, long snapshotIndex, long snapshotBytes,
      long startupMs, long catchUpMs, long appliedIndex, boolean signaturesAgree) {}

  private final Path serverJar;
  private final List<String> jvm;
  private final Path dir;
  private final long records;
  private final long snapshotEvery;

  CatchUp(Path serverJar, List<String> jvm, Path dir, long records, long snapshotEvery) {
    this.serverJar = serverJar;
    this.jvm = jvm;
    this.dir = dir;
    this.records = records;
    this.snapshotEvery = snapshotEvery;
  }

  Result run() throws Exception {
    try (ClusterProcesses cluster = new ClusterProcesses(serverJar, jvm, dir, 3, 1,
        List.of("--raft-snapshot-every", Long.toString(snapshotEvery)))) {
      cluster.startAll();
      ClusterProcesses.Node leader = cluster.leaderOf(0);
      long t0 = System.nanoTime();
      load(leader);
      say("catch-up: %,d queued batches written through %s in %.1f s", records, leader.id,
          (System.nanoTime() - t0) / 1e9);

      ClusterProcesses.Node fresh = null;
      for (ClusterProcesses.Node n : cluster.nodes()) {
        if (n != leader) {
          fresh = n;
        }
      }
      cluster.kill(fresh);
      LoadGenerator.deleteTree(fresh.dataDir);
      ClusterGroupStatus before = awaitSnapshotAndPurge(cluster, leader);
      long snapshotBytes = newestSnapshotBytes(leader.dataDir);
      say("catch-up: %s killed and its data deleted; the leader's snapshot is at index %,d"
          + " (%,d bytes), its commit index %,d", fresh.id, before.getSnapshotIndex(),
          snapshotBytes, before.getCommitIndex());

      long start = System.nanoTime();
      cluster.start(fresh);
      long listening = System.nanoTime();
      ClusterGroupStatus caughtUp = awaitApplied(cluster, fresh, before.getCommitIndex());
      long done = System.nanoTime();
      ClusterGroupStatus leaderNow = group(cluster.status(leader));
      boolean agree = leaderNow != null
          && leaderNow.getAppliedIndex() == caughtUp.getAppliedIndex()
          && leaderNow.getSignature().equals(caughtUp.getSignature());
      Result r = new Result(records, before.getCommitIndex(), before.getSnapshotIndex(),
          snapshotBytes, TimeUnit.NANOSECONDS.toMillis(listening - start),
          TimeUnit.NANOSECONDS.toMillis(done - start), caughtUp.getAppliedIndex(), agree);
      say("catch-up: %s started empty, listening after %,d ms, applied index %,d after %,d ms;"
          + " signatures %s", fresh.id, r.startupMs(), r.appliedIndex(), r.catchUpMs(),
          agree ? "agree" : "DIFFER (or the leader moved on)");
      return r;
    }
  }

  /** {@code records} batches of one record each, 1,000 per EnqueueBatches call, 8 calls at once. */
  private void load(ClusterProcesses.Node leader) throws Exception {
    OrchestratorServiceGrpc.OrchestratorServiceBlockingStub blocking =
        OrchestratorServiceGrpc.newBlockingStub(leader.channel);
    blocking.withDeadlineAfter(30, TimeUnit.SECONDS).createPipeline(CreatePipelineRequest
        .newBuilder().setSpec(Pipelines.spec(PIPELINE, 1)).build());
    OrchestratorServiceGrpc.OrchestratorServiceFutureStub async =
        OrchestratorServiceGrpc.newFutureStub(leader.channel);
    Semaphore inFlight = new Semaphore(CALLS_IN_FLIGHT);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    for (long first = 0; first < records && failure.get() == null; first += ITEMS_PER_CALL) {
      EnqueueBatchesRequest.Builder call = EnqueueBatchesRequest.newBuilder().setPipeline(PIPELINE);
      for (long i = first; i < Math.min(records, first + ITEMS_PER_CALL); i++) {
        call.addBatches(Batch.newBuilder().setKey("b" + i).setIdempotencyKey("b" + i)
            .setStage(Pipelines.stage(0))
            .setRecords(1));
      }
      inFlight.acquire();
      Futures.addCallback(async.withDeadlineAfter(60, TimeUnit.SECONDS)
          .enqueueBatches(call.build()), new FutureCallback<EnqueueBatchesResponse>() {
            @Override
            public void onSuccess(EnqueueBatchesResponse reply) {
              reply.getResultsList().stream().filter(item -> item.hasError()).findFirst()
                  .ifPresent(item -> failure.compareAndSet(null,
                      new IllegalStateException("item refused: " + item.getError())));
              inFlight.release();
            }

            @Override
            public void onFailure(Throwable t) {
              failure.compareAndSet(null, t);
              inFlight.release();
            }
          }, MoreExecutors.directExecutor());
    }
    inFlight.acquire(CALLS_IN_FLIGHT);
    if (failure.get() != null) {
      throw new IllegalStateException("loading the batches failed", failure.get());
    }
  }

  /**
   * Waits until the leader has a snapshot within one interval of its commit index: from then on
   * its log starts after the entries a new node lacks, so the node needs the snapshot.
   */
  private ClusterGroupStatus awaitSnapshotAndPurge(ClusterProcesses cluster,
      ClusterProcesses.Node leader) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    ClusterGroupStatus g = null;
    while (System.nanoTime() < deadline) {
      g = group(cluster.status(leader));
      if (g != null && g.getSnapshotIndex() > 0
          && g.getCommitIndex() - g.getSnapshotIndex() <= snapshotEvery) {
        return g;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the leader took no snapshot within 120 s: " + g);
  }

  private static ClusterGroupStatus awaitApplied(ClusterProcesses cluster,
      ClusterProcesses.Node node, long index) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
    ClusterGroupStatus g = null;
    while (System.nanoTime() < deadline) {
      g = group(cluster.status(node));
      if (g != null && g.getAppliedIndex() >= index) {
        return g;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException(node.id + " did not catch up within 600 s: " + g);
  }

  private static ClusterGroupStatus group(GetClusterStatusResponse status) {
    return status == null || status.getGroupsCount() == 0 ? null : status.getGroups(0);
  }

  /** The size of the newest snapshot file (Ratis keeps them under {@code raft/<group>/sm/}). */
  private static long newestSnapshotBytes(Path dataDir) throws IOException {
    try (Stream<Path> files = Files.walk(dataDir.resolve("raft"))) {
      return files.filter(Files::isRegularFile)
          .filter(f -> f.getParent().getFileName().toString().equals("sm"))
          .filter(f -> f.getFileName().toString().startsWith("snapshot.")
              && !f.getFileName().toString().endsWith(".md5"))
          .max((a, b) -> Long.compare(a.toFile().lastModified(), b.toFile().lastModified()))
          .map(f -> f.toFile().length()).orElse(-1L);
    }
  }
}
