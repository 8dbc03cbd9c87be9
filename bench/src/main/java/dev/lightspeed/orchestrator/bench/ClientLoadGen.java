package dev.lightspeed.orchestrator.bench;

import com.google.gson.Gson;
import dev.lightspeed.orchestrator.client.BatchingProducer;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.Worker;
import dev.lightspeed.orchestrator.client.WorkerOptions;
import dev.lightspeed.orchestrator.client.WorkerStats;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.function.ToLongFunction;

/**
 * The Java client's load generator, the twin of bench/clients/{node,python,go}: the client's
 * {@link BatchingProducer} and continuous {@link Worker} (the Work stream) against a running
 * server, 64 batches outstanding, workloads enqueue, lifecycle, retry and dlq. Prints one JSON
 * line per workload in their format, with take→ack latency for lifecycle (WorkerOptions.onResult,
 * as the Node, Python and Go generators).
 *
 * <p>The JVM is warmed up first, unmeasured: {@code WARMUP} batches (default 10,000) of the
 * lifecycle workload and a fifth of that of each workload asked for (enqueue: passes of five
 * times that until the rate settles, see {@link #settle}), then the line {@code
 * {"warmed":true}} (run-peer-bench.sh starts counting the server's CPU there). A worker is a
 * long-lived process; without this, a 5,000-batch workload measured the JIT compiling the client
 * (the same worker ran 2,300/s in a fresh JVM and 6,500/s on its third run, round 11 of
 * bench/findings.md). 0 turns it off.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.lightspeed.orchestrator.bench.ClientLoadGen
 * HOST:PORT [N] [workloads] [WARMUP]}
 */
public final class ClientLoadGen {
  private static final int OUTSTANDING = 64;
  private static final int MIN_SETTLE_PASSES = 6;

  private ClientLoadGen() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println(
          "usage: ClientLoadGen HOST:PORT [N] [enqueue,lifecycle,retry,dlq] [WARMUP]");
      System.exit(2);
    }
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 20000;
    String[] workloads = (args.length > 2 ? args[2] : "enqueue,lifecycle,retry,dlq").split(",");
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 10_000;
    try (OrchestratorClient client = OrchestratorClient.builder().target(args[0]).build()) {
      if (warmup > 0) {
        run(client, "lifecycle", warmup, false);
        for (String w : workloads) {
          if (w.equals("enqueue")) {
            settle(client, 5 * warmup);
          } else {
            run(client, w, Math.max(1, warmup / 5), false);
          }
        }
        System.out.println("{\"warmed\":true}");
        System.out.flush();
      }
      for (String w : workloads) {
        run(client, w, n, true);
      }
    }
    System.exit(0); // the client's and workers' pools are not all daemons
  }

  /**
   * Enqueue passes of {@code pass} batches until two in a row agree within 10 % (at least
   * {@link #MIN_SETTLE_PASSES}, at most 20); the rates go to stderr. The JIT compiles the
   * producer's path (gRPC, Netty, protobuf) for a few hundred thousand enqueues: one JVM's rate
   * climbed from 25-36k/s on its first pass of 50,000 to 75-104k/s from about the sixth, and its
   * CPU per enqueue fell from 33 to 7-8 µs, most of the difference the compiler threads (round 17
   * of bench/findings.md). A producer is a long-lived process; 2,000 batches of warm-up left the
   * measured 20,000 (0.3 s) inside that climb.
   */
  private static void settle(OrchestratorClient client, int pass) throws Exception {
    List<Long> rates = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rates.add(Math.round(run(client, "enqueue", pass, false)));
      int k = rates.size();
      if (k >= MIN_SETTLE_PASSES
          && Math.abs(rates.get(k - 1) - rates.get(k - 2))
              <= 0.1 * Math.max(rates.get(k - 1), rates.get(k - 2))) {
        break;
      }
    }
    System.err.println("ClientLoadGen: enqueue warm-up passes of " + pass + ": " + rates + " /s");
  }

  /** Runs one workload; returns its rate (batches/s). */
  private static double run(OrchestratorClient client, String workload, int n, boolean print)
      throws Exception {
    String name = "loadgen-java-" + workload + "-" + System.nanoTime();
    client.createPipeline(PipelineSpec.newBuilder()
        .setName(name)
        .addStages("work")
        .addConnectors(Connector.newBuilder().setName("src")
            .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE).setStage("work"))
        .setBoundary(Boundary.newBuilder().setMaxInFlight(100000).setMaxQueued(10000000))
        .setRetry(RetryPolicy.newBuilder()
            .setMaxAttempts(workload.equals("dlq") ? 3 : 5).setInitialBackoffMs(0))
        .build());
    // take→ack: from the handler being called to the server's answer to its ack (onResult).
    Map<String, Long> taken = new ConcurrentHashMap<>();
    Queue<Double> latencies = new ConcurrentLinkedQueue<>();
    long t0 = System.nanoTime();
    Worker worker = null;
    if (!workload.equals("enqueue")) {
      worker = Worker.start(client, WorkerOptions.builder(name).concurrency(OUTSTANDING)
              .onResult(r -> {
                if (r.outcome() != null && r.outcome().hasProcessed()) {
                  Long t = taken.get(r.started().getBatch().getKey());
                  latencies.add((System.nanoTime() - t) / 1e6);
                }
              })
              .build(),
          started -> {
            taken.put(started.getBatch().getKey(), System.nanoTime());
            if (workload.equals("retry") && started.getAttempt() <= 2 || workload.equals("dlq")) {
              throw new IllegalStateException("failing on purpose");
            }
          });
    }
    Semaphore window = new Semaphore(OUTSTANDING);
    try (BatchingProducer producer = new BatchingProducer(client, name)) {
      for (int i = 0; i < n; i++) {
        window.acquire();
        String key = "k" + i;
        producer.enqueue(Batch.newBuilder().setKey(key).setStage("work").setRecords(1)
                .setSequence(i + 1).setIdempotencyKey(key).build())
            .whenComplete((r, e) -> window.release())
            .exceptionally(e -> {
              e.printStackTrace();
              System.exit(1);
              return null;
            });
      }
      producer.flush().join();
    }
    if (worker != null) {
      ToLongFunction<WorkerStats> goal =
          workload.equals("dlq") ? WorkerStats::deadLettered : WorkerStats::acked;
      long deadline = System.nanoTime() + 30L * 60 * 1_000_000_000L;
      while (goal.applyAsLong(worker.stats()) < n) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(workload + ": " + worker.stats());
        }
        Thread.sleep(5);
      }
      worker.close();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("client", "java");
    line.put("workload", workload);
    line.put("items", n);
    line.put("seconds", seconds);
    line.put("rate", n / seconds);
    if (workload.equals("lifecycle") && !latencies.isEmpty()) {
      double[] ms = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      line.put("take_ack_p50_ms", ms[Math.min(ms.length - 1, (int) (0.5 * ms.length))]);
      line.put("take_ack_p99_ms", ms[Math.min(ms.length - 1, (int) (0.99 * ms.length))]);
      line.put("take_ack_max_ms", ms[ms.length - 1]);
    }
    if (print) {
      System.out.println(new Gson().toJson(line));
    }
    client.deletePipeline(name, true);
    return n / seconds;
  }
}
