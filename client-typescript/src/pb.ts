// Every generated message and enum of lightspeed.orchestrator.v1 in one module.
export * from "./gen/lightspeed/orchestrator/v1/batch";
export * from "./gen/lightspeed/orchestrator/v1/cluster_config";
export * from "./gen/lightspeed/orchestrator/v1/error_reason";
export * from "./gen/lightspeed/orchestrator/v1/event";
export * from "./gen/lightspeed/orchestrator/v1/operator";
export * from "./gen/lightspeed/orchestrator/v1/orchestrator_service";
export * from "./gen/lightspeed/orchestrator/v1/pipeline";
export * from "./gen/lightspeed/orchestrator/v1/server_config";
