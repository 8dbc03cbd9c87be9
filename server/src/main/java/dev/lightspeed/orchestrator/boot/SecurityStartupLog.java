package dev.lightspeed.orchestrator.boot;

import dev.lightspeed.orchestrator.security.TokenFile;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Start-up log lines about how the server is protected (never a secret). */
final class SecurityStartupLog {
  private static final Logger log = LoggerFactory.getLogger(SecurityStartupLog.class);

  private SecurityStartupLog() {}

  /**
   * INFO {@code event=security}: TLS, mutual TLS, number of tokens. WARN {@code
   * event=insecure_exposure} when {@code --insecure} lets a non-loopback address go without TLS
   * or authentication; WARN {@code event=token_file_readable} when the token file can be read by
   * its group or others.
   */
  static void log(ProductionOptions options, String bind, TokenFile tokens)
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
