/**
 * Durability: the command journal and snapshots, behind small interfaces.
 *
 * <p>{@link dev.lightspeed.orchestrator.journal.CommandLog} is a log of opaque commands applied in
 * index order; {@link dev.lightspeed.orchestrator.journal.SnapshotStore} keeps state taken at an
 * index. This is the shape of a replicated state machine (Apache Ratis applies transactions by
 * index and snapshots at an index), so a replicated log can replace the embedded file journal
 * later without touching the server. The file format is described in {@code docs/durability.md}.
 */
package dev.lightspeed.orchestrator.journal;
