package dev.lightspeed.orchestrator.core;

/**
 * What the command being applied did to the state: how many changes it made (the version moves
 * by this much) and whether it moves the clock without one. It exists so that the handlers of
 * the commands only report, and {@link PipelineRuntime#apply}, the one place that moves the clock
 * and the version, decides from it; {@link PipelineRuntime} resets it for every command.
 */
final class Changes {
  private int count;
  private boolean clockMoved;

  /** Before a command: nothing changed yet. */
  void reset() {
    count = 0;
    clockMoved = false;
  }

  /** Called by a handler once it changed the state (after its checks passed). */
  void changed() {
    count++;
  }

  /** Called by a handler whose command moves the clock even when it changes nothing. */
  void moveClock() {
    clockMoved = true;
  }

  /** How many changes the command made. */
  int count() {
    return count;
  }

  /** Whether the clock moves to the command's now: it changed something, or says it moves. */
  boolean clockMoves() {
    return count > 0 || clockMoved;
  }
}
