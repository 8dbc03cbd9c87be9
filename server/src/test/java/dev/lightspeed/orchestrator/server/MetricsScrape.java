package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One scrape of a server's {@code /metrics} (Prometheus text format), and look-ups in it. */
final class MetricsScrape {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final String text;

  private MetricsScrape(String text) {
    this.text = text;
  }

  static MetricsScrape of(int port) throws Exception {
    HttpResponse<String> response = HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return new MetricsScrape(response.body());
  }

  /** The samples of {@code name} whose labels include every {@code k="v"} of {@code labels}. */
  List<Double> values(String name, String... labels) {
    List<Double> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String metric = brace >= 0 ? line.substring(0, brace) : line.substring(0, Math.max(0, space));
      if (!metric.equals(name)) {
        continue;
      }
      String labelText = brace >= 0 ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
      boolean all = true;
      for (int i = 0; i + 1 < labels.length; i += 2) {
        all &= labelText.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) {
        out.add(Double.parseDouble(line.substring(space + 1)));
      }
    }
    return out;
  }

  /** The one sample of {@code name} with {@code labels}. */
  double value(String name, String... labels) {
    List<Double> values = values(name, labels);
    assertThat(values).as("samples of %s %s in:\n%s", name, List.of(labels), text).hasSize(1);
    return values.get(0);
  }

  /** The sum of the samples of {@code name} with {@code labels} (0 when there are none). */
  double sum(String name, String... labels) {
    return values(name, labels).stream().mapToDouble(Double::doubleValue).sum();
  }
}
