package dev.lightspeed.orchestrator.cluster;

import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The cluster's membership-change lock, kept by the membership group (docs/cluster.md, "Two
 * changes at once"): a change takes it before it touches any group and gives it back when done,
 * so two changes sent to two different nodes at once cannot interleave their configuration
 * changes, nor overwrite each other's list of nodes.
 *
 * <p>Deterministic, like every replicated state: an entry carries its submitter's {@code now} and
 * the lock's time to live, and every replica decides the same. A holder that dies mid-change
 * holds the lock until its time runs out; the same holder (the same node, running the change
 * again, as a half-done change is finished) takes it again at once.
 *
 * <p>Entries start with a 0 byte, which no {@code ClusterConfig} entry (the group's other kind,
 * a protobuf message: its first byte is a field tag, never 0) can start with.
 */
final class ChangeLock {
  static final byte ENTRY_MARK = 0;
  private static final byte ACQUIRE = 1;
  private static final byte RELEASE = 2;

  /** Who holds the lock and until when (the holder's clock, ms since the epoch). */
  record Held(String holder, long untilMs) {}

  private Held held;
  /** The node the holder's change adds, while it runs (null: none, or a removal). */
  private ClusterPeer joining;

  /** Whether {@code entry} is one of this lock's entries (else it is a list of nodes). */
  static boolean isLockEntry(byte[] entry) {
    return entry.length > 0 && entry[0] == ENTRY_MARK;
  }

  static byte[] acquire(String holder, long nowMs, long ttlMs) {
    return acquire(holder, nowMs, ttlMs, null);
  }

  /**
   * Takes the lock for a change that adds {@code joining} (null: a removal): while the change
   * runs, every node's Raft TLS check accepts that node's certificate ({@link
   * PeerCertificateCheck#trustAlso}), since its groups change before the list of nodes does.
   */
  static byte[] acquire(String holder, long nowMs, long ttlMs, ClusterPeer joining) {
    return entry(ACQUIRE, holder, nowMs, ttlMs, joining);
  }

  static byte[] release(String holder, long nowMs) {
    return entry(RELEASE, holder, nowMs, 0, null);
  }

  private static byte[] entry(byte op, String holder, long nowMs, long ttlMs,
      ClusterPeer joining) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(ENTRY_MARK);
      out.writeByte(op);
      out.writeUTF(holder);
      out.writeLong(nowMs);
      out.writeLong(ttlMs);
      byte[] peer = joining == null ? new byte[0] : joining.toByteArray();
      out.writeInt(peer.length);
      out.write(peer);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Applies an entry; the reply is empty when an acquire was granted (or for a release), else
   * the holder that keeps the lock and until when.
   */
  synchronized byte[] apply(byte[] entry) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry));
    in.readByte();
    byte op = in.readByte();
    String holder = in.readUTF();
    long nowMs = in.readLong();
    long ttlMs = in.readLong();
    byte[] peer = new byte[in.readInt()];
    in.readFully(peer);
    switch (op) {
      case ACQUIRE -> {
        if (held == null || held.holder().equals(holder) || held.untilMs() <= nowMs) {
          held = new Held(holder, nowMs + ttlMs);
          joining = peer.length == 0 ? null : ClusterPeer.parseFrom(peer);
          return new byte[0];
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
          out.writeUTF(held.holder());
          out.writeLong(held.untilMs());
        }
        return bytes.toByteArray();
      }
      case RELEASE -> {
        if (held != null && held.holder().equals(holder)) {
          held = null;
          joining = null;
        }
        return new byte[0];
      }
      default -> throw new IOException("unknown change-lock operation " + op);
    }
  }

  /** The node the running change adds, or null. */
  synchronized ClusterPeer joining() {
    return joining;
  }

  /** Who holds the lock now, or null. */
  synchronized Held held() {
    return held;
  }

  /** The holder an acquire's reply names, or null when it was granted. */
  static Held refusal(byte[] reply) throws IOException {
    if (reply.length == 0) {
      return null;
    }
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(reply));
    return new Held(in.readUTF(), in.readLong());
  }
}
