/**
 * `/proc/net/ip_vs` → the `ipvsadm -Sn` text of the same table. Pure: the text is passed in.
 *
 * Why: `ipvsadm -Ln` asks the kernel for the real servers of each virtual service in its own
 * netlink request, so dumping 40k services (a 10k-Service node) takes tens of seconds on a slow
 * node; the kernel prints the whole table into `/proc/net/ip_vs` in one read (ip_vs_ctl.c,
 * ip_vs_info_seq_show). apply's read-back of a large change uses it (plan/scope.ts).
 *
 * What the file does not show, and so what a read through it cannot see:
 * - scheduler flags (`-b`: `mh-port`, `sh-fallback`, `flag-N`) and persistence engines (`--pe`):
 *   a read-back uses this file only when no desired service has flags;
 * - the `ops` flag of IPv6 services (the kernel prints it for IPv4 only), real-server thresholds
 *   (`-x`/`-y`, which ipvsc never sets nor compares), and the family of fwmark services: one mark
 *   may serve both families (dual-stack keepalived), which would read as one service twice, so
 *   fwmark services and their real servers are left out (ipvsc never touches them);
 * - the persistence timeout in seconds: it is printed in jiffies, so the caller passes the
 *   kernel's HZ (read-state.ts learns it from one `ipvsadm -Ln -t` of a persistent service).
 *
 * Real sample (Debian 12, kernel 6.1, HZ 250; test/fixtures/tool-output/ipvsadm/proc-net-ip_vs.txt):
 * ```
 * IP Virtual Server version 1.2.1 (size=4096)
 * Prot LocalAddress:Port Scheduler Flags
 *   -> RemoteAddress:Port Forward Weight ActiveConn InActConn
 * SCTP  [2001:0db8:0000:0000:0000:0000:0001:0001]:0BB9 mh
 * TCP  C0A8000A:7580 wrr  persistent 15000 FFFFFFFF
 *   -> 0AB40001:0050      Masq    1      0          0
 * UDP  [2020:0000:0000:0000:0000:0000:0000:0001]:0035 rr persistent 2700000 80000000
 *   -> [1002:0ab8:0000:0000:0000:0000:0002:0010]:0035      Masq    1      0          0
 * TCP  0A141E29:0050 rr
 *   -> 0AB40002:1F90      Masq    0      0          0
 *   -> 0AB40001:0050      Masq    1      3          1
 * ```
 * Services come in hash order; the save parser sorts them.
 */
import { parseIp } from '../model/net.js';
import { IPVSADM_SWITCH, StateParseError } from './types.js';

const TOOL = '/proc/net/ip_vs';

/** CONFIG_HZ values Linux builds use across architectures (a ratio outside them is not trusted). */
export const KERNEL_HZ = [24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 1000, 1024, 1200] as const;

const SWITCH: Readonly<Record<string, string | undefined>> = IPVSADM_SWITCH;
/** ip_vs_fwd_name() → the ipvsadm -Sn switch (Local is printed by ipvsadm as route). */
const METHOD: Record<string, string> = { Masq: '-m', Route: '-g', Local: '-g', Tunnel: '-i' };

const HEX8 = /^[0-9A-F]{8}$/;
const HEX4 = /^[0-9A-F]{4}$/;

