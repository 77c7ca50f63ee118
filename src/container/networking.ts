// The container side of networking: which networks a container joins, its
// network namespace at start (the host's, another container's, or its own
// sandbox with CNI endpoints), published ports, and how inspect and ps show
// them. The network module (src/network) owns networks, endpoints and CNI.
import { invalidArgument } from '../errors/index.js';
import type { AttachResult, NetworkService, PortMap } from '../network/index.js';
import type { NetworkEndpointConfig } from './records.js';
import type { CreateRequest, HostConfig } from './types.js';

export type NetworkProvider = Pick<NetworkService, 'createSandbox' | 'claimSandbox' | 'prewarm' | 'destroySandbox' | 'attach' | 'detach' | 'endpointsOf' | 'resolverFor' | 'inspect'>;

/** NetworkMode after docker's defaulting: "default" is the bridge network. */
export function networkModeOf(hc: HostConfig): string {
  return !hc.NetworkMode || hc.NetworkMode === 'default' ? 'bridge' : hc.NetworkMode;
}

/** Modes without endpoints of their own: the host's namespace, a bare one, another container's. */
export function sharesOrNoEndpoints(mode: string): boolean {
  return mode === 'host' || mode === 'none' || mode.startsWith('container:');
}

/** The networks a new container joins, NetworkMode's first, with the endpoint options of the request. */
export function initialNetworks(mode: string, req: CreateRequest): Record<string, NetworkEndpointConfig> {
  const given = (req.NetworkingConfig as { EndpointsConfig?: Record<string, NetworkEndpointConfig> | null } | undefined)?.EndpointsConfig ?? {};
  // the docker CLI names the default network "default" in EndpointsConfig too
  const requested: Record<string, NetworkEndpointConfig> = {};
  for (const [name, cfg] of Object.entries(given)) requested[name === 'default' ? 'bridge' : name] = cfg;
  if (sharesOrNoEndpoints(mode)) {
    if (Object.keys(requested).some((n) => n !== mode)) throw invalidArgument(`conflicting options: cannot attach both user-defined and non-user-defined network-modes`);
    return {};
  }
  const out: Record<string, NetworkEndpointConfig> = { [mode]: endpointConfig(requested[mode]) };
  for (const [name, cfg] of Object.entries(requested)) if (name !== mode) out[name] = endpointConfig(cfg);
  return out;
}

function endpointConfig(cfg: NetworkEndpointConfig | undefined): NetworkEndpointConfig {
  const out: NetworkEndpointConfig = {};
  if (cfg?.Aliases?.length) out.Aliases = [...cfg.Aliases];
  if (cfg?.IPAMConfig?.IPv4Address) out.IPAMConfig = { IPv4Address: cfg.IPAMConfig.IPv4Address };
  if (cfg?.MacAddress) out.MacAddress = cfg.MacAddress;
  return out;
}

/** HostConfig.PortBindings plus, with -P, every exposed port on a random host port. */
export function publishedPorts(hc: HostConfig, exposed: Record<string, object> | null | undefined): PortMap {
  const out: PortMap = {};
  const key = (p: string) => (p.includes('/') ? p : `${p}/tcp`);
  for (const [port, bindings] of Object.entries(hc.PortBindings ?? {})) {
    if (bindings?.length) out[key(port)] = bindings.map((b) => ({ HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '' }));
  }
  if ((hc as { PublishAllPorts?: boolean }).PublishAllPorts) {
    for (const port of Object.keys(exposed ?? {})) out[key(port)] ??= [{ HostIp: '', HostPort: '' }];
  }
  return out;
}

/** ps's Ports column: one entry per published binding, exposed-only ports without a public side. */
export function summaryPorts(endpoints: readonly AttachResult[], exposed: Record<string, object> | null | undefined): unknown[] {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  const seen = new Set<string>();
  for (const ep of endpoints) {
    for (const [port, bindings] of Object.entries(ep.Ports ?? {})) {
      const [num, type = 'tcp'] = port.split('/');
      seen.add(`${num}/${type}`);
      for (const b of bindings ?? []) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(num), PublicPort: Number(b.HostPort), Type: type });
    }
  }
  for (const port of Object.keys(exposed ?? {})) {
    const [num, type = 'tcp'] = port.split('/');
    if (!seen.has(`${num}/${type}`)) out.push({ PrivatePort: Number(num), Type: type });
  }
  return out;
}

/** The effective port map of a running container (inspect's NetworkSettings.Ports), exposed-only ports as null. */
export function portMapOf(endpoints: readonly AttachResult[], exposed: Record<string, object> | null | undefined): PortMap {
  const out: PortMap = {};
  for (const port of Object.keys(exposed ?? {})) out[port.includes('/') ? port : `${port}/tcp`] = null;
  for (const ep of endpoints) for (const [port, bindings] of Object.entries(ep.Ports ?? {})) if (bindings?.length) out[port] = bindings;
  return out;
}

/** docker's EndpointSettings of a network the container is configured for but not attached to (not running). */
export function detachedEndpoint(cfg: NetworkEndpointConfig, networkId: string): Record<string, unknown> {
  return {
    IPAMConfig: cfg.IPAMConfig ?? null,
    Links: null,
    Aliases: cfg.Aliases ?? null,
    MacAddress: '',
    DriverOpts: null,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

/** An endpoint as inspect shows it (without berth's extra fields). */
export function endpointView(ep: AttachResult): Record<string, unknown> {
  const { Ports: _ports, InterfaceName: _ifname, ...settings } = ep;
  return settings;
}
