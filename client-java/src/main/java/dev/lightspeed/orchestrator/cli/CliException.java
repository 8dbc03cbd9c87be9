package dev.lightspeed.orchestrator.cli;

/** A failure the CLI reports itself as {@code ERROR <reason>: <message>}, with its exit code. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String reason;
  private final int exitCode;

  CliException(String reason, String message, int exitCode) {
    super(message);
    this.reason = reason;
    this.exitCode = exitCode;
  }

  String reason() {
    return reason;
  }

  int exitCode() {
    return exitCode;
  }
}
