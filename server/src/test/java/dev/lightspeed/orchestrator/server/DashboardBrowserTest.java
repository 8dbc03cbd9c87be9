package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's headless Chromium (scripts/browser-tools.sh installs
 * it; nothing downloads a browser) against a real server with tokens. Screenshots go to
 * target/dashboard-screenshots/.
 */
@Timeout(120)
class DashboardBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path SHOTS = Path.of("target", "dashboard-screenshots");

  static DashboardFixture fixture;
  static ChromeDriver browser;
  static WebDriverWait wait;

  @BeforeAll
  static void start() throws Exception {
    assertThat(CHROMIUM).as("Debian's chromium: run scripts/browser-tools.sh").isExecutable();
    assertThat(CHROMEDRIVER).as("Debian's chromium-driver: run scripts/browser-tools.sh")
        .isExecutable();
    fixture = new DashboardFixture(true);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
        "--disable-gpu", "--window-size=1280,1000", "--no-first-run",
        "--disable-background-networking");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    // The driver's path is given, so Selenium Manager is never asked to find or fetch one.
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .build();
    browser = new ChromeDriver(service, options);
    wait = new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(100));
    Files.createDirectories(SHOTS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  static void screenshot(String name) throws IOException {
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  static void signIn(String token) {
    WebElement input = wait.until(ExpectedConditions.elementToBeClickable(By.id("token-input")));
    input.clear();
    input.sendKeys(token);
    browser.findElement(By.cssSelector("#token-form button[type=submit]")).click();
  }

  /** Signs in with {@code token}, signing out first when an earlier test left a token. */
  static void signInAs(String token) {
    wait.until(d -> !d.findElements(By.id("token-input")).isEmpty()
        || !d.findElements(By.id("sign-out")).isEmpty());
    if (!browser.findElements(By.id("sign-out")).isEmpty()) {
      browser.findElement(By.id("sign-out")).click();
    }
    signIn(token);
  }

  static String cell(String pipeline, String column) {
    return browser.findElement(By.cssSelector(
        "tr[data-pipeline='" + pipeline + "'] td.c-" + column)).getText();
  }

  static void waitForCell(String pipeline, String column, String value) {
    wait.until(d -> {
      try {
        return value.equals(cell(pipeline, column));
      } catch (org.openqa.selenium.NoSuchElementException
          | org.openqa.selenium.StaleElementReferenceException e) {
        return false;
      }
    });
  }

  static List<String> consoleErrors() {
    List<String> errors = new ArrayList<>();
    for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
        errors.add(e.getMessage());
      }
    }
    return errors;
  }

  private static void enqueue(String name, int from, int count) {
    EnqueueBatchesRequest.Builder req = EnqueueBatchesRequest.newBuilder().setPipeline(name);
    for (int i = from; i < from + count; i++) {
      req.addBatches(batch("b" + i, "load", i));
    }
    fixture.grpc(DashboardFixture.OPS).enqueueBatches(req.build());
  }

  @Test
  void operatorSeesLiveCountsPausesAndRedrivesAndReaderIsRefused() throws Exception {
    var ops = fixture.grpc(DashboardFixture.OPS);
    ops.createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "load")).build());
    ops.createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("clicks", "load")).build());

    // The overview asks for a token, then shows the pipelines.
    browser.get(fixture.baseUrl() + "/");
    signInAs(DashboardFixture.OPS);
    waitForCell("orders", "mode", "running");
    waitForCell("orders", "queued", "0");

    // Batches enqueued through the API appear without a reload.
    enqueue("orders", 1, 3);
    enqueue("clicks", 1, 7);
    waitForCell("orders", "queued", "3");
    waitForCell("clicks", "queued", "7");
    assertThat(browser.findElement(By.id("cluster-link")).isDisplayed())
        .as("the Cluster link, on a single server").isFalse();
    Object marker = ((JavascriptExecutor) browser).executeScript(
        "return window.__noReload = 'same page';");
    screenshot("overview");

    // A pipeline's page: Pause, and StartAvailable then starts nothing.
    browser.findElement(By.linkText("orders")).click();
    wait.until(ExpectedConditions.textToBe(By.id("status-queued"), "3"));
    WebElement pause = wait.until(ExpectedConditions.elementToBeClickable(By.id("action-pause")));
    pause.click();
    wait.until(ExpectedConditions.textToBe(By.id("status-mode"), "paused"));
    assertThat(ops.getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build())
        .getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_PAUSED);
    var none = ops.startAvailable(StartAvailableRequest.newBuilder().setPipeline("orders")
        .setMaxBatches(10).build());
    assertThat(none.hasNext()).as("StartAvailable on a paused pipeline").isFalse();

    // Resume from the page; a batch fails for good into the dead-letter store.
    browser.findElement(By.id("action-resume")).click();
    wait.until(ExpectedConditions.textToBe(By.id("status-mode"), "running"));
    var it = ops.startAvailable(StartAvailableRequest.newBuilder().setPipeline("orders")
        .setMaxBatches(1).build());
    StartAvailableResponse started = it.next();
    while (it.hasNext()) {
      it.next();
    }
    wait.until(ExpectedConditions.textToBe(By.id("status-inflight"), "1"));
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("feed"),
        "started " + started.getStarted().getBatch().getKey()));
    ops.failBatch(FailBatchRequest.newBuilder().setPipeline("orders")
        .setKey(started.getStarted().getBatch().getKey())
        .setAttempt(started.getStarted().getAttempt())
        .setReason("bad record").setNonRetryable(true).build());
    String key = started.getStarted().getBatch().getKey();
    WebElement redrive = wait.until(ExpectedConditions.elementToBeClickable(
        By.cssSelector("#dead-letters tr[data-key='" + key + "'] button.dl-redrive")));
    wait.until(ExpectedConditions.textToBe(By.id("status-dead"), "1"));
    browser.manage().window().setSize(new Dimension(1280, 1700));
    screenshot("pipeline");
    browser.manage().window().setSize(new Dimension(1280, 1000));
    redrive.click();
    wait.until(ExpectedConditions.textToBe(By.id("status-dead"), "0"));
    assertThat(ops.listDeadLetters(ListDeadLettersRequest.newBuilder().setPipeline("orders")
        .build()).getDeadLettersCount()).isZero();
    assertThat(ops.getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build())
        .getQueuedCount()).as("redriven batch queued again").isEqualTo(3);
    assertThat(((JavascriptExecutor) browser).executeScript("return window.__noReload;"))
        .isEqualTo(marker);
    assertThat(consoleErrors()).as("the page's console").isEmpty();

    // A reader: the buttons are disabled, and a direct call is refused by the server.
    browser.findElement(By.id("sign-out")).click();
    signIn(DashboardFixture.READER);
    wait.until(ExpectedConditions.textToBe(By.id("status-mode"), "running"));
    assertThat(browser.findElement(By.id("action-pause")).isEnabled()).isFalse();
    assertThat(browser.findElement(By.id("action-pause")).getAttribute("title"))
        .isEqualTo("needs the operator role");
    assertThat(browser.findElement(By.id("run-start")).isEnabled()).isFalse();
    @SuppressWarnings("unchecked")
    Map<String, Object> direct = (Map<String, Object>) ((JavascriptExecutor) browser)
        .executeAsyncScript("""
            const done = arguments[arguments.length - 1];
            fetch('/lightspeed.orchestrator.v1.OrchestratorService/ApplyAction', {
              method: 'POST',
              headers: {'content-type': 'application/json',
                        authorization: 'Bearer ' + sessionStorage.getItem('lightspeed.token')},
              body: JSON.stringify({pipeline: 'orders', action: {pause: {}}}),
            }).then(async r => done({status: r.status, body: await r.text()}));
            """);
    assertThat(direct.get("status")).isEqualTo(403L);
    assertThat((String) direct.get("body")).contains("PERMISSION_DENIED");
    assertThat(ops.getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build())
        .getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_RUNNING);
    screenshot("pipeline-reader");
    // The refused fetch above is logged by Chromium as a failed resource load; nothing else.
    assertThat(consoleErrors()).allSatisfy(e -> assertThat(e).contains("403"));
  }

  static String attribute(String css, String name) {
    try {
      return browser.findElement(By.cssSelector(css)).getAttribute(name);
    } catch (org.openqa.selenium.NoSuchElementException
        | org.openqa.selenium.StaleElementReferenceException e) {
      return null;
    }
  }


  private static void startAndAck(String name, int count) {
    var ops = fixture.grpc(DashboardFixture.OPS);
    var it = ops.startAvailable(StartAvailableRequest.newBuilder().setPipeline(name)
        .setMaxBatches(count).build());
    while (it.hasNext()) {
      var sb = it.next().getStarted();
      ops.ackBatch(AckBatchRequest.newBuilder().setPipeline(name)
          .setKey(sb.getBatch().getKey()).setAttempt(sb.getAttempt()).build());
    }
  }

  @Test
  void oldestReadyAgeThroughputChartsAndTheEventFeedUpdateWithoutReload() throws Exception {
    var ops = fixture.grpc(DashboardFixture.OPS);
    ops.createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("acks", "load")).build());
    enqueue("acks", 1, 5);
    startAndAck("acks", 1);
    browser.get(fixture.baseUrl() + "/#/");
    signInAs(DashboardFixture.OPS);
    waitForCell("acks", "queued", "4");
    // The overview's oldest ready age: an age in seconds, not "—" (nothing ready); its chart
    // counts the ack made before the page opened (the retained events).
    Pattern age = Pattern.compile("\\d+s|\\d+m(\\d+s)?");
    wait.until(d -> age.matcher(cell("acks", "oldest")).matches());
    String rowChart = "tr[data-pipeline='acks'] td.c-tput svg";
    wait.until(d -> "1".equals(attribute(rowChart, "data-acked")));

    // The pipeline's page: its oldest ready age, the chart from the retained events, and the
    // feed live on WatchEvents, resumed after the last retained event that is no enqueue.
    browser.findElement(By.linkText("acks")).click();
    wait.until(ExpectedConditions.textMatches(By.id("status-oldest"), age));
    wait.until(ExpectedConditions.textMatches(By.id("feed-state"),
        Pattern.compile("^live \\(WatchEvents, after event \\d+\\)")));
    String ackedLine = "#throughput-chart path.series-b";
    wait.until(d -> "1".equals(attribute("#throughput-chart", "data-acked")));
    String before = attribute(ackedLine, "d");

    // Two more batches started and acked through the gRPC port: the acks reach the feed
    // (WatchStarted never carried them) and the charts, on the page and on the overview,
    // without a reload.
    startAndAck("acks", 2);
    wait.until(ExpectedConditions.textMatches(By.cssSelector("#feed li[data-type='acked']"),
        Pattern.compile("acked b[23] ")));
    wait.until(d -> "3".equals(attribute("#throughput-chart", "data-acked")));
    assertThat(attribute("#throughput-chart", "data-started")).isEqualTo("3");
    wait.until(d -> !before.equals(attribute(ackedLine, "d")));
    wait.until(ExpectedConditions.textToBe(By.id("status-queued"), "2"));
    browser.manage().window().setSize(new Dimension(1280, 1700));
    screenshot("pipeline-live");
    browser.manage().window().setSize(new Dimension(1280, 1000));

    browser.findElement(By.linkText("← all pipelines")).click();
    wait.until(d -> "3".equals(attribute(rowChart, "data-acked")));
    assertThat(attribute(rowChart, "data-started")).isEqualTo("3");
    screenshot("overview-live");
    assertThat(consoleErrors()).as("the page's console").isEmpty();
  }

  @Test
  void thePageSaysWhenTheServerIsAwayAndCarriesOnWhenItIsBack() throws Exception {
    var ops = fixture.grpc(DashboardFixture.OPS);
    ops.createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("restarts", "load")).build());
    browser.get(fixture.baseUrl() + "/#/");
    signInAs(DashboardFixture.OPS);
    waitForCell("restarts", "queued", "0");
    WebElement banner = browser.findElement(By.id("banner"));
    assertThat(banner.isDisplayed()).isFalse();

    int port = fixture.stopHttp();
    wait.until(d -> banner.isDisplayed() && banner.getText().contains("Reconnecting"));
    assertThat(banner.getText()).startsWith("Server unreachable since");
    enqueue("restarts", 1, 2);
    fixture.startHttpAgain(port);
    wait.until(d -> !banner.isDisplayed());
    waitForCell("restarts", "queued", "2");
    // The outage's failed requests are the only console errors (net::ERR_CONNECTION_REFUSED).
    assertThat(consoleErrors()).allSatisfy(e -> assertThat(e).containsAnyOf(
        "ERR_CONNECTION_REFUSED", "Failed to fetch", "ERR_EMPTY_RESPONSE", "ERR_CONNECTION_RESET"));
  }
}
