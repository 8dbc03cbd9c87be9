package dev.lightspeed.orchestrator.core;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The state signature: lowercase hex SHA-256 over a canonical encoding of the whole pipeline
 * state except the clock. The encoding (version 1) is, in this order:
 *
 * <ol>
 *   <li>the string {@code lightspeed.orchestrator.state.v1};
 *   <li>the spec: name, stages, connectors (name, kind, stage, disabled, max_batch_records,
 *       dead_letter_destination, ordered) in plan order, the boundary's five numbers, the retry
 *       policy (multiplier as its IEEE-754 bits), dedup_window_ms, allow_unbound_stages;
 *   <li>the operator state: base mode (RUNNING, PAUSED or DRAINING), effective max_in_flight,
 *       the next event id (SPEC 3.10: not the retained events themselves);
 *   <li>per stage in declaration order: paused, whether a sequence was accepted, the last
 *       sequence, acked batches, acked records;
 *   <li>live batches in enqueue order: the six batch fields, state, attempt, ready_at,
 *       started_at, lease deadline, failed_at;
 *   <li>retry records in emit order; dead-letter records in emit order;
 *   <li>remembered idempotency keys, sorted by key: batch key, stage, records, sequence, live,
 *       left_at;
 *   <li>remembered acks, sorted by batch key: the ProcessResult fields and done_at;
 *   <li>runs: last run id, the active run (or none), completed runs oldest first;
 *   <li>the audit log: how many entries were ever appended, then the kept entries oldest first
 *       (action name, its argument, at_ms, message).
 * </ol>
 *
 * <p>Primitives ({@link Encoding}, shared with the snapshot encoding): a string is its UTF-8 byte
 * length as a 4-byte big-endian int followed by the bytes; an int is 4 bytes and a long 8 bytes,
 * big-endian; a double its IEEE-754 bits as a long; a boolean one byte 0 or 1; an enum its name
 * as a string; a list its size as an int followed by its items; an absent value is the boolean
 * false, a present one true followed by the value. Positions (enqueue and emit order) are
 * encoded by order alone, never by their internal numbers, so equal states give equal signatures.
 * All but the remembered keys and acks are walked by {@link StateFields}, canonically, the same
 * walk the snapshot takes.
 */
final class StateSignature {
  private static final String VERSION = "lightspeed.orchestrator.state.v1";

  private StateSignature() {}

  static String of(PipelineState s) {
    return begin(s).finish();
  }

  /**
   * Encodes everything but the remembered batches now, and copies those (arrays only), so that
   * the costly part — sorting and hashing every remembered key, O(R log R) for R remembered
   * batches — can be finished after the caller releases the pipeline's lock. The result is the
   * signature of the state at this call, whatever happens to the pipeline afterwards.
   */
  static Pending begin(PipelineState s) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
        new DigestOutputStream(OutputStream.nullOutputStream(), digest), 8192));
    ByteArrayOutputStream suffix = new ByteArrayOutputStream();
    try {
      writeBeforeKeys(s, out);
      writeAfterKeys(s, new DataOutputStream(suffix));
    } catch (IOException e) {
      throw new UncheckedIOException("a digest stream does not fail", e);
    }
    return new Pending(digest, out, s.live.values(),
        s.remembered.copyForReading(), suffix.toByteArray());
  }

  /** A signature begun under the lock, to be finished without it. Single use. */
  static final class Pending {
    private final MessageDigest digest;
    private final DataOutputStream out;
    private final List<LiveBatch> live;
    private final RememberedBatches remembered;
    private final byte[] suffix;

    private Pending(
        MessageDigest digest,
        DataOutputStream out,
        List<LiveBatch> live,
        RememberedBatches remembered,
        byte[] suffix) {
      this.digest = digest;
      this.out = out;
      this.live = live;
      this.remembered = remembered;
      this.suffix = suffix;
    }

    /** The signature. Reads only what {@link #begin} copied (a live batch's immutable fields). */
    String finish() {
      try {
        writeKeys(live, remembered, out);
        out.write(suffix);
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException("a digest stream does not fail", e);
      }
      return HexFormat.of().formatHex(digest.digest());
    }
  }

  private static void writeBeforeKeys(PipelineState s, DataOutput out) throws IOException {
    Encoding.string(out, VERSION);
    StateFields.writeBeforeRemembered(s, out, true);
  }

  /**
   * The remembered idempotency keys (live batches and gone ones, merged in key order) and the
   * remembered acks. The gone ones are sorted as entry numbers and turned into objects one at a
   * time, as they are written, so that nothing proportional to the remembered batches stays alive
   * but two int arrays.
   */
  private static void writeKeys(
      List<LiveBatch> live, RememberedBatches remembered, DataOutput out) throws IOException {
    List<LiveBatch> liveByKey = new ArrayList<>(live);
    liveByKey.sort(Comparator.comparing(LiveBatch::idempotencyKey));
    int[] gone = remembered.sortedByKey(true);
    out.writeInt(liveByKey.size() + gone.length);
    int l = 0;
    int g = 0;
    while (l < liveByKey.size() || g < gone.length) {
      // On equal keys the live batch first, as a stable sort of live-then-gone would.
      if (g == gone.length || (l < liveByKey.size()
          && remembered.compareKey(liveByKey.get(l).idempotencyKey(), gone[g], true) <= 0)) {
        writeKey(liveByKey.get(l++), out);
      } else {
        writeKey(remembered.entryAt(gone[g++]), out);
      }
    }
    int[] acks = remembered.sortedByKey(false);
    out.writeInt(acks.length);
    for (int offset : acks) {
      ProcessResult r = remembered.entryAt(offset).result();
      Encoding.string(out, r.batchKey());
      Encoding.string(out, r.stage());
      out.writeLong(r.records());
      out.writeInt(r.attempt());
      out.writeLong(r.runId());
      out.writeLong(r.startedAtMs());
      out.writeLong(r.completedAtMs());
      out.writeLong(r.completedAtMs()); // done_at: an ack is done when it completes
    }
  }

  private static void writeKey(Accepted e, DataOutput out) throws IOException {
    Encoding.string(out, e.idempotencyKey());
    Encoding.string(out, e.batchKey());
    Encoding.string(out, e.stage());
    out.writeLong(e.records());
    out.writeLong(e.sequence());
    out.writeBoolean(e.isLive());
    out.writeLong(e.leftAtMs());
  }

  private static void writeAfterKeys(PipelineState s, DataOutput out) throws IOException {
    StateFields.writeAfterRemembered(s, out, true);
  }
}
