package dev.lightspeed.orchestrator.cli;

/** A failure the CLI reports itself as {@code ERROR <reason>: <message>}, with its exit code. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String reason;
  private final int exitCode;
  private final java.util.List<String> hints;

  CliException(String reason, String message, int exitCode) {
    this(reason, message, exitCode, java.util.List.of(), null);
  }

  /** With lines of advice printed after the error (see {@link Hints}). */
  CliException(String reason, String message, int exitCode, java.util.List<String> hints,
      Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.exitCode = exitCode;
    this.hints = java.util.List.copyOf(hints);
  }

  java.util.List<String> hints() {
    return hints;
  }

  String reason() {
    return reason;
  }

  int exitCode() {
    return exitCode;
  }
}
