package dev.lightspeed.orchestrator.core;

/** The payload of a LEASE_EXPIRED event: the batch and the attempt whose lease ran out. */
public record LeaseExpired(String key, int attempt) {}
