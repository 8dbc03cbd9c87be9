package dev.lightspeed.orchestrator.host;

import java.util.function.Supplier;

/**
 * What the hosting of pipelines needs to know about the call it serves, without knowing the
 * transport: whether the call is still live (a mutation whose deadline passed or that was
 * cancelled while it waited for the lock must not be applied), and who makes it (for the audit
 * lines). Both are ambient in gRPC (its {@code Context} is per thread), so they are ambient here
 * too: the server installs how to read them once ({@code OrchestratorServer}); until then every
 * call is live and made by nobody in particular ("-"), as in recovery and in tests of the host.
 */
public final class CallContext {
  private static volatile Runnable ensureLive = () -> { };
  private static volatile Supplier<String> caller = () -> null;

  private CallContext() {}

  /**
   * Installs the transport's checks: {@code ensureLive} throws (a status the transport sends) if
   * the current call is over; {@code caller} names the current call's principal, or null.
   */
  public static void install(Runnable ensureLive, Supplier<String> caller) {
    CallContext.ensureLive = ensureLive;
    CallContext.caller = caller;
  }

  /** Throws if the current call is over; under the pipeline's lock, just before a change. */
  static void ensureLive() {
    ensureLive.run();
  }

  /** The current call's principal (a token's name), or "-" without one. */
  static String caller() {
    String name = caller.get();
    return name == null ? "-" : name;
  }
}
