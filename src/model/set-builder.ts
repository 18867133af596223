/**
 * Accumulates ipset entries with the sort order of docs/artifacts.md: fields compared in order,
 * addresses numerically (IPv4 first), protocols TCP < UDP < SCTP, ports numerically.
 */
import type { Cidr, Family, Ip } from './net.js';
import type { Protocol, SetId } from './names.js';
import { SET_CATALOGUE, protocolRank, setName } from './names.js';
import type { IpSet } from './types.js';

const pad5 = (n: number): string => String(n).padStart(5, '0');
const protoLower = (p: Protocol): string => p.toLowerCase();

export class SetBuilder {
  private readonly sets = new Map<SetId, Map<string, string>>();

  private put(id: SetId, text: string, key: string): void {
    let m = this.sets.get(id);
    if (!m) this.sets.set(id, (m = new Map<string, string>()));
    m.set(text, key);
  }

  ip(id: SetId, ip: Ip): void {
    this.put(id, ip.text, ip.key);
  }

  ipPort(id: SetId, ip: Ip, proto: Protocol, port: number): void {
    this.put(id, `${ip.text},${protoLower(proto)}:${port}`, `${ip.key}|${protocolRank(proto)}|${pad5(port)}`);
  }

  ipPortIp(id: SetId, ip: Ip, proto: Protocol, port: number, ip2: Ip): void {
    this.put(id, `${ip.text},${protoLower(proto)}:${port},${ip2.text}`, `${ip.key}|${protocolRank(proto)}|${pad5(port)}|${ip2.key}`);
  }

  ipPortNet(id: SetId, ip: Ip, proto: Protocol, port: number, net: Cidr): void {
    this.put(id, `${ip.text},${protoLower(proto)}:${port},${net.text}`, `${ip.key}|${protocolRank(proto)}|${pad5(port)}|${net.ip.key}/${String(net.prefix).padStart(3, '0')}`);
  }

  port(id: SetId, port: number): void {
    this.put(id, String(port), pad5(port));
  }

  has(id: SetId): boolean {
    return (this.sets.get(id)?.size ?? 0) > 0;
  }

  /** All 17 sets in catalogue order, entries sorted; empty sets included (quirk 13). */
  build(family: Family): IpSet[] {
    return SET_CATALOGUE.map((info) => {
      const m = this.sets.get(info.id);
      const entries = m ? [...m.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([t]) => t) : [];
      return { name: setName(info.id, family), type: info.type, family, entries };
    });
  }
}
