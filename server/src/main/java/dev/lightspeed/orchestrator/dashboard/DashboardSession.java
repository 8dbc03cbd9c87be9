package dev.lightspeed.orchestrator.dashboard;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.lightspeed.orchestrator.security.Role;
import dev.lightspeed.orchestrator.security.TokenFile;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * {@code GET /dashboard/session}: which roles the page's bearer token has, so that the page can
 * disable the buttons its role may not use. Read-only, and not a second API: every call the page
 * makes still goes through the OrchestratorService, where {@link AuthInterceptor} enforces the
 * roles regardless of what the page shows. Answers {@code {"auth":false,"roles":[every role]}}
 * when the server has no tokens, {@code {"auth":true,"name":...,"roles":[...]}} for a valid
 * token and {@code {"auth":true,"error":...,"roles":[]}} otherwise (200 all the same: a page
 * that is not signed in yet is no error, and a 401 would log one in the browser's console).
 */
final class DashboardSession implements HttpService {
  private static final String BEARER = "Bearer ";
  /** Null when the server has no token file. */
  private final TokenFile tokens;

  DashboardSession(TokenFile tokens) {
    this.tokens = tokens;
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    if (tokens == null) {
      return json(HttpStatus.OK, "{\"auth\":false,\"roles\":" + roles(Role.values()) + "}");
    }
    String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (header == null || !header.startsWith(BEARER)) {
      return json(HttpStatus.OK, "{\"auth\":true,\"error\":\"this server needs a bearer token\","
          + "\"roles\":[]}");
    }
    String token = header.substring(BEARER.length()).strip();
    TokenFile.Principal who = TokenFile.wellFormed(token) ? tokens.authenticate(token) : null;
    if (who == null) {
      return json(HttpStatus.OK, "{\"auth\":true,\"error\":\"unknown token\",\"roles\":[]}");
    }
    return json(HttpStatus.OK, "{\"auth\":true,\"name\":" + quote(who.name()) + ",\"roles\":"
        + roles(who.roles().toArray(Role[]::new)) + "}");
  }

  private static String roles(Role[] roles) {
    return Arrays.stream(roles).map(r -> quote(r.label())).sorted()
        .collect(Collectors.joining(",", "[", "]"));
  }

  /** A JSON string; token names are printable ASCII without spaces, but escape anyway. */
  private static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  private static HttpResponse json(HttpStatus status, String body) {
    return HttpResponse.builder().status(status).content(MediaType.JSON_UTF_8, body)
        .header(HttpHeaderNames.CACHE_CONTROL, "no-store").build();
  }
}
