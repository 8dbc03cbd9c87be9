package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.journal.FaultyFiles;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent clients against a durable server on loopback while the disk under its journal and
 * snapshots misbehaves (slow or failing writes and fsyncs, a full disk), with a power loss that
 * drops every byte not fsynced at the end of every life. Pairs of clients send the same enqueue at
 * once, and both ack what one of them started, so that deduplicated and repeated replies race the
 * fsync of the change they repeat; calls that time out are retried as a client's retry policy
 * does. After each restart, every change that got an OK must be there.
 *
 * <p>Bounded: {@code -Dlightspeed.faults.seconds} (default 15) of lives; run longer with e.g.
 * {@code mvn -pl server test -Dtest=CrashWithFaultsTest -Dlightspeed.faults.seconds=600}.
 */
class CrashWithFaultsTest {
  private static final long SECONDS = Long.getLong("lightspeed.faults.seconds", 15);
  private static final int PAIRS = 3;
  private static final int MAX_LIVES = 10_000;

  enum Fault { NONE, SLOW_WRITES, SLOW_FSYNCS, FAILED_FSYNC, FAILED_WRITE, DISK_FULL }

  @TempDir Path dir;

  /** Every enqueue that got OK (its sequence, to send it again) and every ack that got OK. */
  private final Map<String, Batch> enqueued = new ConcurrentHashMap<>();
  private final Set<String> acked = ConcurrentHashMap.newKeySet();
  private final AtomicLong okReplies = new AtomicLong();

  @Test
  void everyOkSurvives_crashesAndDiskFaults() throws Exception {
    long seed = Long.getLong("lightspeed.faults.seed", System.nanoTime());
    Random random = new Random(seed);
    Map<Fault, Integer> injected = new EnumMap<>(Fault.class);
    long[] fileOps = new long[6];
    AtomicLong[] sequences = new AtomicLong[PAIRS];
    for (int p = 0; p < PAIRS; p++) {
      sequences[p] = new AtomicLong();
    }
    String[] stages = new String[PAIRS];
    for (int p = 0; p < PAIRS; p++) {
      stages[p] = "s" + p;
    }
    FaultyDisk disk = new FaultyDisk(FaultyDisk.options(dir).withSnapshotEveryRecords(3_000));
    try {
      disk.start();
      disk.stub.createPipeline(
          CreatePipelineRequest.newBuilder().setSpec(pipeline("p", stages)).build());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
      int lives = 0;
      long checkedEnqueues = 0;
      long checkedAcks = 0;
      List<String> lost = new ArrayList<>();
      while (System.nanoTime() < deadline && lives < MAX_LIVES) {
        lives++;
        Fault fault = Fault.values()[random.nextInt(Fault.values().length)];
        injected.merge(fault, 1, Integer::sum);
        Set<String> enqueuedBefore = new HashSet<>(enqueued.keySet());
        Set<String> ackedBefore = new HashSet<>(acked);
        runLife(disk, fault, random, lives, sequences);
        FaultyFiles files = disk.files;
        fileOps[0] += files.writes.get();
        fileOps[1] += files.forces.get();
        fileOps[2] += files.failedWrites.get() + files.diskFullWrites.get();
        fileOps[3] += files.failedForces.get();
        fileOps[4] += files.delayedCalls.get();
        fileOps[5] += files.bytesDroppedAtCrash.get();

        disk.start();
        // what this life acknowledged must all be there
        Map<String, Batch> newEnqueues = new ConcurrentHashMap<>(enqueued);
        newEnqueues.keySet().removeAll(enqueuedBefore);
        Set<String> newAcks = new HashSet<>(acked);
        newAcks.removeAll(ackedBefore);
        lost.addAll(missingEnqueues(disk.stub, newEnqueues));
        lost.addAll(liveAgain(disk.stub, newAcks));
        checkedEnqueues += newEnqueues.size();
        checkedAcks += newAcks.size();
      }
      // and, at the end, everything ever acknowledged
      lost.addAll(missingEnqueues(disk.stub, enqueued));
      lost.addAll(liveAgain(disk.stub, acked));
      System.out.printf(
          "crash with faults (seed %d): %d lives in %d s, faults %s; file layer: %d writes, %d"
              + " fsyncs, %d failed writes, %d failed fsyncs, %d delayed calls, %d bytes dropped"
              + " at crashes; %d OK replies; %d acknowledged enqueues and %d acknowledged acks"
              + " checked after their crash (then %d and %d at the end); lost %d%n",
          seed, lives, SECONDS, injected, fileOps[0], fileOps[1], fileOps[2], fileOps[3],
          fileOps[4], fileOps[5], okReplies.get(), checkedEnqueues, checkedAcks, enqueued.size(),
          acked.size(), lost.size());
      assertThat(lost).as("acknowledged changes lost (seed %d)", seed).isEmpty();
      assertThat(checkedEnqueues).as("the workload acknowledged something").isPositive();
    } finally {
      disk.close();
    }
  }

