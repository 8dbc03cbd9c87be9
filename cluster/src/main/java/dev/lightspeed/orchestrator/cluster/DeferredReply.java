package dev.lightspeed.orchestrator.cluster;

import java.util.function.Supplier;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * A leader's apply reply, encoded the first time Ratis reads it (when it sends the reply to the
 * client, after the apply lock is released), then kept. Only the leader's replies are deferred:
 * a follower's would wait unread in Ratis' retry cache for a minute, holding the apply's result
 * objects (see {@link PipelineGroupStateMachine#applyTransaction}). See
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
