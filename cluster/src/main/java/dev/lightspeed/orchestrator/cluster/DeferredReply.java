package dev.lightspeed.orchestrator.cluster;

import java.util.function.Supplier;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * An apply's reply that is encoded the first time Ratis reads it, then kept. On the leader that
 * is when the reply goes to the client (after the apply lock is released); on a follower it is
 * normally never: Ratis keeps the reply in its retry cache and drops it unread unless a client
 * resends that call to this node after it became the leader. See
 * {@link ReplicatedState#applyDeferringReply}.
 */
final class DeferredReply implements Message {
  private Supplier<byte[]> encode;
  private volatile ByteString content;

  DeferredReply(Supplier<byte[]> encode) {
    this.encode = encode;
  }

  @Override
  public ByteString getContent() {
    ByteString c = content;
    if (c == null) {
      synchronized (this) {
        c = content;
        if (c == null) {
          c = ByteString.copyFrom(encode.get());
          encode = null; // what the reply was made from can be collected now
          content = c;
        }
      }
    }
    return c;
  }

  /** Whether the reply has been encoded (read) yet. */
  boolean encoded() {
    return content != null;
  }

  @Override
  public String toString() {
    ByteString c = content;
    return c == null ? "DeferredReply(not encoded)" : "DeferredReply(" + c.size() + " bytes)";
  }
}
