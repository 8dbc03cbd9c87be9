package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's HTTP port speaks the same OrchestratorService: curl's JSON (the README's
 * example), errors with their ErrorInfo reason, the same roles, and it serves the page.
 */
class DashboardHttpTest {
  private final HttpClient client = HttpClient.newHttpClient();

  private HttpResponse<String> post(String base, String method, String token, String body)
      throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(
            URI.create(base + "/lightspeed.orchestrator.v1.OrchestratorService/" + method))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String url, String token) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url));
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void curlJsonCallsTheSameServiceAsTheGrpcPort() throws Exception {
    try (DashboardFixture f = new DashboardFixture(false)) {
      var created = post(f.baseUrl(), "CreatePipeline", null,
          "{\"spec\":{\"name\":\"orders\",\"stages\":[\"load\"],\"allowUnboundStages\":true}}");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
      var enqueued = post(f.baseUrl(), "EnqueueBatch", null,
          "{\"pipeline\":\"orders\",\"batch\":{\"key\":\"b1\",\"stage\":\"load\",\"records\":5,\"idempotencyKey\":\"idem-b1\",\"sequence\":1}}");
      assertThat(enqueued.statusCode()).as(enqueued.body()).isEqualTo(200);

      var listed = post(f.baseUrl(), "ListPipelines", null, "{}");
      assertThat(listed.statusCode()).isEqualTo(200);
      assertThat(listed.headers().firstValue("content-type")).hasValueSatisfying(
          v -> assertThat(v).startsWith("application/json"));
      assertThat(listed.body()).contains("\"name\":\"orders\"");
      // What the HTTP port changed, the gRPC port sees: one state.
      assertThat(f.grpc(null).getStatus(
          GetStatusRequest.newBuilder().setPipeline("orders").build()).getQueuedCount())
          .isEqualTo(1);
    }
  }

  @Test
  void aRefusalCarriesItsCodeAndReason() throws Exception {
    try (DashboardFixture f = new DashboardFixture(false)) {
      var missing = post(f.baseUrl(), "GetStatus", null, "{\"pipeline\":\"nope\"}");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.headers().firstValue("grpc-status")).hasValue("5");
      assertThat(missing.body()).contains("\"grpc-code\":\"NOT_FOUND\"")
          .contains("\"reason\":\"PIPELINE_NOT_FOUND\"").contains("no pipeline named 'nope'");
      var badJson = post(f.baseUrl(), "GetStatus", null, "{\"pipeline\":");
      assertThat(badJson.statusCode()).isEqualTo(400);
    }
  }

  @Test
  void tokensAndRolesHoldOnTheHttpPortToo() throws Exception {
    try (DashboardFixture f = new DashboardFixture(true)) {
      var anonymous = post(f.baseUrl(), "ListPipelines", null, "{}");
      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(anonymous.body()).contains("UNAUTHENTICATED");
      assertThat(post(f.baseUrl(), "ListPipelines", DashboardFixture.READER, "{}").statusCode())
          .isEqualTo(200);
      var denied = post(f.baseUrl(), "CreatePipeline", DashboardFixture.READER,
          "{\"spec\":{\"name\":\"x\",\"stages\":[\"s\"],\"allowUnboundStages\":true}}");
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.body()).contains("PERMISSION_DENIED");

      var session = get(f.baseUrl() + "/dashboard/session", DashboardFixture.READER);
      assertThat(session.statusCode()).isEqualTo(200);
      assertThat(session.body())
          .isEqualTo("{\"auth\":true,\"name\":\"dashboards\",\"roles\":[\"reader\"]}");
      assertThat(get(f.baseUrl() + "/dashboard/session", null).body()).isEqualTo(
          "{\"auth\":true,\"error\":\"this server needs a bearer token\",\"roles\":[]}");
      assertThat(get(f.baseUrl() + "/dashboard/session", "wrong-token-00000000000001").body())
          .isEqualTo("{\"auth\":true,\"error\":\"unknown token\",\"roles\":[]}");
    }
  }

  @Test
  void servesThePageFromTheJar() throws Exception {
    try (DashboardFixture f = new DashboardFixture(false)) {
      var index = get(f.baseUrl() + "/", null);
      assertThat(index.statusCode()).isEqualTo(200);
      assertThat(index.body()).contains("<script type=\"module\" src=\"/app.js\">");
      var app = get(f.baseUrl() + "/app.js", null);
      assertThat(app.statusCode()).isEqualTo(200);
      assertThat(app.headers().firstValue("content-type")).hasValueSatisfying(
          v -> assertThat(v).contains("javascript"));
      assertThat(get(f.baseUrl() + "/dashboard/session", null).body())
          .isEqualTo("{\"auth\":false,\"roles\":[\"admin\",\"operator\",\"producer\",\"reader\","
              + "\"worker\"]}");
    }
  }
}