/** `0A141E29` → `10.20.30.41`; `[2020:0000:…:0001]` → `[2020::1]`; with `:PORT` in hex. */
function hostPort(tok: string, fail: (why: string) => never): { host: string; port: number; v6: boolean } {
  const colon = tok.lastIndexOf(':');
  const portHex = tok.slice(colon + 1);
  if (colon < 0 || !HEX4.test(portHex)) fail(`bad address ${tok}`);
  const port = parseInt(portHex, 16);
  const addr = tok.slice(0, colon);
  if (addr.startsWith('[') && addr.endsWith(']')) {
    const ip = parseIp(addr.slice(1, -1));
    if (!ip || ip.family !== 'IPv6') fail(`bad IPv6 address ${addr}`);
    return { host: `[${ip.text}]`, port, v6: true };
  }
  if (!HEX8.test(addr)) fail(`bad IPv4 address ${addr}`);
  const n = parseInt(addr, 16);
  return { host: `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, port, v6: false };
}

/** The netmask column: an IPv4 mask (`FFFFFF00`), or an IPv6 prefix length stored as a __be32. */
function netmaskOf(hex: string, v6: boolean, fail: (why: string) => never): string | undefined {
  if (!HEX8.test(hex)) fail(`bad netmask ${hex}`);
  const n = parseInt(hex, 16);
  if (v6) {
    // printed through ntohl(): on a little-endian host the prefix length reads byte-swapped
    const plen = n <= 128 ? n : ((n >>> 24) | ((n >>> 8) & 0xff00)) >>> 0;
    if (plen > 128) fail(`bad IPv6 netmask ${hex}`);
    return plen === 128 ? undefined : String(plen);
  }
  return n === 0xffffffff ? undefined : `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The first persistent service (for learning HZ): its `ipvsadm` switch, `VIP:PORT` and jiffies. */
export function firstPersistentService(text: string): { switch: string; service: string; jiffies: number } | undefined {
  // Found with indexOf, not by splitting the table (procIpVsToSave reads it whole afterwards).
  for (let at = text.indexOf(' persistent '); at >= 0; at = text.indexOf(' persistent ', at + 1)) {
    const line = text.slice(text.lastIndexOf('\n', at) + 1, (text.indexOf('\n', at) + 1 || text.length + 1) - 1);
    const t = line.trim().split(/\s+/);
    const p = t.indexOf('persistent');
    if (p < 0 || t[0] === 'FWM' || !SWITCH[t[0]!]) continue;
    const hp = hostPort(t[1]!, (why) => { throw new StateParseError(TOOL, 0, line, why); });
    return { switch: SWITCH[t[0]!]!, service: `${hp.host}:${hp.port}`, jiffies: Number(t[p + 1]) };
  }
  return undefined;
}

/**
 * The table's TCP/UDP/SCTP services as `ipvsadm -Sn` would print them (minus what the file does
 * not show, above; fwmark services left out).
 * `hz` is needed when a service is persistent; a timeout that is not a whole number of seconds at
 * that HZ is printed rounded down, as the kernel reports it to ipvsadm.
 */
export function procIpVsToSave(text: string, hz: number | undefined): string {
  const out: string[] = [];
  let svc = ''; // `-t 10.0.0.1:80` of the current service; `-` for a fwmark service (left out)
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const fail = (why: string): never => { throw new StateParseError(TOOL, i + 1, raw, why); };
    const line = raw.trim();
    if (line === '' || line.startsWith('IP Virtual Server version') || line.startsWith('Prot ') || line.startsWith('-> RemoteAddress')) continue;
    const t = line.split(/\s+/);
    if (t[0] === '->') {
      if (svc === '') fail('real server before any service');
      if (svc === '-') continue;
      const hp = hostPort(t[1] ?? '', fail);
      const method = METHOD[t[2] ?? ''] ?? fail(`unknown forwarding method ${t[2]}`);
      const weight = t[3] ?? '';
      if (!/^\d+$/.test(weight)) fail('bad weight');
      out.push(`-a ${svc} -r ${hp.host}:${hp.port} ${method} -w ${weight}`);
      continue;
    }
    if (t[0] === 'FWM') {
      if (!HEX8.test(t[1] ?? '')) fail(`bad fwmark ${t[1]}`);
      svc = '-';
      continue;
    }
    let k = 1;
    const sw = SWITCH[t[0]!] ?? fail(`unknown protocol ${t[0]}`);
    const hp = hostPort(t[k++] ?? '', fail);
    const v6 = hp.v6;
    svc = `${sw} ${hp.host}:${hp.port}`;
    const sched = t[k++] ?? fail('no scheduler');
    let opts = '';
    for (; k < t.length; k++) {
      if (t[k] === 'ops') opts += ' -o';
      else if (t[k] === 'persistent') {
        const jiffies = t[++k] ?? '';
        if (!/^\d+$/.test(jiffies)) fail('bad persistence timeout');
        if (hz === undefined) fail('a persistent service, but the kernel HZ is unknown');
        opts += ` -p ${Math.floor(Number(jiffies) / hz!)}`;
        const mask = netmaskOf(t[++k] ?? '', v6, fail);
        if (mask !== undefined) opts += ` -M ${mask}`;
      } else fail(`unknown service attribute ${t[k]}`);
    }
    out.push(`-A ${svc} -s ${sched}${opts}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}
