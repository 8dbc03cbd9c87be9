package dev.lightspeed.orchestrator.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A run of one suite rewrites its own parts of BENCHMARKS.md and keeps the others. */
class ReportWriteTest {
  @TempDir Path dir;

  private static final String OLD = """
      # Benchmarks

      ## Targets

      | target | measured | |
      |---|---|---|
      | Core: ≥ 2,000,000 life cycles/s on one thread, flat | 2,793,217/s | met |
      | Server, durable, 64 clients, bulk: ≥ 100,000 life cycles/s | 259,138/s | met |
      | Recovery of 1,000,000 records: < 3 s | 1,197 ms | met |

      ## Commands

      <!-- report:command-load -->
      Server load and recovery, as run: OLD LOAD COMMAND
      <!-- /report:command-load -->
      <!-- report:machine-load -->
      ### Machine of the server run OLD
      <!-- /report:machine-load -->
      <!-- report:load -->
      ## Server under load OLD TABLE
      <!-- /report:load -->
      <!-- report:peer -->
      ## Work stream vs. BullMQ OLD PEER TABLE
      <!-- /report:peer -->
      <!-- report:jmh -->
      ## The core on one thread OLD JMH TABLE
      <!-- /report:jmh -->
      """;

  private String write(Path results) throws Exception {
    Path out = dir.resolve("BENCHMARKS.md");
    Files.writeString(out, OLD);
    int exit = new CommandLine(new Report()).execute("write", "--results", results.toString(),
        "--out", out.toString(), "--findings", dir.resolve("no-findings.md").toString());
    assertEquals(0, exit);
    return Files.readString(out);
  }

  @Test
  void aPeerOnlyRun_replacesThePeerTable_andKeepsEveryOtherPart() throws Exception {
    Path results = Files.createDirectories(dir.resolve("results"));
    Files.writeString(results.resolve("peer.md"), "| NEW PEER ROW |");

    String md = write(results);

    assertTrue(md.contains("NEW PEER ROW"), md);
    assertTrue(!md.contains("OLD PEER TABLE"), md);
    for (String kept : new String[] {"OLD LOAD COMMAND", "### Machine of the server run OLD",
        "## Server under load OLD TABLE", "## The core on one thread OLD JMH TABLE",
        "| Core: ≥ 2,000,000 life cycles/s on one thread, flat | 2,793,217/s | met |",
        "| Server, durable, 64 clients, bulk: ≥ 100,000 life cycles/s | 259,138/s | met |",
        "| Recovery of 1,000,000 records: < 3 s | 1,197 ms | met |"}) {
      assertTrue(md.contains(kept), "lost: " + kept + "\n" + md);
    }
  }

  @Test
  void aRunWithNoResults_writesTheSameFileAgain() throws Exception {
    Path results = Files.createDirectories(dir.resolve("empty"));
    String first = write(results);
    Files.writeString(dir.resolve("again.md"), first);
    int exit = new CommandLine(new Report()).execute("write", "--results", results.toString(),
        "--out", dir.resolve("again.md").toString(),
        "--findings", dir.resolve("no-findings.md").toString());
    assertEquals(0, exit);
    assertEquals(first, Files.readString(dir.resolve("again.md")));
  }

  @Test
  void rowKey_isTheTargetsName() {
    assertEquals("Server, durable, 64 clients, bulk",
        Kept.rowKey("| Server, durable, 64 clients, bulk: ≥ 100,000 life cycles/s | 1/s | met |"));
    assertEquals("Core", Kept.rowKey("| Core: ≥ 2,000,000 | not run (`make bench-jmh`) | |"));
  }
}
