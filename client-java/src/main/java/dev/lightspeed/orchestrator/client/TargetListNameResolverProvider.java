package dev.lightspeed.orchestrator.client;

import com.google.common.net.HostAndPort;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import io.grpc.StatusOr;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The {@code lightspeed-targets:///host1:port1,host2:port2} name resolver: several servers (the
 * nodes of a cluster) behind one channel, so that the channel's pick_first policy uses the first
 * one that answers and moves on to the next when it goes away.
 *
 * <p>Why our own: grpc-java ships resolvers for one DNS name ({@code dns:}) and Unix sockets
 * only; the {@code ipv4:}/{@code ipv6:} address lists of gRPC C-core and grpc-js do not exist
 * in it. A {@link NameResolverProvider} is the library's extension point for exactly this; the
 * load balancing, reconnection and retries stay the library's.
 *
 * <p>Each target is one address group, in the order given (pick_first tries them in order);
 * a host name is resolved here, to all its addresses, at start and on every {@link
 * NameResolver#refresh()} (the channel calls it when connections fail). A target whose name does
 * not resolve is left out as long as another one does.
 */
final class TargetListNameResolverProvider extends NameResolverProvider {
  static final String SCHEME = "lightspeed-targets";
  private static final TargetListNameResolverProvider INSTANCE = new TargetListNameResolverProvider();

  static {
    // Registered in code, not through META-INF/services: it then also works from a jar shaded
    // without merging service files.
    NameResolverRegistry.getDefaultRegistry().register(INSTANCE);
  }

  /** The channel target for {@code targets} ("host:port" each), registering the resolver. */
  static String channelTarget(List<String> targets) {
    try {
      // The URI constructor quotes what a path may not hold, e.g. the brackets of [::1]:50051.
      return new URI(SCHEME, "", "/" + String.join(",", targets), null).toString();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("bad targets " + targets + ": " + e.getMessage(), e);
    }
  }

  @Override
  public NameResolver newNameResolver(URI uri, NameResolver.Args args) {
    if (!SCHEME.equals(uri.getScheme())) {
      return null;
    }
    List<HostAndPort> targets = new ArrayList<>();
    for (String t : uri.getPath().substring(1).split(",")) {
      targets.add(HostAndPort.fromString(t.strip()).withDefaultPort(args.getDefaultPort()));
    }
    return new Resolver(targets, args);
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }

  private static final class Resolver extends NameResolver {
    private final List<HostAndPort> targets;
    private final Executor resolveExecutor;
    private final io.grpc.SynchronizationContext syncContext;
    private Listener2 listener;
    private boolean resolving;
    private boolean shutdown;

    Resolver(List<HostAndPort> targets, Args args) {
      this.targets = List.copyOf(targets);
      // Name lookups block: off the channel's synchronization context when the channel has
      // an executor for that.
      Executor offload = args.getOffloadExecutor();
      this.resolveExecutor = offload != null ? offload : Runnable::run;
      this.syncContext = args.getSynchronizationContext();
    }

    /** The first target: the authority (TLS host name) unless the builder overrides it. */
    @Override
    public String getServiceAuthority() {
      return targets.get(0).toString();
    }

    @Override
    public void start(Listener2 listener) {
      this.listener = listener;
      resolve();
    }

    @Override
    public void refresh() {
      resolve();
    }

    private void resolve() {
      if (resolving || shutdown) {
        return;
      }
      resolving = true;
      resolveExecutor.execute(
          () -> {
            StatusOr<List<EquivalentAddressGroup>> result = lookUp();
            syncContext.execute(
                () -> {
                  resolving = false;
                  if (!shutdown) {
                    listener.onResult2(
                        ResolutionResult.newBuilder().setAddressesOrError(result).build());
                  }
                });
          });
    }

    private StatusOr<List<EquivalentAddressGroup>> lookUp() {
      List<EquivalentAddressGroup> groups = new ArrayList<>();
      List<String> failures = new ArrayList<>();
      for (HostAndPort t : targets) {
        try {
          List<SocketAddress> addresses = new ArrayList<>();
          for (InetAddress a : InetAddress.getAllByName(t.getHost())) {
            addresses.add(new InetSocketAddress(a, t.getPort()));
          }
          groups.add(new EquivalentAddressGroup(addresses));
        } catch (UnknownHostException e) {
          failures.add(t + " (unknown host)");
        }
      }
      if (groups.isEmpty()) {
        return StatusOr.fromStatus(
            Status.UNAVAILABLE.withDescription("unable to resolve host of any target: " + failures));
      }
      return StatusOr.fromValue(groups);
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }
  }
}