  /** One life: clients run, a fault strikes, then the power goes. */
  private void runLife(FaultyDisk disk, Fault fault, Random random, int life, AtomicLong[] sequences)
      throws Exception {
    long lifeMs = 300 + random.nextInt(900);
    long faultAtMs = random.nextInt((int) lifeMs);
    long delayMs = 20 + random.nextInt(300);
    AtomicLong stop = new AtomicLong();
    List<Thread> clients = new ArrayList<>();
    for (int p = 0; p < PAIRS; p++) {
      CyclicBarrier together = new CyclicBarrier(2);
      for (int member = 0; member < 2; member++) {
        int pair = p;
        boolean starter = member == 0;
        Thread t = new Thread(() -> clientLoop(disk.stub, pair, starter, life, together,
            sequences[pair], stop), "client-" + p + "-" + member);
        t.setDaemon(true);
        clients.add(t);
        t.start();
      }
    }
    Thread.sleep(faultAtMs);
    FaultyFiles files = disk.files;
    switch (fault) {
      case NONE -> { }
      case SLOW_WRITES -> files.delayWrites(delayMs);
      case SLOW_FSYNCS -> files.delayForces(delayMs);
      case FAILED_FSYNC -> files.failForces(true);
      case FAILED_WRITE -> files.failWrites(true);
      case DISK_FULL -> files.spaceLeft(random.nextInt(4096));
    }
    Thread.sleep(lifeMs - faultAtMs);
    disk.crash();
    stop.set(1);
    for (Thread t : clients) {
      t.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(t.isAlive()).as("client %s ended", t.getName()).isFalse();
    }
  }

  /**
   * One client of a pair: both send the same enqueue at once; the starter starts a batch of the
   * pair's stage; both ack it. A call that fails is retried (the same request) until it gets an
   * answer or the life ends; only OK answers are recorded.
   */
  private void clientLoop(OrchestratorServiceBlockingStub stub, int pair, boolean starter, int life,
      CyclicBarrier together, AtomicLong sequence, AtomicLong stop) {
    String stage = "s" + pair;
    List<StartedBatch> started = new ArrayList<>();
    for (int i = 0; stop.get() == 0 && i < 100_000; i++) {
      long seq;
      try {
        if (starter) {
          sequence.incrementAndGet();
        }
        together.await(10, TimeUnit.SECONDS);
        seq = sequence.get();
      } catch (Exception e) {
        return; // the other one ended (the life is over)
      }
      String key = "l" + life + "-p" + pair + "-" + seq;
      Batch batch = batch(key, stage, seq).build();
      EnqueueBatchRequest enqueue = EnqueueBatchRequest.newBuilder().setPipeline("p")
          .setBatch(batch).build();
      if (retried(stop, () -> stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
          .enqueueBatch(enqueue)) != null) {
        enqueued.put(key, batch);
      }
      if (starter) {
        started.clear();
        retried(stop, () -> {
          List<StartedBatch> got = new ArrayList<>();
          stub.withDeadlineAfter(2, TimeUnit.SECONDS).startAvailable(StartAvailableRequest
                  .newBuilder().setPipeline("p").setMaxBatches(1).addStages(stage).build())
              .forEachRemaining(r -> got.add(r.getStarted()));
          started.addAll(got);
          return got;
        });
        shared.put(pair, List.copyOf(started));
      }
      // both ack what the starter started: it published it before this barrier
      List<StartedBatch> toAck;
      try {
        together.await(10, TimeUnit.SECONDS);
        toAck = shared.getOrDefault(pair, List.of());
        together.await(10, TimeUnit.SECONDS); // before the starter publishes the next one
      } catch (Exception e) {
        return;
      }
      for (StartedBatch s : toAck) {
        AckBatchRequest ack = AckBatchRequest.newBuilder().setPipeline("p")
            .setKey(s.getBatch().getKey()).setAttempt(s.getAttempt()).build();
        var reply = retried(stop, () -> stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
            .ackBatch(ack));
        if (reply != null && reply.getOutcome().hasProcessed()) {
          acked.add(s.getBatch().getKey());
        }
      }
    }
  }

  /** What each pair's starter started last, for both to ack. */
  private final Map<Integer, List<StartedBatch>> shared = new ConcurrentHashMap<>();

  /** The call's answer once it gets one, or null if the life ended first. */
  private <T> T retried(AtomicLong stop, Supplier<T> call) {
    while (stop.get() == 0) {
      try {
        T reply = call.get();
        okReplies.incrementAndGet();
        return reply;
      } catch (StatusRuntimeException e) {
        switch (e.getStatus().getCode()) {
          case DEADLINE_EXCEEDED, UNAVAILABLE, CANCELLED -> sleepQuietly(5);
          default -> {
            return null; // a refusal (e.g. a stale attempt): nothing to record
          }
        }
      }
    }
    return null;
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Acknowledged enqueues that the server does not know (it does not deduplicate them). */
  private static List<String> missingEnqueues(
      OrchestratorServiceBlockingStub stub, Map<String, Batch> keys) {
    List<String> missing = new ArrayList<>();
    List<Batch> all = new ArrayList<>(keys.values());
    for (int from = 0; from < all.size(); from += 500) {
      EnqueueBatchesRequest.Builder req = EnqueueBatchesRequest.newBuilder().setPipeline("p");
      req.addAllBatches(all.subList(from, Math.min(all.size(), from + 500)));
      for (EnqueueResult r : stub.enqueueBatches(req.build()).getResultsList()) {
        if (r.hasError() || !r.getDeduplicated()) {
          missing.add("enqueue " + r.getKey() + (r.hasError() ? " " + r.getError() : ""));
        }
      }
    }
    return missing;
  }

  /** Acknowledged acks whose batch is live again (IN_FLIGHT or QUEUED after the restart). */
  private static List<String> liveAgain(OrchestratorServiceBlockingStub stub, Set<String> keys) {
    Set<String> live = new HashSet<>();
    String token = "";
    do {
      ListBatchesResponse page = stub.listBatches(ListBatchesRequest.newBuilder()
          .setPipeline("p").setPageSize(1000).setPageToken(token).build());
      page.getBatchesList().stream().map(BatchView::getBatch)
          .forEach(b -> live.add(b.getKey()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    List<String> again = new ArrayList<>();
    for (String k : keys) {
      if (live.contains(k)) {
        again.add("ack " + k);
      }
    }
    return again;
  }
}
