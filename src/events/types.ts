// Docker's EventMessage (swagger: SystemEventsResponse), as GET /events streams it.
export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config' | 'builder';

export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

export interface EventMessage {
  Type: EventType;
  Action: string;
  Actor: EventActor;
  scope: 'local' | 'swarm';
  /** unix seconds */
  time: number;
  /** unix nanoseconds; a bigint because it exceeds a double's exact range (see encodeEvent) */
  timeNano: bigint;
}

/** What a publisher supplies; the bus adds scope and the times. */
export type EventInput = Pick<EventMessage, 'Type' | 'Action' | 'Actor'>;

/** Filters as the Engine API decodes them: key -> accepted values. */
export type EventFilters = Record<string, string[]>;
