/**
 * Accumulates ipset entries with the sort order of docs/artifacts.md: fields compared in order,
 * addresses numerically (IPv4 first), protocols TCP < UDP < SCTP, ports numerically.
 */
import type { Cidr, Family, Ip } from './net.js';
import type { Protocol, SetId } from './names.js';
import { SET_CATALOGUE, protocolRank, setName } from './names.js';
import type { IpSet } from './types.js';

const protoLower = (p: Protocol): string => p.toLowerCase();

/**
 * An entry and its sort fields. Compared field by field rather than through one composed string
 * key: at 10k Services building and hashing those keys was a measurable part of compile (issue #5).
 */
interface Entry {
  readonly text: string;
  /** Address key (Ip.key), '' for port sets. */
  readonly a: string;
  readonly rank: number;
  readonly port: number;
  /** Second address key (ip2 or the CIDR's network), '' when none. */
  readonly b: string;
  readonly prefix: number;
}

const byFields = (x: Entry, y: Entry): number =>
  (x.a < y.a ? -1 : x.a > y.a ? 1 : 0) || x.rank - y.rank || x.port - y.port || (x.b < y.b ? -1 : x.b > y.b ? 1 : 0) || x.prefix - y.prefix;

export class SetBuilder {
  private readonly sets = new Map<SetId, Map<string, Entry>>();

  private put(id: SetId, e: Entry): void {
    let m = this.sets.get(id);
    if (!m) this.sets.set(id, (m = new Map<string, Entry>()));
    m.set(e.text, e);
  }

  ip(id: SetId, ip: Ip): void {
    this.put(id, { text: ip.text, a: ip.key, rank: 0, port: 0, b: '', prefix: 0 });
  }

  ipPort(id: SetId, ip: Ip, proto: Protocol, port: number): void {
    this.put(id, { text: `${ip.text},${protoLower(proto)}:${port}`, a: ip.key, rank: protocolRank(proto), port, b: '', prefix: 0 });
  }

  ipPortIp(id: SetId, ip: Ip, proto: Protocol, port: number, ip2: Ip): void {
    this.put(id, { text: `${ip.text},${protoLower(proto)}:${port},${ip2.text}`, a: ip.key, rank: protocolRank(proto), port, b: ip2.key, prefix: 0 });
  }

  ipPortNet(id: SetId, ip: Ip, proto: Protocol, port: number, net: Cidr): void {
    this.put(id, { text: `${ip.text},${protoLower(proto)}:${port},${net.text}`, a: ip.key, rank: protocolRank(proto), port, b: net.ip.key, prefix: net.prefix });
  }

  port(id: SetId, port: number): void {
    this.put(id, { text: String(port), a: '', rank: 0, port, b: '', prefix: 0 });
  }

  has(id: SetId): boolean {
    return (this.sets.get(id)?.size ?? 0) > 0;
  }

  /** All 17 sets in catalogue order, entries sorted; empty sets included (quirk 13). */
  build(family: Family): IpSet[] {
    return SET_CATALOGUE.map((info) => {
      const m = this.sets.get(info.id);
      const entries = m ? [...m.values()].sort(byFields).map((e) => e.text) : [];
      return { name: setName(info.id, family), type: info.type, family, entries };
    });
  }
}
