package dev.lightspeed.orchestrator.bench;

import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * Fail-over time of a 3-node cluster (issue 17's benchmark): under a steady write load, the
 * leader of the pipeline's Raft group is killed with SIGKILL (or stopped with SIGSTOP, a node
 * behind a partition as the others see it), and the time from that moment to the first write that
 * was <em>sent after it</em> and accepted is measured. Probe writes (EnqueueBatch, each with its
 * own key) leave every 10 ms, rotating over the three nodes' API addresses as a client with all
 * three targets would; each waits up to 30 s. A killed node is restarted and the cluster left to
 * heal (every replica at one applied index) before the next fault.
 */
final class Failover {
  static final String PIPELINE = "failover";
  private static final long PROBE_EVERY_MS = 10;

  /** One fault's measurement. */
  record Sample(String fault, String leader, long millis, long failedProbes) {}

  private final ClusterProcesses cluster;
  private final int groups;
  private final int writers;
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(1, r -> {
    Thread t = new Thread(r, "failover-probes");
    t.setDaemon(true);
    return t;
  });
  private final ConcurrentLinkedQueue<long[]> accepted = new ConcurrentLinkedQueue<>();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong keys = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean(true);

  Failover(ClusterProcesses cluster, int groups, int writers) {
    this.cluster = cluster;
    this.groups = groups;
    this.writers = writers;
  }

  /** Runs {@code faults} ("kill" or "stop" each) one after the other and returns their samples. */
  List<Sample> run(List<String> faults) throws Exception {
    createPipeline();
    List<Thread> load = startLoad();
    var probeTask = timer.scheduleAtFixedRate(this::probe, 0, PROBE_EVERY_MS, TimeUnit.MILLISECONDS);
    List<Sample> samples = new ArrayList<>();
    try {
      for (String fault : faults) {
        cluster.awaitHealed();
        Thread.sleep(2_000); // steady load before the fault
        ClusterProcesses.Node leader = cluster.leaderOf(groupOf(PIPELINE));
        long failedBefore = failed.get();
        long at = System.nanoTime();
        if (fault.equals("kill")) {
          cluster.kill(leader);
        } else {
          cluster.stop(leader);
        }
        long millis = awaitFirstAcceptedAfter(at);
        samples.add(new Sample(fault, leader.id, millis, failed.get() - failedBefore));
        LoadGenerator.say("failover: %s of leader %s -> first accepted write %d ms later", fault,
            leader.id, millis);
        if (fault.equals("kill")) {
          cluster.start(leader);
        } else {
          Thread.sleep(1_000);
          cluster.resume(leader);
        }
      }
      cluster.awaitHealed();
    } finally {
      probeTask.cancel(false);
      running.set(false);
      for (Thread t : load) {
        t.join(60_000);
      }
      timer.shutdownNow();
    }
    return samples;
  }

  /** Waits (up to 120 s) for a probe sent at or after {@code at} to be accepted. */
  private long awaitFirstAcceptedAfter(long at) throws InterruptedException {
    long deadline = at + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      long first = Long.MAX_VALUE;
      for (long[] a : accepted) {
        if (a[0] >= at) {
          first = Math.min(first, a[1]);
        }
      }
      if (first != Long.MAX_VALUE) {
        accepted.clear();
        return (first - at) / 1_000_000;
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException("no write accepted within 120 s of the fault");
  }

  private void probe() {
    List<String> targets = cluster.targets();
    long n = keys.incrementAndGet();
    ClusterProcesses.Node node = cluster.node("n" + (1 + n % targets.size()));
    long sent = System.nanoTime();
    OrchestratorServiceGrpc.newStub(node.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .enqueueBatch(request("probe-" + n), new StreamObserver<EnqueueBatchResponse>() {
          @Override
          public void onNext(EnqueueBatchResponse value) {
            accepted.add(new long[] {sent, System.nanoTime()});
          }

          @Override
          public void onError(Throwable t) {
            failed.incrementAndGet();
          }

          @Override
          public void onCompleted() {}
        });
  }

  /** {@code writers} threads that enqueue one batch after another, moving on to the next node on an error. */
  private List<Thread> startLoad() {
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int id = w;
      Thread t = new Thread(() -> {
        int node = id;
        long i = 0;
        while (running.get()) {
          ClusterProcesses.Node target = cluster.node("n" + (1 + node % 3));
          try {
            OrchestratorServiceGrpc.newBlockingStub(target.channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .enqueueBatch(request("load-" + id + "-" + (i++)));
          } catch (StatusRuntimeException e) {
            node++;
            sleep(50);
          }
        }
      }, "failover-load-" + w);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    return threads;
  }

  private static EnqueueBatchRequest request(String key) {
    return EnqueueBatchRequest.newBuilder().setPipeline(PIPELINE).setBatch(Batch.newBuilder()
        .setKey(key).setStage(Pipelines.stage(0)).setRecords(10).setIdempotencyKey(key)).build();
  }

  private void createPipeline() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      try {
        OrchestratorServiceGrpc.newBlockingStub(cluster.node("n1").channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .createPipeline(CreatePipelineRequest.newBuilder()
                .setSpec(Pipelines.spec(PIPELINE, 1)).build());
        return;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getDescription() != null
            && e.getStatus().getDescription().contains("already exists")) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200); // the groups are still electing their first leaders
      }
    }
  }

  /** docs/cluster.md's placement: CRC-32 of the name's UTF-8 bytes, modulo the groups. */
  private int groupOf(String pipeline) {
    CRC32 crc = new CRC32();
    crc.update(pipeline.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return (int) (crc.getValue() % groups);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** "median 1,234 ms, max 2,345 ms over 10" of the samples of one fault kind. */
  static String summary(List<Sample> samples, String fault) {
    long[] ms = samples.stream().filter(s -> s.fault().equals(fault))
        .mapToLong(Sample::millis).sorted().toArray();
    if (ms.length == 0) {
      return "-";
    }
    double median = ms.length % 2 == 1 ? ms[ms.length / 2]
        : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2.0;
    return String.format(Locale.ROOT, "median %,.0f ms, max %,d ms over %d", median,
        ms[ms.length - 1], ms.length);
  }
}
