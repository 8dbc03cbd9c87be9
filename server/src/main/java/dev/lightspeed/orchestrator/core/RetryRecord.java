package dev.lightspeed.orchestrator.core;

/** A failed attempt that will be retried: attempt {@code nextAttempt} may start at {@code retryAtMs}. */
public record RetryRecord(String batchKey, int nextAttempt, String reason, long retryAtMs) {}
