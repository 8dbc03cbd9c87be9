package dev.lightspeed.orchestrator.client.history;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Concurrent clients doing enqueue, start, ack, fail, redrive, cancel and reads on overlapping
 * keys of one pipeline, every call recorded. The targets are a list so that the same workload
 * runs against a cluster (client {@code i} talks to {@code targets[i % n]} first and fails over
 * to the others in order); against one server it is a list of one.
 *
 * <p>The pipeline's settings are those the checker's model assumes (tools/lincheck/model.go):
 * unbounded limits, no lease expiry, retries ready at once, a dedup window longer than any run,
 * and every enqueue of a key has the same content with idempotency key = batch key. The run is
 * bounded by answered calls, not by time, so a loaded machine makes it slower, never different.
 */
final class HistoryWorkload {
  static final String PIPELINE = "lin";
  static final int MAX_ATTEMPTS = 3;

  private final List<String> targets;
  private final HistoryRecorder recorder;
  private final int clients;
  private final int answeredPerClient;
  private final int maxKeys;
  private final long seed;

  /** Clients go on past answeredPerClient while this holds (a fault injector not done yet). */
  private volatile java.util.function.BooleanSupplier keepGoing = () -> false;
  private final AtomicInteger nextKey = new AtomicInteger();
  private final AtomicInteger answered = new AtomicInteger();
  /** How a client connects: without retries by default (every attempt recorded). */
  private volatile Function<List<String>, OrchestratorClient> connect = HistoryWorkload::unretried;
  /** The calls that ended without an answer (the outcome unknown), described. */
  private final ConcurrentLinkedQueue<String> unanswered = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedDeque<StartedBatch> inFlight = new ConcurrentLinkedDeque<>();
  private final Set<String> deadLettered = ConcurrentHashMap.newKeySet();

  HistoryWorkload(List<String> targets, HistoryRecorder recorder, int clients,
      int answeredPerClient, int maxKeys, long seed) {
    this.targets = List.copyOf(targets);
    this.recorder = recorder;
    this.clients = clients;
    this.answeredPerClient = answeredPerClient;
    this.maxKeys = maxKeys;
    this.seed = seed;
  }

