package dev.lightspeed.orchestrator.security;

import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.grpc.ErrorMapper;
import dev.lightspeed.orchestrator.host.ServerReason;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer-token authentication and role checks for the OrchestratorService (installed only when
 * the server has a {@code --token-file}). A call must carry {@code authorization: Bearer TOKEN}:
 * no header is UNAUTHENTICATED MISSING_CREDENTIALS, a malformed or unknown token UNAUTHENTICATED
 * INVALID_CREDENTIALS, a known token without the RPC's {@link Role} PERMISSION_DENIED
 * ROLE_REQUIRED; each with an ErrorInfo, through {@link ErrorMapper}. A refused call never
 * reaches the service. The health and reflection services are not behind this interceptor.
 *
 * <p>Logs: each refusal at DEBUG ({@code event=auth_refused}); per reason at most one WARN per
 * {@value #WARN_EVERY_MS} ms, counting the refusals since, so a misconfigured client cannot flood
 * the log. Only the token's name from the token file is ever logged, never the token.
 */
public final class AuthInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);
  static final long WARN_EVERY_MS = 60_000;
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** The authenticated caller, in the context of an accepted call. */
  static final Context.Key<TokenFile.Principal> PRINCIPAL = Context.key("lightspeed.principal");

  private static final String BEARER = "bearer ";

  private final TokenFile tokens;
  /** Per reason: when it was last logged at WARN, and how many refusals since. */
  private final java.util.Map<ServerReason, AtomicLong[]> warned =
      new java.util.EnumMap<>(ServerReason.class);

  /** The name of the current call's token; null outside an accepted call (or without tokens). */
  public static String callerName() {
    TokenFile.Principal principal = PRINCIPAL.get();
    return principal == null ? null : principal.name();
  }

  public AuthInterceptor(TokenFile tokens) {
    this.tokens = tokens;
    for (ServerReason r : List.of(ServerReason.MISSING_CREDENTIALS,
        ServerReason.INVALID_CREDENTIALS, ServerReason.ROLE_REQUIRED)) {
      warned.put(r, new AtomicLong[] {new AtomicLong(Long.MIN_VALUE / 2), new AtomicLong()});
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Rejection refusal;
    TokenFile.Principal principal = null;
    String header = headers.get(AUTHORIZATION);
    if (header == null) {
      refusal = Rejection.of(ServerReason.MISSING_CREDENTIALS,
          "this server needs a bearer token: send the header 'authorization: Bearer <token>'"
              + " with a token from the server's token file");
    } else if (moreThanOne(headers.getAll(AUTHORIZATION))) {
      // Which one would count? Metadata.get takes the last; a proxy or a log may take the
      // first. Refused rather than guessed.
      refusal = Rejection.of(ServerReason.INVALID_CREDENTIALS,
          "the call carries more than one authorization header; send exactly one"
              + " 'authorization: Bearer <token>'");
    } else if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())
        || !TokenFile.wellFormed(header.substring(BEARER.length()).strip())) {
      refusal = Rejection.of(ServerReason.INVALID_CREDENTIALS,
          "the authorization header must be 'Bearer <token>' with a token of "
              + TokenFile.MIN_TOKEN_LENGTH + " to " + TokenFile.MAX_TOKEN_LENGTH
              + " visible ASCII characters");
    } else {
      principal = tokens.authenticate(header.substring(BEARER.length()).strip());
      Role needed = Role.of(method);
      if (principal == null) {
        refusal = Rejection.of(ServerReason.INVALID_CREDENTIALS,
            "the bearer token is not one this server accepts; check it against the server's"
                + " token file");
      } else if (needed == null || !principal.roles().contains(needed)) {
        String rpc = call.getMethodDescriptor().getBareMethodName();
        refusal = Rejection.of(ServerReason.ROLE_REQUIRED,
            needed == null
                ? rpc + " is not open to any token"
                : rpc + " needs the role '" + needed.label() + "', which the token '"
                    + principal.name() + "' does not have; add it to the token's line in the"
                    + " token file");
      } else {
        refusal = null;
      }
    }
    if (refusal == null) {
      return Contexts.interceptCall(
          Context.current().withValue(PRINCIPAL, principal), call, headers, next);
    }
    logRefusal(call, method, refusal, principal);
    StatusRuntimeException status = ErrorMapper.toException(refusal, null, "");
    call.close(status.getStatus(), status.getTrailers() == null ? new Metadata() : status.getTrailers());
    return new ServerCall.Listener<>() {};
  }

  private static boolean moreThanOne(Iterable<String> values) {
    var it = values.iterator();
    it.next();
    return it.hasNext();
  }

  private void logRefusal(
      ServerCall<?, ?> call, String method, Rejection refusal, TokenFile.Principal principal) {
    Object remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    String who = principal == null ? "-" : principal.name();
    log.atDebug()
        .addKeyValue("event", "auth_refused")
        .addKeyValue("reason", refusal.reason())
        .addKeyValue("method", method)
        .addKeyValue("token_name", who)
        .addKeyValue("remote", remote)
        .log("call refused");
    AtomicLong[] state = warned.get(refusal.reason());
    AtomicLong lastWarnMs = state[0];
    long refused = state[1].incrementAndGet();
    long now = System.currentTimeMillis();
    long last = lastWarnMs.get();
    if (now - last >= WARN_EVERY_MS && lastWarnMs.compareAndSet(last, now)) {
      state[1].addAndGet(-refused);
      log.atWarn()
          .addKeyValue("event", "auth_refused")
          .addKeyValue("reason", refusal.reason())
          .addKeyValue("method", method)
          .addKeyValue("token_name", who)
          .addKeyValue("remote", remote)
          .addKeyValue("refused_since_last_warning", refused)
          .log("calls refused by the token check (one warning a minute per reason at most;"
              + " DEBUG logs each)");
    }
  }
}
