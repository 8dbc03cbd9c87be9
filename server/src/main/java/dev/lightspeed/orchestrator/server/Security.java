package dev.lightspeed.orchestrator.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Start-up log lines about how the server is protected (never a secret). */
final class Security {
  private static final Logger log = LoggerFactory.getLogger(Security.class);

  private Security() {}

  /**
   * INFO {@code event=pipeline_created} / {@code pipeline_deleted}: who (the token's name from
   * the token file, "-" without tokens or at start-up) changed which pipeline.
   */
  static void audit(String event, String pipeline) {
    TokenFile.Principal by = AuthInterceptor.PRINCIPAL.get();
    log.atInfo()
        .addKeyValue("event", event)
        .addKeyValue("pipeline", pipeline)
        .addKeyValue("by", by == null ? "-" : by.name())
        .log(event.replace('_', ' '));
  }

  /**
   * INFO {@code event=security}: TLS, mutual TLS, number of tokens. WARN {@code
   * event=insecure_exposure} when {@code --insecure} lets a non-loopback address go without TLS
   * or authentication; WARN {@code event=token_file_readable} when the token file can be read by
   * its group or others.
   */
  static void logStartup(ProductionOptions options, String bind, TokenFile tokens)
      throws UnknownHostException {
    log.atInfo()
        .addKeyValue("event", "security")
        .addKeyValue("tls", options.tls())
        .addKeyValue("mutual_tls", options.tlsClientCa != null)
        .addKeyValue("tokens", tokens == null ? 0 : tokens.size())
        .log(tokens == null
            ? "no token file: every OrchestratorService call is allowed"
            : "bearer tokens required for OrchestratorService calls; health and reflection open");
    boolean loopback = InetAddress.getByName(bind).isLoopbackAddress();
    if (!loopback && (!options.tls() || !options.authenticated())) {
      log.atWarn()
          .addKeyValue("event", "insecure_exposure")
          .addKeyValue("bind", bind)
          .log("--insecure: listening on a non-loopback address without "
              + (options.tls() ? "authentication" : options.authenticated() ? "TLS"
                  : "TLS or authentication"));
    }
    if (tokens != null && ProductionOptions.readableByOthers(options.tokenFile)) {
      log.atWarn()
          .addKeyValue("event", "token_file_readable")
          .addKeyValue("file", options.tokenFile)
          .log("the token file can be read by other users; chmod 600 it");
    }
  }
}
