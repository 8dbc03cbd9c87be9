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
 * How long a node takes to catch up from a snapshot (issue 17): a 3-node cluster of real server
 * jars, one group. A follower is stopped; then the group's one pipeline is filled with {@code
 * records} queued batches through the other two, and the leader's log is purged up to its last
 * snapshot ({@code --raft-snapshot-every}). The follower is started again: what it lacks is no
 * longer in any log, so Ratis must send it the snapshot, then the few entries after it. Timed
 * from the process's start until its replica has applied the group's commit index and reports the
 * leader's signature.
 *
 * <p>Why not a node with an emptied data directory under the same id: Raft counts on a member
 * keeping what it acknowledged (it may have been part of a majority), so Ratis' leader never
 * sends such a node anything before its old match index, and the node stays behind for good (seen
 * here: "INCONSISTENCY reply with nextIndex 0" every few seconds). A node that lost its disk joins
 * as a new member (docs/cluster.md, "A node that lost its data").
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
      ClusterProcesses.Node behind = null;
      for (ClusterProcesses.Node n : cluster.nodes()) {
        if (n != leader) {
          behind = n;
        }
      }
      createPipeline(leader);
      cluster.kill(behind);
      long t0 = System.nanoTime();
      load(leader);
      say("catch-up: %s down; %,d queued batches written through %s in %.1f s", behind.id,
          records, leader.id, (System.nanoTime() - t0) / 1e9);
      // The leader may have moved meanwhile (the nodes hand a group to its preferred leader,
      // docs/cluster.md "Leaders spread over the nodes"): the purge to wait for is the leader's.
      ClusterGroupStatus before = awaitSnapshotAndPurge(cluster);
      leader = cluster.leaderOf(0);
      long snapshotBytes = newestSnapshotBytes(leader.dataDir);
      say("catch-up: the leader's snapshot is at index %,d (%,d bytes), its commit index %,d",
          before.getSnapshotIndex(), snapshotBytes, before.getCommitIndex());
      ClusterProcesses.Node fresh = behind;

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
      say("catch-up: %s started again, listening after %,d ms, applied index %,d after %,d ms;"
          + " signatures %s", fresh.id, r.startupMs(), r.appliedIndex(), r.catchUpMs(),
          agree ? "agree" : "DIFFER (or the leader moved on)");
      return r;
    }
  }

  private static void createPipeline(ClusterProcesses.Node leader) {
    OrchestratorServiceGrpc.newBlockingStub(leader.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .createPipeline(CreatePipelineRequest.newBuilder()
            .setSpec(Pipelines.spec(PIPELINE, 1)).build());
  }

  /** {@code records} batches of one record each, 1,000 per EnqueueBatches call, 8 calls at once. */
  private void load(ClusterProcesses.Node leader) throws Exception {
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
   * Waits until the leader has a snapshot within one interval of its commit index and its log
   * starts after the entries the stopped node has, so that node needs the snapshot.
   */
  private ClusterGroupStatus awaitSnapshotAndPurge(ClusterProcesses cluster)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    ClusterGroupStatus g = null;
    while (System.nanoTime() < deadline) {
      ClusterProcesses.Node leader = cluster.leaderOf(0);
      g = group(cluster.status(leader));
      if (g != null && g.getSnapshotIndex() > 0
          && g.getCommitIndex() - g.getSnapshotIndex() <= snapshotEvery
          && logStartIndex(leader.dataDir) > snapshotEvery) {
        return g;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("within 120 s the leader did not both take a snapshot near"
        + " its commit index and purge its log past the stopped node (Ratis purges only closed"
        + " 8 MiB segments: write more, e.g. --catch-up-records 500000): " + g);
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

  /**
   * The first index in the pipeline group's Raft log: the smallest start of its segment files,
   * which Ratis names {@code log_<first>-<last>} and {@code log_inprogress_<first>} under
   * {@code raft/<group>/current/}. Each group directory counts on its own and the largest start
   * wins: the node also holds the membership group (docs/cluster.md, "Membership"), whose few
   * entries are never purged and whose log starts at 0 (counted together, the purge was never
   * seen and the run failed after 120 s).
   */
  private static long logStartIndex(Path dataDir) {
    try (Stream<Path> groups = Files.list(dataDir.resolve("raft"))) {
      return groups.filter(Files::isDirectory).mapToLong(CatchUp::groupLogStart).max().orElse(0);
    } catch (IOException e) {
      return 0;
    }
  }

  private static long groupLogStart(Path groupDir) {
    try (Stream<Path> files = Files.walk(groupDir)) {
      return files.map(f -> f.getFileName().toString())
          .map(n -> n.startsWith("log_inprogress_") ? n.substring("log_inprogress_".length())
              : n.startsWith("log_") ? n.substring(4, n.indexOf('-') < 0 ? 4 : n.indexOf('-'))
              : "")
          .filter(n -> !n.isEmpty() && n.chars().allMatch(Character::isDigit))
          .mapToLong(Long::parseLong).min().orElse(0);
    } catch (IOException e) {
      return 0;
    }
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
