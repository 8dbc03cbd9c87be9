package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code lightspeed}: the operator CLI of Lightspeed Orchestrator. The global options are
 * accepted before or after any subcommand; every command has {@code --help}.
 *
 * <p>Exit codes: 0 done; 1 the server refused the call or could not be reached (stderr has {@code
 * ERROR <REASON>: <message>}); 2 a usage error (bad option, unreadable or invalid file).
 */
@Command(
    name = "lightspeed",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    version = "lightspeed 0.1.0",
    description = {
      "Operates a Lightspeed Orchestrator server: pipelines, batches, operator actions.",
      "",
      "Examples:",
      "  lightspeed pipelines create --file spec.json",
      "  lightspeed enqueue orders --key b1 --stage extract --records 100",
      "  lightspeed status orders",
      "  lightspeed --target 10.0.0.5:50051 watch orders --count 10",
      "  lightspeed --target n1:50051,n2:50051,n3:50051 status orders   # a cluster",
      ""
    },
    subcommands = {
      PipelinesCommand.class,
      BatchCommands.Enqueue.class,
      BatchCommands.Start.class,
      BatchCommands.Ack.class,
      BatchCommands.Fail.class,
      BatchCommands.ExtendLease.class,
      QueryCommands.Status.class,
      QueryCommands.Batches.class,
      QueryCommands.Retries.class,
      QueryCommands.DeadLetters.class,
      QueryCommands.Audit.class,
      ActionCommands.Pause.class,
      ActionCommands.Resume.class,
      ActionCommands.Drain.class,
      ActionCommands.PauseStage.class,
      ActionCommands.ResumeStage.class,
      ActionCommands.DisableConnector.class,
      ActionCommands.EnableConnector.class,
      ActionCommands.SetMaxInFlight.class,
      ActionCommands.Redrive.class,
      ActionCommands.Discard.class,
      ActionCommands.Cancel.class,
      RunsCommand.class,
      WatchCommand.class,
      EventsCommand.class,
      ClusterCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 done, 1 refused by the server or unreachable (ERROR <REASON>: <message>"
          + " on stderr), 2 usage error."
    })
public final class OrchestratorCli implements Runnable {
  static final int REFUSED = 1;
  static final int USAGE = CommandLine.ExitCode.USAGE;

  @Option(
      names = "--target",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIGHTSPEED_TARGET:-127.0.0.1:50051}",
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "Server address host:port; a host alone means port 50051. Several,"
          + " comma-separated (the nodes of a cluster): the CLI uses the first that answers and"
          + " moves on to the next when one is down (default: $LIGHTSPEED_TARGET, else"
          + " 127.0.0.1:50051).")
  String target;

  @Option(
      names = "--server-name",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIGHTSPEED_SERVER_NAME}",
      paramLabel = "NAME",
      description = "TLS: the name the server certificate must carry, whichever node answers"
          + " (default: $LIGHTSPEED_SERVER_NAME, else the host of the first --target).")
  String serverName;

  @Option(
      names = "--tls",
      scope = ScopeType.INHERIT,
      description = "Use TLS (trusting the JVM's roots, or --ca-file).")
  boolean tls;

  @Option(
      names = "--ca-file",
      scope = ScopeType.INHERIT,
      paramLabel = "PEM",
      description = "Trust these CA certificates (implies --tls).")
  Path caFile;

  // Mutual TLS, for a server started with --tls-client-ca. From the environment too, like
  // --target, so that a worker host configures its identity once.
  @Option(
      names = "--cert-file",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIGHTSPEED_CERT_FILE}",
      paramLabel = "PEM",
      description =
          "Mutual TLS: present this client certificate chain (implies --tls; needs --key-file;"
              + " default: $LIGHTSPEED_CERT_FILE).")
  Path certFile;

  @Option(
      names = "--key-file",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIGHTSPEED_KEY_FILE}",
      paramLabel = "PEM",
      description =
          "Mutual TLS: the client certificate's private key, unencrypted PKCS#8 PEM"
              + " (default: $LIGHTSPEED_KEY_FILE).")
  Path keyFile;

  @Option(
      names = "--token",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:LIGHTSPEED_TOKEN}",
      paramLabel = "TOKEN",
      description =
          "Bearer token for a server started with --token-file (default: $LIGHTSPEED_TOKEN;"
              + " prefer the variable, so the token stays out of shell history).")
  String token;

  @Option(
      names = "--deadline",
      scope = ScopeType.INHERIT,
      defaultValue = "10s",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "Deadline of each call, e.g. 500ms, 10s, 2m (default: ${DEFAULT-VALUE}).")
  Duration deadline;

  @picocli.CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * grpc-java logs a failed name resolution or connection as a WARNING with a stack trace
   * (java.util.logging, to stderr) before the call fails; the CLI reports that failure itself in
   * one ERROR line, so the library's own log is off in the CLI. Held in a field: JUL keeps loggers
   * weakly, and a collected logger forgets its level.
   */
  private static final java.util.logging.Logger GRPC_LOG =
      java.util.logging.Logger.getLogger("io.grpc");

  public static void main(String[] args) {
    GRPC_LOG.setLevel(java.util.logging.Level.OFF);
    System.exit(newCommandLine().execute(args));
  }

  /** The configured command line: error handlers that print {@code ERROR <REASON>: <message>}. */
  public static CommandLine newCommandLine() {
    CommandLine cli = new CommandLine(new OrchestratorCli());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          PrintWriter err = cmd.getErr();
          if (e instanceof OrchestratorException oe) {
            err.println("ERROR " + oe.reasonName() + ": " + oe.getMessage());
            err.flush();
            return REFUSED;
          }
          if (e instanceof CliException ce) {
            err.println("ERROR " + ce.reason() + ": " + ce.getMessage());
            ce.hints().forEach(hint -> err.println("hint: " + hint));
            err.flush();
            return ce.exitCode();
          }
          throw e;
        });
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine cmd = e.getCommandLine();
          PrintWriter err = cmd.getErr();
          err.println("ERROR USAGE: " + e.getMessage());
          if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
            err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
          }
          err.flush();
          return USAGE;
        });
    return cli;
  }

  /** Without a subcommand: the usage help. */
  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code --target}, each address with the default port 50051 when it names a host alone. */
  String effectiveTarget() {
    return String.join(",", effectiveTargets());
  }

  java.util.List<String> effectiveTargets() {
    try {
      return Targets.list(target);
    } catch (IllegalArgumentException e) {
      throw new CliException("USAGE", e.getMessage(), USAGE);
    }
  }

  boolean usesTls() {
    return tls || caFile != null;
  }

  /** A client for the global options; the caller closes it. */
  OrchestratorClient connect() {
    return connect(effectiveTargets());
  }

  /** A client for the global options but these targets (e.g. one node); the caller closes it. */
  OrchestratorClient connect(java.util.List<String> targets) {
    return connect(targets, deadline);
  }

  /** As {@link #connect(java.util.List)}, with another deadline per call. */
  OrchestratorClient connect(java.util.List<String> targets, Duration callDeadline) {
    OrchestratorClient.Builder b =
        OrchestratorClient.builder().targets(targets).tls(tls).deadline(callDeadline);
    if (serverName != null && !serverName.isBlank()) {
      b.overrideAuthority(serverName.strip());
    }
    if (caFile != null) {
      b.trustCertificates(caFile);
    }
    if ((certFile == null) != (keyFile == null)) {
      throw new CliException(
          "USAGE",
          "--cert-file and --key-file go together (or $LIGHTSPEED_CERT_FILE and"
              + " $LIGHTSPEED_KEY_FILE)",
          USAGE);
    }
    if (certFile != null) {
      b.clientCertificate(certFile, keyFile);
    }
    if (token != null && !token.isBlank()) {
      b.bearerToken(token);
    }
    try {
      return b.build();
    } catch (java.io.UncheckedIOException e) {
      // An unreadable CA, certificate or key file: a usage error, not a stack trace.
      throw new CliException("USAGE", e.getMessage() + " (" + e.getCause().getMessage() + ")", USAGE);
    }
  }

  /** Accepts {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}, or an ISO-8601 {@code PT10S}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(java.util.Locale.ROOT);
      try {
        if (v.startsWith("pt")) {
          return Duration.parse(value);
        }
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        return switch (v.charAt(v.length() - 1)) {
          case 's' -> Duration.ofSeconds(n);
          case 'm' -> Duration.ofMinutes(n);
          case 'h' -> Duration.ofHours(n);
          default -> throw new NumberFormatException();
        };
      } catch (RuntimeException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a duration; use e.g. 500ms, 10s, 2m");
      }
    }
  }
}
