package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;

import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard at scale (not part of `make test`; its name matches no Surefire pattern): 1,000
 * pipelines, 100,000 live batches in one. Measures page load and update latency in headless
 * Chromium. Run:
 * {@code mvn -B -ntp -pl server test -Dtest=DashboardScaleBench -Dsurefire.failIfNoSpecifiedTests=false}
 * Results: stdout and target/dashboard-scale.txt (docs/dashboard.md has the figures).
 */
class DashboardScaleBench {
  static final int PIPELINES = 1000;
  static final int BATCHES = 100_000;

  private final List<String> report = new ArrayList<>();

  private void note(String line) {
    System.out.println("[scale] " + line);
    report.add(line);
  }

  private static long median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static void startAndAck(
      dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub ops,
      String name) {
    var it = ops.startAvailable(StartAvailableRequest.newBuilder().setPipeline(name)
        .setMaxBatches(1).build());
    while (it.hasNext()) {
      var sb = it.next().getStarted();
      ops.ackBatch(AckBatchRequest.newBuilder().setPipeline(name)
          .setKey(sb.getBatch().getKey()).setAttempt(sb.getAttempt()).build());
    }
  }

  @Test
  void pageLoadAndUpdateLatency() throws Exception {
    DashboardBrowserTest.start();
    try {
      var f = DashboardBrowserTest.fixture;
      var browser = DashboardBrowserTest.browser;
      var js = (JavascriptExecutor) browser;
      var ops = f.grpc(DashboardFixture.OPS);
      long t0 = System.nanoTime();
      for (int i = 0; i < PIPELINES; i++) {
        ops.createPipeline(CreatePipelineRequest.newBuilder().setSpec(
            pipeline(String.format("p%04d", i), "load")
                .setBoundary(Boundary.newBuilder().setMaxQueued(BATCHES * 2L))).build());
      }
      for (int from = 0; from < BATCHES; from += 1000) {
        EnqueueBatchesRequest.Builder req = EnqueueBatchesRequest.newBuilder().setPipeline("p0000");
        for (int i = from; i < from + 1000; i++) {
          req.addBatches(batch(String.format("b%06d", i), "load", i + 1));
        }
        ops.enqueueBatches(req.build());
      }
      note(String.format("set-up: %d pipelines, %d batches in p0000, %.1f s", PIPELINES, BATCHES,
          (System.nanoTime() - t0) / 1e9));

      browser.get(f.baseUrl() + "/");
      DashboardBrowserTest.signIn(DashboardFixture.OPS);
      WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60),
          Duration.ofMillis(20));
      List<Long> loads = new ArrayList<>();
      for (int run = 0; run < 3; run++) {
        long s = System.nanoTime();
        browser.navigate().refresh();
        wait.until(d -> String.valueOf(BATCHES).equals(js.executeScript(
            "const c = document.querySelector(\"tr[data-pipeline='p0000'] td.c-queued\");"
                + "return c && c.textContent;"))
            && Boolean.TRUE.equals(js.executeScript(
                "return [...document.querySelectorAll('td.c-queued')].length === 50 &&"
                    + " [...document.querySelectorAll('td.c-queued')]"
                    + ".every(c => c.textContent !== '…');")));
        loads.add((System.nanoTime() - s) / 1_000_000);
      }
      note("overview load (reload until 50 rows of 1,000 pipelines show counts): median "
          + median(loads) + " ms, runs " + loads);
      long ages = System.nanoTime();
      browser.navigate().refresh();
      wait.until(d -> Boolean.TRUE.equals(js.executeScript(
          "const a = [...document.querySelectorAll('td.c-oldest')];"
              + "const r = document.querySelector(\"tr[data-pipeline='p0000'] td.c-oldest\");"
              + "return a.length === 50 && a.every(c => c.textContent !== '…')"
              + " && /\\d/.test(r.textContent) && document.querySelectorAll("
              + "'td.c-tput svg[data-acked]').length === 50;")));
      note("overview: reload until all 50 rows show their oldest ready age and throughput chart "
          + "(the round-robin sampler's first round): " + (System.nanoTime() - ages) / 1_000_000
          + " ms");

