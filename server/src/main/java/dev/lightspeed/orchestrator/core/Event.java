package dev.lightspeed.orchestrator.core;

/**
 * One entry of a pipeline's event log (SPEC 3.10). The payload is the core's own immutable record
 * for that event (see {@link EventType}), shared with the state where it lives there too, so a
 * retained event costs this small object and whatever of its payload nothing else holds.
 *
 * @param eventId 1, 2, 3, … per pipeline, never reused
 * @param atMs the {@code now} of the call that appended it
 */
public record Event(long eventId, long atMs, EventType type, Object payload) {}
