package dev.lightspeed.orchestrator.boot;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's file-descriptor limit (RLIMIT_NOFILE), reported at start-up and used to keep
 * descriptors for the journal, snapshots and the metrics endpoint: connections may take at most
 * the limit minus the descriptors open at start-up minus {@link #RESERVED}. On Linux HotSpot
 * raises the soft limit to the hard limit itself ({@code -XX:+MaxFDLimit}, on by default), so the
 * limit seen here is the hard one unless that flag was turned off; {@code ulimit -n} (or systemd's
 * {@code LimitNOFILE}) is how an operator raises it.
 */
final class DescriptorLimit {
  private static final Logger log = LoggerFactory.getLogger(DescriptorLimit.class);
  /**
   * Descriptors kept beyond those open at start-up: the journal's active segment, its spare and
   * its directory, the snapshotter's reads and writes, the metrics endpoint's connections, and
   * class loading; a generous margin, as one missing descriptor stops the journal's next roll.
   */
  static final int RESERVED = 256;

  private DescriptorLimit() {}

  /**
   * {@code maxConnections}, lowered (with a WARN) if the descriptor limit cannot hold that many
   * connections besides the reserve; logs the limit either way. Unchanged where the limit cannot
   * be read (not a Unix JVM).
   */
  static int connectionsThatFit(int maxConnections) {
    if (!(ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean os)) {
      return maxConnections;
    }
    long limit = os.getMaxFileDescriptorCount();
    long open = os.getOpenFileDescriptorCount();
    long fit = limit - open - RESERVED;
    String maxFdLimit = maxFdLimitFlag();
    log.atInfo()
        .addKeyValue("event", "descriptor_limit")
        .addKeyValue("max_descriptors", limit)
        .addKeyValue("open_descriptors", open)
        .addKeyValue("max_connections", maxConnections)
        .addKeyValue("MaxFDLimit", maxFdLimit)
        .log("file descriptors: the process may open {}", limit);
    if ("false".equals(maxFdLimit)) {
      log.warn("-XX:-MaxFDLimit: the JVM kept the soft descriptor limit ({}) instead of raising it"
          + " to the hard limit", limit);
    }
    if (fit >= maxConnections) {
      return maxConnections;
    }
    int lowered = (int) Math.max(1, fit);
    log.atWarn()
        .addKeyValue("event", "descriptor_limit_low")
        .addKeyValue("max_descriptors", limit)
        .addKeyValue("max_connections", lowered)
        .log("the descriptor limit {} cannot hold --max-connections {} besides the {} descriptors"
                + " open now and {} kept for the journal and snapshots: accepting at most {}"
                + " connections. Raise the limit (ulimit -n {}, or LimitNOFILE= in a systemd unit)"
                + " or lower --max-connections.",
            limit, maxConnections, open, RESERVED, lowered,
            (long) maxConnections + open + RESERVED);
    return lowered;
  }

  /** "true"/"false", or "unknown" on a JVM without the flag. */
  private static String maxFdLimitFlag() {
    try {
      return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
          .getVMOption("MaxFDLimit").getValue();
    } catch (RuntimeException e) {
      return "unknown";
    }
  }
}
