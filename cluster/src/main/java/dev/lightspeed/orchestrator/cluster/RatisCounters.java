package dev.lightspeed.orchestrator.cluster;

import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;

/**
 * Reads a counter of Ratis' own metrics (ratis-metrics-api's {@link MetricRegistries}; the
 * implementation is ratis-metrics-default). Ratis keeps one registry per group member and
 * component, whose prefix is the member's id ({@code n1@group-…}); a counter is read through the
 * API's {@code counter(name)}, which returns the registered one. Only counters are read this way:
 * the API has no getter for gauges, and Ratis' gauges name peers in their metric names, so the
 * state they show is read from the division instead ({@link ClusterNode#metrics}).
 */
final class RatisCounters {
  private RatisCounters() {}

  /** The counter's value, or 0 when Ratis has not registered it (yet) for this member. */
  static long read(String member, String component, String counter) {
    MetricRegistries all = MetricRegistries.global();
    for (MetricRegistryInfo info : all.getMetricRegistryInfos()) {
      if (info.getPrefix().equals(member) && info.getMetricsComponentName().equals(component)
          && info.getApplicationName().equals("ratis")) {
        return all.get(info).map((RatisMetricRegistry r) -> r.counter(counter).getCount())
            .orElse(0L);
      }
    }
    return 0;
  }
}
