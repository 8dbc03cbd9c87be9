package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.dashboard.DashboardHttpServer;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a browser (Debian's headless chromium, as {@link DashboardBrowserTest}) on
 * the HTTP ports of a three-node cluster (docs/dashboard.md, "On a cluster node"): n2's overview
 * shows batches enqueued through n1 without a reload; Pause on n3's pipeline page pauses the
 * pipeline for the whole cluster; n3's live feed (its own replica's WatchEvents) shows an ack
 * made through n1; no console errors. Screenshot: target/dashboard-screenshots/
 * cluster-node-pipeline.png.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterDashboardBrowserTest extends ClusterTestBase {
  private final Map<String, DashboardHttpServer> http = new LinkedHashMap<>();
  private ChromeDriver browser;
  private WebDriverWait wait;

  @AfterEach
  void stopBrowserAndPorts() {
    if (browser != null) {
      browser.quit();
    }
    http.values().forEach(DashboardHttpServer::close);
  }

  private String url(String node) {
    return "http://127.0.0.1:" + http.get(node).port();
  }

  private String cell(String pipeline, String column) {
    return browser.findElement(By.cssSelector(
        "tr[data-pipeline='" + pipeline + "'] td.c-" + column)).getText();
  }

  private void waitForCell(String pipeline, String column, String value) {
    wait.until(d -> {
      try {
        return value.equals(cell(pipeline, column));
      } catch (org.openqa.selenium.NoSuchElementException
          | org.openqa.selenium.StaleElementReferenceException e) {
        return false;
      }
    });
  }

  @Test
  void theDashboardOfAnyNodeShowsAndChangesTheClustersState() throws Exception {
    assertThat(DashboardBrowserTest.CHROMIUM)
        .as("Debian's chromium: run scripts/browser-tools.sh").isExecutable();
    startCluster(2);
    nodes.forEach((id, node) -> http.put(id, new DashboardHttpServer(
        node.server().httpService(), null, "127.0.0.1", 0, null, null, null, 4 << 20).start()));
    untilAccepted("create through n1", () -> stub("n1").createPipeline(
        CreatePipelineRequest.newBuilder().setSpec(pipeline("orders", "load")).build()));

    ChromeOptions options = new ChromeOptions();
    options.setBinary(DashboardBrowserTest.CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
        "--disable-gpu", "--window-size=1280,1000", "--no-first-run",
        "--disable-background-networking");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    browser = new ChromeDriver(new ChromeDriverService.Builder()
        .usingDriverExecutable(DashboardBrowserTest.CHROMEDRIVER.toFile())
        .usingAnyFreePort().build(), options);
    wait = new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(100));

    // n2's overview: batches enqueued through n1 appear without a reload.
    browser.get(url("n2") + "/");
    waitForCell("orders", "mode", "running");
    EnqueueBatchesRequest.Builder enqueue = EnqueueBatchesRequest.newBuilder()
        .setPipeline("orders");
    for (int i = 1; i <= 3; i++) {
      enqueue.addBatches(batch("b" + i, "load", i));
    }
    stub("n1").enqueueBatches(enqueue.build());
    waitForCell("orders", "queued", "3");

    // n3's pipeline page: Pause there pauses the pipeline for every node.
    browser.get(url("n3") + "/#/p/orders");
    wait.until(ExpectedConditions.textToBe(By.id("status-queued"), "3"));
    wait.until(ExpectedConditions.elementToBeClickable(By.id("action-pause"))).click();
    wait.until(ExpectedConditions.textToBe(By.id("status-mode"), "paused"));
    assertThat(stub("n1").getStatus(GetStatusRequest.newBuilder().setPipeline("orders")
        .build()).getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_PAUSED);
    browser.findElement(By.id("action-resume")).click();
    wait.until(ExpectedConditions.textToBe(By.id("status-mode"), "running"));

    // n3's live feed, from its own replica: a batch started and acked through n1.
    wait.until(ExpectedConditions.textMatches(By.id("feed-state"),
        Pattern.compile("^live \\(WatchEvents")));
    var started = stub("n1").startAvailable(StartAvailableRequest.newBuilder()
        .setPipeline("orders").setMaxBatches(1).build()).next().getStarted();
    stub("n1").ackBatch(AckBatchRequest.newBuilder().setPipeline("orders")
        .setKey(started.getBatch().getKey()).setAttempt(started.getAttempt()).build());
    wait.until(ExpectedConditions.textMatches(By.cssSelector("#feed li[data-type='acked']"),
        Pattern.compile("acked " + started.getBatch().getKey() + " ")));
    wait.until(ExpectedConditions.textToBe(By.id("status-queued"), "2"));
    java.nio.file.Files.createDirectories(DashboardBrowserTest.SHOTS);
    java.nio.file.Files.copy(browser.getScreenshotAs(org.openqa.selenium.OutputType.FILE)
            .toPath(), DashboardBrowserTest.SHOTS.resolve("cluster-node-pipeline.png"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    // The header's Cluster link (a cluster node only) opens n3's view of its groups: both
    // groups, each with a leader, a valid replica, and a backlog that drains to 0.
    wait.until(ExpectedConditions.elementToBeClickable(By.id("cluster-link"))).click();
    wait.until(ExpectedConditions.textMatches(By.id("cluster-info"),
        Pattern.compile("^node n3 of cluster 'test': a member of 2 groups")));
    for (int g = 0; g < 2; g++) {
      String row = "#groups tr[data-group='" + g + "'] td.c-";
      wait.until(ExpectedConditions.textMatches(By.cssSelector(row + "leader"),
          Pattern.compile("^n[123]$")));
      wait.until(ExpectedConditions.textToBe(By.cssSelector(row + "valid"), "yes"));
      wait.until(ExpectedConditions.textToBe(By.cssSelector(row + "backlog"), "0"));
    }
    int ordersGroup = layout.placement().groupOf("orders");
    assertThat(browser.findElement(By.cssSelector("#groups tr[data-group='" + ordersGroup
        + "'] td.c-pipelines")).getText()).isEqualTo("1");
    java.nio.file.Files.copy(browser.getScreenshotAs(org.openqa.selenium.OutputType.FILE)
            .toPath(), DashboardBrowserTest.SHOTS.resolve("cluster-node-groups.png"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    List<String> errors = new ArrayList<>();
    for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
        errors.add(e.getMessage());
      }
    }
    assertThat(errors).as("the page's console").isEmpty();
  }
}
