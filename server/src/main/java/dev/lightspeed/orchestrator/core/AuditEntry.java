package dev.lightspeed.orchestrator.core;

/** One applied operator action in the audit log. */
public record AuditEntry(OperatorAction action, long atMs, String message) {}
