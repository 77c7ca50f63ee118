// The volume service's contract: docker's local volumes (Engine API
// definitions Volume, VolumeCreateOptions, VolumeListResponse, VolumePruneResponse).

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  /** RFC 3339 */
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
  /** only in `usage()` (system df) */
  UsageData?: { Size: number; RefCount: number };
}

export interface VolumeCreateOptions {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export type VolumeFilters = Record<string, string[]>;

export interface VolumeService {
  create(opts: VolumeCreateOptions): Promise<Volume>;
  get(name: string): Volume;
  list(filters?: VolumeFilters): Promise<{ Volumes: Volume[]; Warnings: string[] }>;
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
  prune(filters?: VolumeFilters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
  usage(): Promise<Volume[]>;
}
