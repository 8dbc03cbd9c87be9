/**
 * The orchestration core: a deterministic state machine for one pipeline, with no gRPC, no
 * protobuf, no clock and no I/O.
 *
 * <p>Every operation of {@link dev.lightspeed.orchestrator.core.PipelineRuntime} takes the
 * current time as an explicit {@code nowMs} argument. Same state + same operation + same {@code
 * nowMs} gives the same result and the same next state on every machine, which is what lets the
 * server journal accepted commands and replay them after a restart. A refused call throws {@link
 * dev.lightspeed.orchestrator.core.Rejection} and changes nothing, not even the clock.
 *
 * <p>The behavioural contract is {@code SPEC.md} sections 2 and 3; {@code docs/core.md} maps each
 * rule to the code and the decisions made where the contract is silent.
 */
package dev.lightspeed.orchestrator.core;
