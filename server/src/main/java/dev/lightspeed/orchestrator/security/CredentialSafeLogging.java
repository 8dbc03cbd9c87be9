package dev.lightspeed.orchestrator.security;

import io.netty.util.internal.logging.InternalLogLevel;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;
import java.lang.reflect.Proxy;
import java.util.Set;

/**
 * No log level can print a credential. grpc-netty's HTTP/2 frame loggers ({@code
 * io.grpc.netty.NettyServerHandler}, {@code io.grpc.netty.NettyClientHandler}) print every header
 * frame at DEBUG, {@code authorization: Bearer …} included, wrong tokens too; so those two loggers
 * are replaced by one that is never enabled, whatever level the operator configures. Installed
 * before any Netty channel exists (ServerMain's first line, and when this server class loads):
 * the frame loggers are created once, when grpc-netty's handler classes load.
 */
public final class CredentialSafeLogging {
  /** Loggers that would print request headers, credentials included. */
  static final Set<String> SILENCED =
      Set.of("io.grpc.netty.NettyServerHandler", "io.grpc.netty.NettyClientHandler");

  private CredentialSafeLogging() {}

  /** Makes Netty's logger factory hand out silent loggers for {@link #SILENCED}; idempotent. */
  public static synchronized void install() {
    if (!(InternalLoggerFactory.getDefaultFactory() instanceof Factory)) {
      InternalLoggerFactory.setDefaultFactory(new Factory());
    }
  }

  /** Netty's SLF4J binding (the server logs through SLF4J), minus the frame loggers. */
  private static final class Factory extends Slf4JLoggerFactory {
    @SuppressWarnings("deprecation")
    Factory() {
      super();
    }

    @Override
    public InternalLogger newInstance(String name) {
      return SILENCED.contains(name) ? silent(name) : super.newInstance(name);
    }
  }

  /** A logger that is enabled at no level and drops everything. */
  static InternalLogger silent(String name) {
    return (InternalLogger) Proxy.newProxyInstance(
        InternalLogger.class.getClassLoader(), new Class<?>[] {InternalLogger.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "name" -> name;
          case "isEnabled", "isTraceEnabled", "isDebugEnabled", "isInfoEnabled", "isWarnEnabled",
              "isErrorEnabled" -> false;
          case "toString" -> "silent logger " + name;
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> null;
        });
  }

  /** For tests: whether {@code level} is enabled on the logger Netty now hands out for name. */
  static boolean enabled(String name, InternalLogLevel level) {
    return InternalLoggerFactory.getInstance(name).isEnabled(level);
  }
}
