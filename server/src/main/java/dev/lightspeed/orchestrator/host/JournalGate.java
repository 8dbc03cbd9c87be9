package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.core.Rejection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether replies may still be sent: closed for good once the journal failed a write or an fsync.
 *
 * <p>After such a failure the pipelines in memory hold changes that may never reach the disk, and
 * the journal refuses every later record (a failed fsync is not retried: the kernel may have
 * dropped the dirty pages and a second fsync could report success for data it lost — the lesson
 * of PostgreSQL's "fsyncgate"). So the server refuses every call on pipelines with UNAVAILABLE,
 * reason JOURNAL_UNAVAILABLE, and reports NOT_SERVING on the health service; a restart recovers
 * from what is on disk (docs/durability.md, docs/operations.md).
 */
public final class JournalGate {
  private static final Logger log = LoggerFactory.getLogger(JournalGate.class);

  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  /** Closes the gate (once); the listeners run on the calling thread. */
  public void fail(Throwable cause) {
    Throwable root = unwrap(cause);
    if (!failure.compareAndSet(null, root)) {
      return;
    }
    log.error("journal failed ({}): refusing every call with UNAVAILABLE JOURNAL_UNAVAILABLE and"
        + " reporting NOT_SERVING until the server is restarted; fix the disk first (full? read"
        + " only? failing?), then restart: recovery replays only what is on disk",
        root.toString());
    for (Runnable listener : listeners) {
      listener.run();
    }
  }

  /** Runs {@code listener} when the gate closes (at once if it is closed already). */
  public void onFailure(Runnable listener) {
    listeners.add(listener);
    if (failure.get() != null) {
      listener.run();
    }
  }

  public boolean failed() {
    return failure.get() != null;
  }

  /** The refusal every call gets now, or null while the gate is open. */
  public Rejection refusal() {
    Throwable cause = failure.get();
    return cause == null ? null : refusal(cause);
  }

  /** Throws JOURNAL_UNAVAILABLE if the journal failed; else does nothing. */
  public void ensureOpen() {
    Throwable cause = failure.get();
    if (cause != null) {
      throw refusal(cause);
    }
  }

  /**
   * Given how a durability future ended ({@code outcome} null = normally): null if the reply may
   * be sent, else the refusal to send instead. A failed future closes the gate.
   */
  public Rejection refusalAfter(Throwable outcome) {
    if (outcome != null) {
      fail(outcome);
    }
    Throwable cause = failure.get();
    return cause == null ? null : refusal(cause);
  }

  public static Rejection refusal(Throwable cause) {
    return Rejection.of(
        ServerReason.JOURNAL_UNAVAILABLE,
        "the journal could not write or fsync (" + cause.getMessage() + "); this server refuses"
            + " every call until it is restarted, so that nothing it reports can be lost. Retry on"
            + " another replica or after the restart");
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
