package dev.lightspeed.orchestrator.server;

import com.google.protobuf.MessageLite;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw HTTP/2 client that starts gRPC calls and never reads a reply: it announces a stream
 * flow-control window of zero and never opens it, so the server may send headers and trailers
 * but not a byte of a reply's data. (A grpc-java client cannot do this: its transport buffers and
 * acknowledges data even when the application asks for no message.)
 */
final class NonReadingClient implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;
  private final Http2ConnectionHandler http2;
  private final String authority;
  private final CountDownLatch serverSettings = new CountDownLatch(1);
  /** Calls that ended with RESOURCE_EXHAUSTED (grpc-status 8) in their trailers. */
  final AtomicInteger exhausted = new AtomicInteger();

  NonReadingClient(int port) {
    this.authority = "127.0.0.1:" + port;
    this.http2 = new Http2ConnectionHandlerBuilder()
        .server(false)
        .gracefulShutdownTimeoutMillis(0) // leave at once, as a client that vanishes does
        .initialSettings(new Http2Settings().initialWindowSize(0))
        .frameListener(new Http2FrameAdapter() {
          @Override
          public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {
            serverSettings.countDown();
          }

          @Override
          public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data,
              int padding, boolean endOfStream) {
            return 0; // nothing consumed: no WINDOW_UPDATE is ever sent
          }

          @Override
          public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
              int padding, boolean endOfStream) {
            CharSequence status = headers.get("grpc-status");
            if (endOfStream && status != null && "8".contentEquals(status)) {
              exhausted.incrementAndGet();
            }
          }

          @Override
          public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
              int streamDependency, short weight, boolean exclusive, int padding,
              boolean endOfStream) {
            onHeadersRead(ctx, streamId, headers, padding, endOfStream);
          }
        })
        .build();
    this.channel = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(http2)
        .connect("127.0.0.1", port).syncUninterruptibly().channel();
    try {
      if (!serverSettings.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the server sent no HTTP/2 SETTINGS within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts {@code count} unary calls of {@code path} with {@code request}; never reads them. */
  void call(String path, MessageLite request, int count) {
    byte[] body = request.toByteArray();
    channel.eventLoop().submit(() -> {
      ChannelHandlerContext ctx = channel.pipeline().context(http2);
      for (int i = 0; i < count; i++) {
        int stream = http2.connection().local().incrementAndGetNextStreamId();
        Http2Headers headers = new DefaultHttp2Headers()
            .method("POST").scheme("http").path(path).authority(authority)
            .add("content-type", "application/grpc").add("te", "trailers");
        http2.encoder().writeHeaders(ctx, stream, headers, 0, false, ctx.newPromise());
        ByteBuf frame = Unpooled.buffer(5 + body.length);
        frame.writeByte(0).writeInt(body.length).writeBytes(body);
        http2.encoder().writeData(ctx, stream, frame, 0, true, ctx.newPromise());
      }
      // Through the handler's flush: it writes what its flow controller holds, then flushes.
      channel.flush();
    }).syncUninterruptibly();
  }

  @Override
  public void close() {
    if (group.isShuttingDown()) {
      return;
    }
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