  /** The pipeline the model assumes. */
  static PipelineSpec pipeline() {
    return PipelineSpec.newBuilder()
        .setName(PIPELINE)
        .addStages("s")
        .setAllowUnboundStages(true)
        .setDedupWindowMs(Duration.ofDays(7).toMillis())
        .setBoundary(Boundary.newBuilder().setMaxInFlight(100_000).setMaxQueued(100_000)
            .setLeaseMs(0))
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(MAX_ATTEMPTS).setInitialBackoffMs(0)
            .setMaxBackoffMs(0).setMultiplier(1.0))
        .build();
  }

  /** Calls answered so far (refusals included, lost replies not): what fault injectors wait on. */
  int answered() {
    return answered.get();
  }

  int total() {
    return clients * answeredPerClient;
  }

  /**
   * Lets the clients go on past {@code answeredPerClient} answers while {@code condition} holds,
   * so that every fault of an injector happens under load, whatever the machine's speed.
   */
  void keepGoingWhile(java.util.function.BooleanSupplier condition) {
    keepGoing = condition;
  }

  /**
   * Connects each client with {@code connect} (given the client's targets) instead of
   * {@link #unretried(List)}: e.g. the client's default retry policy. A history recorded through
   * retrying clients is not one the linearizability checker may judge (a retried enqueue whose
   * first attempt was applied is answered deduplicated, as if another call had sent it); the
   * plain checks of {@link LostOrInventedBatches} still hold.
   */
  void connectWith(Function<List<String>, OrchestratorClient> connect) {
    this.connect = connect;
  }

  /**
   * The calls that ended without an answer (UNAVAILABLE, DEADLINE_EXCEEDED, ...: the outcome is
   * not known), after whatever retries the client made by itself; refusals are answers.
   */
  List<String> unanswered() {
    return List.copyOf(unanswered);
  }

  /** Runs the clients until each has had {@code answeredPerClient} answers (see keepGoingWhile). */
  void run() throws Exception {
    recorder.config(PIPELINE, MAX_ATTEMPTS);
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        int id = i;
        running.add(pool.submit(() -> {
          client(id);
          return null;
        }));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** A client that retries nothing by itself: each try is its own recorded call. */
  static OrchestratorClient unretried(String target) {
    return unretried(List.of(target));
  }

  /** The same, failing over between several targets in order (the nodes of a cluster). */
  static OrchestratorClient unretried(List<String> targets) {
    return OrchestratorClient.builder().targets(targets).disableRetry()
        .deadline(Duration.ofSeconds(5)).build();
  }

  /**
   * One recorded ListBatches after every client call ended (asked again until it answers): the
   * keys live at the end, for {@link LostOrInventedBatches}.
   */
  static Set<String> finalRead(List<String> targets, HistoryRecorder recorder)
      throws InterruptedException {
    try (RecordingClient client = new RecordingClient(1000, unretried(targets), recorder)) {
      for (int tries = 0; ; tries++) {
        try {
          return client.list(PIPELINE).stream()
              .map(v -> v.getBatch().getKey()).collect(Collectors.toSet());
        } catch (OrchestratorException e) {
          if (tries > 300) {
            throw e;
          }
          Thread.sleep(100);
        }
      }
    }
  }

  private void client(int id) throws InterruptedException {
    Random random = new Random(seed * 31 + id);
    try (RecordingClient client =
        new RecordingClient(id, connect.apply(targetsOf(id)), recorder)) {
      int mine = 0;
      while (mine < answeredPerClient || keepGoing.getAsBoolean()) {
        try {
          step(client, random);
          mine++;
          answered.incrementAndGet();
        } catch (OrchestratorException e) {
          if (HistoryRecorder.failure(e).isJsonPrimitive()) {
            unanswered.add(recorder.lastOf(id) + ": " + e.getMessage());
            client.awaitServing(PIPELINE); // the server is down or restarting
          } else {
            mine++;
            answered.incrementAndGet();
          }
        }
      }
    }
  }

  /**
   * Client {@code id}'s targets: {@code targets[id % n]} first, then the others in order, so
   * that it moves to the next node when its own goes away (one server: that server alone).
   */
  private List<String> targetsOf(int id) {
    List<String> mine = new ArrayList<>(targets.size());
    for (int i = 0; i < targets.size(); i++) {
      mine.add(targets.get((id + i) % targets.size()));
    }
    return mine;
  }

  private void step(RecordingClient client, Random random) {
    int dice = random.nextInt(100);
    if (dice < 30) {
      client.enqueue(PIPELINE, batch(pickKey(random, true)));
    } else if (dice < 48) {
      inFlight.addAll(client.start(PIPELINE, 1 + random.nextInt(3)));
    } else if (dice < 68) {
      StartedBatch b = inFlight.pollFirst();
      if (b == null) {
        client.ack(PIPELINE, pickKey(random, false), 0);
        return;
      }
      int roll = random.nextInt(10);
      int attempt = roll < 7 ? b.getAttempt() : roll < 9 ? 0 : b.getAttempt() + 1;
      client.ack(PIPELINE, b.getBatch().getKey(), attempt);
    } else if (dice < 80) {
      StartedBatch b = random.nextInt(10) < 8 ? inFlight.pollFirst() : inFlight.peekLast();
      String key = b == null ? pickKey(random, false) : b.getBatch().getKey();
      ProcessOutcome outcome = client.fail(PIPELINE, key, b == null ? 1 : b.getAttempt());
      if (outcome.hasDeadLettered()) {
        deadLettered.add(key);
      }
    } else if (dice < 86) {
      String key = deadLettered.stream().findAny().orElse(pickKey(random, false));
      deadLettered.remove(key);
      client.redrive(PIPELINE, key);
    } else if (dice < 90) {
      client.cancel(PIPELINE, pickKey(random, false));
    } else {
      client.list(PIPELINE);
    }
  }

  /** A new key (while there are fewer than maxKeys), or one already used: keys overlap. */
  private String pickKey(Random random, boolean mayBeNew) {
    int used = nextKey.get();
    if (used == 0 || (mayBeNew && used < maxKeys && random.nextInt(10) < 7)) {
      int n = nextKey.getAndIncrement();
      if (n < maxKeys) {
        return "k" + n;
      }
      used = maxKeys;
    }
    return "k" + random.nextInt(Math.min(used, maxKeys));
  }

  /** The same content for every enqueue of a key, so a repeat is always a deduplicated success. */
  static Batch batch(String key) {
    return Batch.newBuilder().setKey(key).setStage("s")
        .setRecords(1 + Math.floorMod(key.hashCode(), 50)).setIdempotencyKey(key).build();
  }
}
