package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.EventStream;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.EventType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lightspeed events}: a pipeline's events, followed like {@code tail -f}. */
@Command(
    name = "events",
    description = {
      "Print a pipeline's events (WatchEvents) and follow new ones, like tail -f.",
      "--after ID resumes after an event id (0 = every retained event); the stream resumes by",
      "itself if it is cut off or the connection drops. Ctrl-C, or --count, stops it."
    })
final class EventsCommand extends ClientCommand {
  @Parameters(paramLabel = "PIPELINE")
  String pipeline;

  @Option(names = "--after", paramLabel = "ID", description = "Resume after this event id.")
  Long after;

  @Option(
      names = "--type",
      split = ",",
      paramLabel = "TYPE",
      description = "Only these types, e.g. ACKED,DEAD_LETTERED (repeatable).")
  List<String> typeNames = new ArrayList<>();

  @Option(names = "--count", defaultValue = "0", description = "Stop after this many; 0 = follow.")
  long count;

  @Option(names = "--json", description = "Print one Event JSON per line.")
  boolean json;

  @Override
  int run(OrchestratorClient client) {
    List<EventType> types = new ArrayList<>();
    for (String name : typeNames) {
      String full = name.toUpperCase(Locale.ROOT);
      full = full.startsWith("EVENT_TYPE_") ? full : "EVENT_TYPE_" + full;
      try {
        EventType t = EventType.valueOf(full);
        if (t == EventType.EVENT_TYPE_UNSPECIFIED) {
          throw new IllegalArgumentException();
        }
        types.add(t);
      } catch (IllegalArgumentException e) {
        throw new CliException("USAGE", "unknown event type '" + name + "'; use ENQUEUED,"
            + " STARTED, LEASE_EXPIRED, ACKED, RETRY_SCHEDULED, DEAD_LETTERED, ACTION_APPLIED,"
            + " RUN_STARTED or RUN_COMPLETED", OrchestratorCli.USAGE);
      }
    }
    try (EventStream stream = client.watchEvents(pipeline, after, types)) {
      long seen = 0;
      while ((count == 0 || seen < count) && stream.hasNext()) {
        Event e = stream.next();
        out().println(json ? Output.jsonLine(e) : line(e));
        out().flush();
        seen++;
      }
    }
    return 0;
  }

  /** {@code <id>  <at_ms>  <TYPE>  <payload as compact JSON>}. */
  private static String line(Event e) {
    String type = e.getPayloadCase().name();
    var field = e.getDescriptorForType().findFieldByName(type.toLowerCase(Locale.ROOT));
    Object payload = field == null ? null : e.getField(field);
    String body = payload instanceof com.google.protobuf.MessageOrBuilder m ? Output.jsonLine(m) : "";
    return e.getEventId() + "  " + e.getAtMs() + "  " + type + "  " + body;
  }
}
