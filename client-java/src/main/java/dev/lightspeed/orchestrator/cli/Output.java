package dev.lightspeed.orchestrator.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** How the CLI prints: protobuf JSON, aligned tables, times and outcomes. */
final class Output {
  private static final JsonFormat.Printer JSON =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence();
  private static final JsonFormat.Printer JSON_LINE = JSON.omittingInsignificantWhitespace();

  private Output() {}

  /** A message as indented protobuf JSON (lowerCamelCase names, zero values included). */
  static String json(MessageOrBuilder message) {
    try {
      return JSON.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /** A message as one line of protobuf JSON. */
  static String jsonLine(MessageOrBuilder message) {
    try {
      return JSON_LINE.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /** An epoch-ms instant as ISO-8601 UTC; 0 as "-". */
  static String time(long epochMs) {
    return epochMs == 0 ? "-" : Instant.ofEpochMilli(epochMs).toString();
  }

  /** An enum value without its type prefix: BATCH_STATE_QUEUED → QUEUED. */
  static String shortName(Enum<?> value, String prefix) {
    String name = value.name();
    return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
  }

  /** One line about a started batch. */
  static List<String> row(StartedBatch s) {
    return List.of(
        s.getBatch().getKey(),
        s.getBatch().getStage(),
        Long.toString(s.getBatch().getRecords()),
        Integer.toString(s.getAttempt()),
        time(s.getLeaseDeadlineMs()),
        Long.toString(s.getRunId()));
  }

  static final List<String> STARTED_HEADER =
      List.of("KEY", "STAGE", "RECORDS", "ATTEMPT", "LEASE_DEADLINE", "RUN");

  /** A process outcome in words. */
  static String describe(ProcessOutcome o) {
    return switch (o.getOutcomeCase()) {
      case PROCESSED -> {
        var p = o.getProcessed();
        yield "processed " + p.getBatchKey() + " (stage " + p.getStage() + ", attempt "
            + p.getAttempt() + ", " + p.getRecords() + " records, run " + p.getRunId() + ")";
      }
      case RETRY_SCHEDULED -> {
        var r = o.getRetryScheduled();
        yield "retry scheduled: " + r.getBatchKey() + " attempt " + r.getNextAttempt() + " at "
            + time(r.getRetryAtMs()) + " (" + r.getReason() + ")";
      }
      case DEAD_LETTERED -> {
        var d = o.getDeadLettered();
        yield "dead-lettered: " + d.getBatchKey() + " to " + d.getDestination() + " ("
            + d.getReason() + ")";
      }
      case FAILURE_REJECTED -> "failure rejected: " + o.getFailureRejected().getReason();
      case OUTCOME_NOT_SET -> "no outcome";
    };
  }

  /** Prints rows under a header, columns padded to their widest cell; "(none)" when empty. */
  static void table(PrintWriter out, List<String> header, List<List<String>> rows) {
    if (rows.isEmpty()) {
      out.println("(none)");
      out.flush();
      return;
    }
    int[] widths = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> row : all) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        if (i > 0) {
          line.append("  ");
        }
        line.append(
            i == row.size() - 1 ? row.get(i) : String.format("%-" + widths[i] + "s", row.get(i)));
      }
      out.println(line);
    }
    out.flush();
  }
}
