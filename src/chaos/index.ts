/**
 * Fault injection for multi-process tests, soak runs and WAN benchmarks: byte-transparent TCP
 * proxies with delay, jitter, rate caps, black holes, resets and partitions (docs/architecture.md,
 * "Fault injection").
 */
export { ChaosError, type ChaosErrorCode } from './chaos-error.js';
export { ChaosProcess, type ChaosProcessOptions } from './chaos-process.js';
export {
  type ControlCommand,
  type ControlOutcome,
  type ControlResponse,
  executeControlCommand,
  linkAddresses,
  parseControlCommand,
} from './control-protocol.js';
export { type Endpoint, formatEndpoint, parseEndpoint } from './endpoint.js';
export {
  FaultNetwork,
  type FaultNetworkOptions,
  type FaultNetworkStats,
  type LinkStats,
} from './fault-network.js';
export {
  type CutMode,
  DEFAULT_MAX_QUEUE_BYTES,
  type Direction,
  type DirectionSelector,
  type DirectionStats,
  FaultProxy,
  type FaultProxyEvents,
  type FaultProxyOptions,
  type FaultProxyStats,
} from './fault-proxy.js';
export { type LinkFaults, type LinkFaultsUpdate, mergeLinkFaults, NO_FAULTS } from './link-faults.js';
export { LinkShaper } from './link-shaper.js';
export { chaosSeed } from './seed.js';
