// Networking: docker's bridge networks on CNI plugins (bridge, host-local,
// portmap, loopback) with berth as the CNI runtime, persistent network
// namespaces as files, SQLite records of networks and endpoints, and an
// embedded DNS server per user-defined network.
//
// Departures from dockerd, on purpose:
// - the embedded DNS listens on the network's gateway (podman's aardvark
//   way), not on 127.0.0.11 inside each namespace; containers get
//   `nameserver <gateway>` (resolverFor);
// - IPv4 only; one subnet per network; no --link, no auxiliary addresses;
// - published ports are held as listening sockets by the daemon (docker's
//   allocator does the same) and DNAT'd by portmap, no userland proxy.
export type * from './types.js';
export { createNetworkService, NetworkServiceImpl, type NetworkServiceDeps } from './service.js';
export { CniRuntime, CNI_VERSION, type CniConfList, type CniResult, type CniRuntimeConf, type CniCacheEntry } from './cni.js';
export { createNetns, removeNetns, isNetnsMounted } from './netns.js';
export { DnsServer, hostResolvers, type DnsRecords, type Upstream } from './dns.js';
export { removeIdlePortmapChains, removeMasqueradeLeftovers } from './iptables.js';
export { teardownNetworking } from './teardown.js';