      List<Long> updates = new ArrayList<>();
      for (int i = 1; i <= 7; i++) {
        ops.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p0001")
            .setBatch(batch("u" + i, "load", i)).build());
        long s = System.nanoTime();
        String expect = String.valueOf(i);
        wait.until(d -> expect.equals(js.executeScript(
            "const c = document.querySelector(\"tr[data-pipeline='p0001'] td.c-queued\");"
                + "return c && c.textContent;")));
        updates.add((System.nanoTime() - s) / 1_000_000);
      }
      note("overview update latency (EnqueueBatch reply -> cell shows it): median "
          + median(updates) + " ms, max " + Collections.max(updates) + " ms, runs " + updates);

      List<Long> charts = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        startAndAck(ops, "p0001");
        long s = System.nanoTime();
        String expect = String.valueOf(i);
        wait.until(d -> expect.equals(js.executeScript(
            "const c = document.querySelector(\"tr[data-pipeline='p0001'] td.c-tput svg\");"
                + "return c && c.dataset.acked;")));
        charts.add((System.nanoTime() - s) / 1_000_000);
      }
      note("overview throughput update latency (AckBatch reply -> the row's chart counts it): "
          + "median " + median(charts) + " ms, max " + Collections.max(charts) + " ms, runs "
          + charts);

      @SuppressWarnings("unchecked")
      Map<String, Object> tasks = (Map<String, Object>) js.executeAsyncScript("""
          const done = arguments[arguments.length - 1];
          const seen = [];
          new PerformanceObserver(l => l.getEntries().forEach(e => seen.push(e.duration)))
            .observe({type: 'longtask', buffered: false});
          setTimeout(() => done({count: seen.length,
            max: Math.round(Math.max(0, ...seen))}), 10000);
          """);
      note("overview main thread, 10 s of live updates: " + tasks.get("count")
          + " long tasks (> 50 ms), longest " + tasks.get("max") + " ms");

      List<Long> pipelineLoads = new ArrayList<>();
      for (int run = 0; run < 3; run++) {
        browser.get(f.baseUrl() + "/#/");
        long s = System.nanoTime();
        browser.get(f.baseUrl() + "/#/p/p0000");
        wait.until(ExpectedConditions.textToBe(By.id("status-queued"), String.valueOf(BATCHES)));
        wait.until(d -> d.findElements(By.cssSelector("#batches tr")).size() == 50);
        pipelineLoads.add((System.nanoTime() - s) / 1_000_000);
      }
      note("pipeline page with 100,000 live batches (status + first page of 50): median "
          + median(pipelineLoads) + " ms, runs " + pipelineLoads);

      // The live feed on p0001's page: an enqueue, and an ack on the chart.
      browser.get(f.baseUrl() + "/#/p/p0001");
      wait.until(ExpectedConditions.textMatches(By.id("feed-state"),
          java.util.regex.Pattern.compile("^live")));
      wait.until(d -> "3".equals(js.executeScript(
          "return document.getElementById('throughput-chart').dataset.acked;")));
      List<Long> feed = new ArrayList<>();
      for (int i = 1; i <= 5; i++) {
        ops.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p0001")
            .setBatch(batch("v" + i, "load", 100 + i)).build());
        long t = System.nanoTime();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("feed"),
            "enqueued v" + i + " "));
        feed.add((System.nanoTime() - t) / 1_000_000);
      }
      note("pipeline page live feed (EnqueueBatch reply -> the feed shows it): median "
          + median(feed) + " ms, max " + Collections.max(feed) + " ms, runs " + feed);
      List<Long> acks = new ArrayList<>();
      for (int i = 4; i <= 6; i++) {
        startAndAck(ops, "p0001");
        long t = System.nanoTime();
        String expect = String.valueOf(i);
        wait.until(d -> expect.equals(js.executeScript(
            "return document.getElementById('throughput-chart').dataset.acked;")));
        acks.add((System.nanoTime() - t) / 1_000_000);
      }
      note("pipeline page chart (AckBatch reply -> the chart counts it, redrawn each second): "
          + "median " + median(acks) + " ms, max " + Collections.max(acks) + " ms, runs " + acks);
      browser.get(f.baseUrl() + "/#/p/p0000");
      wait.until(ExpectedConditions.textToBe(By.id("status-queued"), String.valueOf(BATCHES)));
      wait.until(d -> d.findElements(By.cssSelector("#batches tr")).size() == 50);

      long s = System.nanoTime();
      browser.findElement(By.xpath("//button[text()='Next ›']")).click();
      wait.until(d -> "b000050".equals(js.executeScript(
          "const r = document.querySelector('#batches tr'); return r && r.dataset.key;")));
      note("next page of batches: " + (System.nanoTime() - s) / 1_000_000 + " ms");

      var key = browser.findElement(By.id("batch-key"));
      key.sendKeys("b099990");
      s = System.nanoTime();
      browser.findElement(By.id("batch-search")).click();
      wait.until(d -> "b099990".equals(js.executeScript(
          "const r = document.querySelector('#batches tr'); return r && r.dataset.key;")));
      note("key search for the last batch (scans the 100,000 on the server in pages of 1,000): "
          + (System.nanoTime() - s) / 1_000_000 + " ms");
      Files.writeString(Path.of("target", "dashboard-scale.txt"), String.join("\n", report) + "\n");
    } finally {
      DashboardBrowserTest.stop();
    }
  }
}
