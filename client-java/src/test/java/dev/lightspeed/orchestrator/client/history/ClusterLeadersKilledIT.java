package dev.lightspeed.orchestrator.client.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The leaders of several groups killed at once (issue 17, docs/cluster.md "How it is tested"):
 * three server processes, six groups, one pipeline in each; a producer per pipeline enqueues
 * through the Java client (all three targets, its default retries) and records every enqueue
 * answered OK. The node that leads the most groups (two or more: leaders are balanced, two per
 * node) is killed with SIGKILL and started again, under that load. Afterwards every acknowledged
 * enqueue is there, in every pipeline, and every group's replicas agree (same applied index,
 * valid, equal signatures). ClusterChaosIT kills the leader of one group; here every group the
 * killed node led elects at once, each with its own writes in flight.
 */
class ClusterLeadersKilledIT {
  private static final Path WORK = Path.of("target", "leaders-killed-cluster");
  private static final int GROUPS = 6;
  /** Acknowledged enqueues per pipeline before the kill, and again after the restart. */
  private static final int PER_PHASE = 60;

  private ProcessCluster cluster;

  @AfterEach
  void stopAll() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // takes about a minute
  void aNodeLeadingSeveralGroupsKilledUnderLoad_nothingAcknowledgedLost_replicasAgree()
      throws Exception {
    cluster = ProcessCluster.start(WORK, "leaders", GROUPS);
    Map<Integer, String> pipelineOf = new TreeMap<>();
    for (int i = 0; pipelineOf.size() < GROUPS; i++) {
      pipelineOf.putIfAbsent(cluster.groupOf("p" + i), "p" + i);
    }
    for (String name : pipelineOf.values()) {
      cluster.createPipeline(HistoryWorkload.pipeline().toBuilder().setName(name).build());
    }
    // Leader balancing (5 s after each start) spreads the leaders; wait for a node with two.
    Map<String, List<Integer>> led = leadership();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (led.values().stream().mapToInt(List::size).max().orElse(0) < 2
        && System.nanoTime() < deadline) {
      Thread.sleep(500);
      led = leadership();
    }

    Map<String, Set<String>> acked = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> producers = new ArrayList<>();
    for (String name : pipelineOf.values()) {
      acked.put(name, ConcurrentHashMap.newKeySet());
      counts.put(name, new AtomicInteger());
      Thread t = new Thread(() -> {
        try (OrchestratorClient client = OrchestratorClient.builder()
            .targets(cluster.targets()).deadline(Duration.ofSeconds(30)).build()) {
          for (int k = 0; !stop.get(); k++) {
            String key = name + "-" + k;
            try {
              client.enqueueBatch(name, Batch.newBuilder().setKey(key).setStage("s")
                  .setRecords(1).setIdempotencyKey(key).build());
              acked.get(name).add(key);
              counts.get(name).incrementAndGet();
            } catch (RuntimeException unknownOutcome) {
              // Not acknowledged: it may or may not be there, and the check below allows both.
            }
          }
        } catch (Throwable t2) {
          failure.compareAndSet(null, t2);
        }
      }, "producer-" + name);
      producers.add(t);
      t.start();
    }

    awaitEach(counts, PER_PHASE);
    String victim = led.entrySet().stream().max(Map.Entry.comparingByValue(
        (a, b) -> Integer.compare(a.size(), b.size()))).orElseThrow().getKey();
    List<Integer> victimLed = led.get(victim);
    Map<String, Integer> before = snapshot(counts);
    cluster.node(victim).kill();
    cluster.node(victim).start();
    System.out.printf("leaders-killed: killed %s, the leader of groups %s, after %s acked%n",
        victim, victimLed, before);
    awaitEach(counts, PER_PHASE, before);
    stop.set(true);
    for (Thread t : producers) {
      t.join(TimeUnit.MINUTES.toMillis(2));
    }
    assertThat(failure.get()).as("a producer").isNull();
    assertThat(victimLed).as("groups the killed node led").hasSizeGreaterThanOrEqualTo(2);

    try (OrchestratorClient client = OrchestratorClient.builder().targets(cluster.targets())
        .deadline(Duration.ofSeconds(30)).build()) {
      for (String name : pipelineOf.values()) {
        Set<String> listed = listKeys(client, name);
        Set<String> lost = new HashSet<>(acked.get(name));
        lost.removeAll(listed);
        assertThat(lost).as("acknowledged enqueues of %s missing", name).isEmpty();
      }
    }
    cluster.assertReplicasAgree();
  }

  /** Which groups each node leads now. */
  private Map<String, List<Integer>> leadership() throws InterruptedException {
    Map<String, List<Integer>> led = new LinkedHashMap<>();
    cluster.ids().forEach(id -> led.put(id, new ArrayList<>()));
    for (int g = 0; g < GROUPS; g++) {
      led.get(cluster.leaderOf(g)).add(g);
    }
    return led;
  }

  private static Map<String, Integer> snapshot(Map<String, AtomicInteger> counts) {
    Map<String, Integer> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private static void awaitEach(Map<String, AtomicInteger> counts, int atLeast)
      throws InterruptedException {
    awaitEach(counts, atLeast, Map.of());
  }

  /** Until every pipeline has {@code more} acknowledged enqueues beyond {@code from}'s. */
  private static void awaitEach(Map<String, AtomicInteger> counts, int more,
      Map<String, Integer> from) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (counts.entrySet().stream()
        .anyMatch(e -> e.getValue().get() < from.getOrDefault(e.getKey(), 0) + more)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the producers stalled: " + snapshot(counts));
      }
      Thread.sleep(20);
    }
  }

  private static Set<String> listKeys(OrchestratorClient client, String pipeline) {
    Set<String> keys = new HashSet<>();
    String token = "";
    do {
      ListBatchesResponse page = client.listBatches(ListBatchesRequest.newBuilder()
          .setPipeline(pipeline).setPageSize(500).setPageToken(token).build());
      for (BatchView v : page.getBatchesList()) {
        keys.add(v.getBatch().getKey());
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return keys;
  }
}
