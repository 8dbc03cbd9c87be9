package dev.lightspeed.orchestrator.bench.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * CPU time per operation, which a machine shared with other work disturbs far less than wall-clock
 * throughput: {@code -prof dev.lightspeed.orchestrator.bench.jmh.CpuTimeProfiler}.
 *
 * <ul>
 *   <li>{@code cpu.worker.ns/op}: CPU time of the JMH worker threads (the benchmark code itself)
 *       per operation; {@code 1e9 / it} is the rate one thread reaches with a core to itself.
 *   <li>{@code cpu.process.ns/op}: CPU time of the whole fork (also GC and JIT threads) per op.
 *   <li>{@code cpu.worker.share}: worker CPU time / wall time — below 1.0 means the worker was
 *       descheduled (other processes ran on its core) and the wall-clock score is pessimistic.
 * </ul>
 */
public final class CpuTimeProfiler implements InternalProfiler {
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private long processCpuBefore;
  private long workerCpuBefore;
  private long wallBefore;

  @Override
  public String getDescription() {
    return "CPU time per op: JMH worker threads and the whole process";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    processCpuBefore = os.getProcessCpuTime();
    workerCpuBefore = workerCpu();
    wallBefore = System.nanoTime();
  }

  @Override
  public Collection<? extends Result> afterIteration(
      BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
    long wall = System.nanoTime() - wallBefore;
    long process = os.getProcessCpuTime() - processCpuBefore;
    long worker = workerCpu() - workerCpuBefore;
    long ops = result.getMetadata().getAllOps();
    List<Result> out = new ArrayList<>();
    if (ops > 0) {
      out.add(new ScalarResult("cpu.worker.ns/op", (double) worker / ops, "ns/op",
          AggregationPolicy.AVG));
      out.add(new ScalarResult("cpu.process.ns/op", (double) process / ops, "ns/op",
          AggregationPolicy.AVG));
    }
    int workers = Math.max(1, benchmarkParams.getThreads());
    out.add(new ScalarResult("cpu.worker.share", (double) worker / wall / workers, "ratio",
        AggregationPolicy.AVG));
    return out;
  }

  /** Workers live across iterations (JMH reuses its executor), so their CPU time grows. */
  private long workerCpu() {
    long sum = 0;
    for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().contains("jmh-worker")) {
        long cpu = threads.getThreadCpuTime(info.getThreadId());
        if (cpu > 0) {
          sum += cpu;
        }
      }
    }
    return sum;
  }
}
