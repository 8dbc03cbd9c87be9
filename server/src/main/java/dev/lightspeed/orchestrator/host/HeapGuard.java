package dev.lightspeed.orchestrator.host;

import com.sun.management.GarbageCollectionNotificationInfo;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses new batches and pipelines while the JVM's heap stays nearly full after garbage
 * collection, so that a flood of enqueues is told RESOURCE_EXHAUSTED QUEUE_FULL (with RetryInfo,
 * which producers already back off on) instead of driving the server into an OutOfMemoryError.
 *
 * <p>Why: every queued batch lives in the heap, twice (the live state and the snapshotter's
 * shadow, docs/durability.md), and the per-pipeline {@code max_queued} times {@code
 * --max-pipelines} allows far more than any heap holds (10,000 × 1,000 by default). Measured: a
 * 2 GiB server given about a million queued batches spent its time in full collections, its
 * snapshotter thread died of OutOfMemoryError and new connections were never accepted — no
 * acknowledged write was lost (the journal has them), but the server stopped answering without
 * saying why.
 *
 * <p>How: after each collection the JVM reports every pool's use (GC notifications); the heap
 * pools' sum over the heap's maximum is compared with the limit. Full at or above it, free again
 * once a collection leaves it at least 5 points below (so it does not flap). Only calls that add
 * to the state are refused — EnqueueBatch(es) and CreatePipeline; starts, acks, fails, actions and
 * deletes go on, since they are how the heap drains. The refusal is the receiving server's own
 * judgment (on a cluster node: that node's heap).
 */
public final class HeapGuard {
  public static final int DEFAULT_MAX_HEAP_PERCENT = 80;
  /** Points below the limit a collection must leave the heap at before calls are taken again. */
  static final int HYSTERESIS_PERCENT = 5;
  /** While refusing: ask for a collection when none ran for this long. */
  static final int RECHECK_SECONDS = 5;
  private static final Logger log = LoggerFactory.getLogger(HeapGuard.class);

  /** Never refuses (tests, embedded servers, {@code --max-heap-percent 100}). */
  public static final HeapGuard OFF = new HeapGuard(100, Long.MAX_VALUE);

  private final int maxPercent;
  private final long maxHeapBytes;
  private volatile boolean full;
  private volatile long usedAfterGc;
  private volatile long lastGcNanos = System.nanoTime();

  HeapGuard(int maxPercent, long maxHeapBytes) {
    if (maxPercent < 50 || maxPercent > 100) {
      throw new IllegalArgumentException("--max-heap-percent must be 50..100, was " + maxPercent);
    }
    this.maxPercent = maxPercent;
    this.maxHeapBytes = maxHeapBytes;
  }

  /**
   * A guard fed by this JVM's garbage collections; {@link #OFF} for 100 % or when the heap has
   * no known maximum.
   */
  public static synchronized HeapGuard watchThisJvm(int maxPercent) {
    // One guard (one GC listener, one thread) per limit and JVM: tests start many servers in one.
    return JVM_GUARDS.computeIfAbsent(maxPercent, HeapGuard::watch);
  }

  private static final Map<Integer, HeapGuard> JVM_GUARDS = new java.util.HashMap<>();

  private static HeapGuard watch(int maxPercent) {
    long max = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
    if (maxPercent == 100 || max <= 0) {
      new HeapGuard(maxPercent, Long.MAX_VALUE); // validates the value
      return OFF;
    }
    HeapGuard guard = new HeapGuard(maxPercent, max);
    Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP)
        .map(MemoryPoolMXBean::getName)
        .collect(Collectors.toUnmodifiableSet());
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener((n, handback) -> {
          if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION
              .equals(n.getType())) {
            Map<String, MemoryUsage> after = GarbageCollectionNotificationInfo
                .from((CompositeData) n.getUserData()).getGcInfo().getMemoryUsageAfterGc();
            long used = 0;
            for (Map.Entry<String, MemoryUsage> pool : after.entrySet()) {
              if (heapPools.contains(pool.getKey())) {
                used += pool.getValue().getUsed();
              }
            }
            guard.afterGc(used);
          }
        }, null, null);
      }
    }
    // While refusing, the heap may have drained (batches acked, a pipeline deleted) without a
    // collection to say so: an idle or refused server allocates too little to start one, and its
    // old generation is only reclaimed by a collection. So a refusing guard asks for one when
    // none ran for RECHECK_SECONDS (measured: without it a server stayed refusing a minute after
    // its flooded pipeline was deleted). A full collection of a large heap takes a while; it runs
    // only while the server is refusing anyway.
    Thread recheck = new Thread(() -> {
      while (true) {
        try {
          Thread.sleep(RECHECK_SECONDS * 1000L);
        } catch (InterruptedException e) {
          return;
        }
        if (guard.full && System.nanoTime() - guard.lastGcNanos > RECHECK_SECONDS * 1_000_000_000L) {
          System.gc();
        }
      }
    }, "heap-guard");
    recheck.setDaemon(true);
    recheck.start();
    return guard;
  }

  /**
   * A guard of a heap of {@code maxHeapBytes} that learns of collections only through {@link
   * #afterGc} (tests; {@link #watchThisJvm} feeds its guard from the JVM's notifications).
   */
  public static HeapGuard of(int maxPercent, long maxHeapBytes) {
    return new HeapGuard(maxPercent, maxHeapBytes);
  }

  /** One collection left {@code usedBytes} of the heap in use. */
  public void afterGc(long usedBytes) {
    usedAfterGc = usedBytes;
    lastGcNanos = System.nanoTime();
    long percent = percentOf(usedBytes);
    double exact = maxHeapBytes == Long.MAX_VALUE ? 0 : usedBytes * 100.0 / maxHeapBytes;
    if (!full && exact >= maxPercent) {
      full = true;
      log.atWarn().addKeyValue("event", "heap_full").addKeyValue("heap_percent", percent)
          .addKeyValue("limit_percent", maxPercent)
          .log("the heap is {} % full after garbage collection (limit {} %, --max-heap-percent):"
                  + " new batches and pipelines are refused QUEUE_FULL until it drains below {} %"
                  + " (consume or delete batches, or give the JVM more heap with -Xmx)",
              percent, maxPercent, maxPercent - HYSTERESIS_PERCENT);
    } else if (full && exact < maxPercent - HYSTERESIS_PERCENT) {
      full = false;
      log.atInfo().addKeyValue("event", "heap_ok").addKeyValue("heap_percent", percent)
          .log("the heap is {} % full after garbage collection: new batches are taken again",
              percent);
    }
  }

  /** Whether calls that add to the state are refused now. */
  public boolean full() {
    return full;
  }

  /** Refuses a call that would add {@code what} while the heap is full. */
  public void checkRoom(String what) {
    if (full) {
      throw Rejection.of(Reason.QUEUE_FULL, "the server's heap is " + percentOf(usedAfterGc)
          + " % full after garbage collection (limit " + maxPercent + " %, --max-heap-percent):"
          + " it takes no new " + what + " until work is consumed or pipelines are deleted, or"
          + " the server gets more heap (-Xmx); retry later");
    }
  }

  private long percentOf(long bytes) {
    return maxHeapBytes == Long.MAX_VALUE ? 0 : Math.round(bytes * 100.0 / maxHeapBytes);
  }
}
