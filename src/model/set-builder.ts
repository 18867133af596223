/**
 * Accumulates ipset entries with the sort order of docs/artifacts.md: fields compared in order,
 * addresses numerically (IPv4 first), protocols TCP < UDP < SCTP, ports numerically.
 */
import type { Cidr, Family, Ip } from './net.js';
import type { Protocol, SetId } from './names.js';
import { PROTOCOLS, SET_CATALOGUE, protocolRank, setName } from './names.js';
import type { IpSet } from './types.js';

/** ipset's protocol spelling by protocolRank: built once, not toLowerCase per entry. */
const PROTO_BY_RANK: readonly string[] = PROTOCOLS.map((p) => p.toLowerCase());

const enum Kind { Ip, IpPort, IpPortIp, IpPortNet, Port }

/**
 * An entry as its parts: compared field by field, and printed only once sorted and unique.
 * At 10k Services, building every entry's text up front and de-duplicating through a Map keyed
 * by it (one hash of a fresh string per entry) was a measurable part of compile (issue #5).
 * Within one set all entries have one kind, so equal fields mean equal text: an address key
 * (Ip.key) has one canonical text, a CIDR is its network key plus its prefix.
 */
interface Entry {
  readonly kind: Kind;
  readonly ip: Ip | null;
  readonly rank: number;
  readonly port: number;
  /** ip2 (hash:ip,port,ip) or the CIDR's network (hash:ip,port,net). */
  readonly ip2: Ip | null;
  readonly net: Cidr | null;
}

const keyOf = (ip: Ip | null): string => (ip === null ? '' : ip.key);

const byFields = (x: Entry, y: Entry): number => {
  const a = keyOf(x.ip), b = keyOf(y.ip);
  if (a !== b) return a < b ? -1 : 1;
  if (x.rank !== y.rank) return x.rank - y.rank;
  if (x.port !== y.port) return x.port - y.port;
  const c = x.net !== null ? x.net.ip.key : keyOf(x.ip2), d = y.net !== null ? y.net.ip.key : keyOf(y.ip2);
  if (c !== d) return c < d ? -1 : 1;
  return (x.net?.prefix ?? 0) - (y.net?.prefix ?? 0);
};

function entryText(e: Entry): string {
  switch (e.kind) {
    case Kind.Ip:
      return e.ip!.text;
    case Kind.Port:
      return String(e.port);
    case Kind.IpPort:
      return `${e.ip!.text},${PROTO_BY_RANK[e.rank]}:${e.port}`;
    case Kind.IpPortIp:
      return `${e.ip!.text},${PROTO_BY_RANK[e.rank]}:${e.port},${e.ip2!.text}`;
    case Kind.IpPortNet:
      return `${e.ip!.text},${PROTO_BY_RANK[e.rank]}:${e.port},${e.net!.text}`;
  }
}

export class SetBuilder {
  private readonly sets = new Map<SetId, Entry[]>();

  private put(id: SetId, e: Entry): void {
    let xs = this.sets.get(id);
    if (!xs) this.sets.set(id, (xs = []));
    xs.push(e);
  }

  ip(id: SetId, ip: Ip): void {
    this.put(id, { kind: Kind.Ip, ip, rank: 0, port: 0, ip2: null, net: null });
  }

  ipPort(id: SetId, ip: Ip, proto: Protocol, port: number): void {
    this.put(id, { kind: Kind.IpPort, ip, rank: protocolRank(proto), port, ip2: null, net: null });
  }

  ipPortIp(id: SetId, ip: Ip, proto: Protocol, port: number, ip2: Ip): void {
    this.put(id, { kind: Kind.IpPortIp, ip, rank: protocolRank(proto), port, ip2, net: null });
  }

  ipPortNet(id: SetId, ip: Ip, proto: Protocol, port: number, net: Cidr): void {
    this.put(id, { kind: Kind.IpPortNet, ip, rank: protocolRank(proto), port, ip2: null, net });
  }

  port(id: SetId, port: number): void {
    this.put(id, { kind: Kind.Port, ip: null, rank: 0, port, ip2: null, net: null });
  }

  has(id: SetId): boolean {
    return (this.sets.get(id)?.length ?? 0) > 0;
  }

  /** All 17 sets in catalogue order, entries sorted and unique; empty sets included (quirk 13). */
  build(family: Family): IpSet[] {
    return SET_CATALOGUE.map((info) => {
      const xs = this.sets.get(info.id);
      const entries: string[] = [];
      if (xs) {
        xs.sort(byFields);
        for (let i = 0; i < xs.length; i++) if (i === 0 || byFields(xs[i - 1]!, xs[i]!) !== 0) entries.push(entryText(xs[i]!));
      }
      return { name: setName(info.id, family), type: info.type, family, entries };
    });
  }
}
