// The network service's contract, in the Engine API's shapes (swagger v1.50:
// Network, NetworkSummary, NetworkCreateRequest, EndpointSettings,
// EndpointIPAMConfig, PortBinding, NetworkPruneResponse).

export interface IpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface Ipam {
  Driver: string;
  Options: Record<string, string> | null;
  Config: IpamConfig[];
}

/** One container on a network, as GET /networks/{id} lists it. */
export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export interface NetworkSummary {
  Name: string;
  Id: string;
  /** RFC 3339 with nanoseconds, as dockerd */
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: Ipam;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export type NetworkInspect = NetworkSummary;

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IpamConfig[] | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  /** pre-1.44 clients */
  CheckDuplicate?: boolean;
}

/** docker's PortBinding: empty HostPort means "any free port", empty HostIp means all addresses. */
export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** "80/tcp" -> bindings, as in HostConfig.PortBindings and NetworkSettings.Ports. */
export type PortMap = Record<string, PortBinding[] | null>;

/** What POST /networks/{id}/connect carries (EndpointSettings, the input half). */
export interface EndpointConfig {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  DNSNames?: string[] | null;
}

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export interface AttachOptions {
  /** the container's name without the leading slash; resolvable on user networks */
  name: string;
  /** network-scoped aliases */
  aliases?: string[];
  /** a requested address inside the network's subnet (--ip) */
  ipv4Address?: string;
  macAddress?: string;
  /** published ports; only honoured on bridge networks */
  portBindings?: PortMap;
}

export interface AttachResult extends EndpointSettings {
  /** the bindings actually made (random host ports filled in), for NetworkSettings.Ports */
  Ports: PortMap;
  /** the interface inside the container (eth0, eth1…) */
  InterfaceName: string;
}

export type NetworkFilters = Record<string, string[]>;

export interface NetworkService {
  list(filters?: NetworkFilters): Promise<NetworkSummary[]>;
  inspect(idOrName: string): Promise<NetworkInspect>;
  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }>;
  remove(idOrName: string): Promise<void>;
  prune(filters?: NetworkFilters): Promise<{ NetworksDeleted: string[] }>;
  /** A persistent network namespace for the container, loopback up; its path. Idempotent. */
  createSandbox(containerId: string): Promise<string>;
  /** Detaches every endpoint, then unmounts and removes the namespace file. Idempotent. */
  destroySandbox(containerId: string): Promise<void>;
  /** Joins the container's namespace to a bridge network (not host/none: those need no endpoint). */
  attach(containerId: string, netnsPath: string, network: string, opts: AttachOptions): Promise<AttachResult>;
  detach(containerId: string, network: string): Promise<void>;
  /**
   * A sandbox already joined to `network`, moved to the container's netns path with its
   * endpoint now the container's; undefined when none is ready or the endpoint needs more
   * (only the default bridge, without published ports, a fixed address, a MAC or aliases).
   */
  claimSandbox(containerId: string, network: string, opts: AttachOptions): Promise<{ path: string; endpoint: AttachResult } | undefined>;
  /** Refills the pool of pre-wired sandboxes in the background (the container service calls it after a start); settles when done. */
  prewarm(): Promise<void>;
  endpointsOf(containerId: string): AttachResult[];
  /** the nameserver a container on this network should use (the gateway, user networks only) */
  resolverFor(network: string): string | undefined;
  /** Removes what belongs to containers not in `live`; starts DNS servers. Run at daemon start. */
  reconcile(live: Set<string>): Promise<void>;
  /** Closes DNS servers and held port sockets; container networking stays up. */
  close(): Promise<void>;
}

/** The container side of connect/disconnect; implemented by the container service. */
export interface ContainerNetworking {
  connect(container: string, network: string, config: EndpointConfig): Promise<void>;
  disconnect(container: string, network: string, force: boolean): Promise<void>;
}
