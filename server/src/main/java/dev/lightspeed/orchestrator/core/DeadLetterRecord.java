package dev.lightspeed.orchestrator.core;

/** A batch parked after its last allowed attempt failed, or after a non-retryable failure. */
public record DeadLetterRecord(String batchKey, String destination, String reason, long atMs) {}
