// A lower bound for a JSON compile in JavaScript: a fraction of the work, with none of what ipvsc
// adds. It writes the cluster-IP virtual servers with their real servers and the cluster-IP set
// entries of both families; not the NodePort, external-IP and load-balancer servers, the other 32
// sets, iptables or the manifest, and no schema or API validation, diagnostics, traffic policies
// or sorting. If this alone takes most of a budget, the budget is not reachable by a compiler that
// does all of that (bench/README.md, issue #5).
//   node bench/json-sketch.mjs FILE OUTDIR
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

const [file, out] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
const items = doc.items ?? [doc];
// endpoints by namespace/service, then port name
const eps = new Map();
for (const it of items) {
  if (it.kind !== 'EndpointSlice') continue;
  const key = `${it.metadata.namespace}/${it.metadata.labels?.['kubernetes.io/service-name']}`;
  let byPort = eps.get(key);
  if (!byPort) eps.set(key, (byPort = new Map()));
  for (const p of it.ports ?? []) {
    let list = byPort.get(p.name ?? '');
    if (!list) byPort.set(p.name ?? '', (list = []));
    for (const e of it.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const a = e.addresses[0];
      list.push(a.includes(':') ? `[${a}]:${p.port}` : `${a}:${p.port}`);
    }
  }
}
let ipvs = '';
let ipset = '';
for (const it of items) {
  if (it.kind !== 'Service') continue;
  const byPort = eps.get(`${it.metadata.namespace}/${it.metadata.name}`);
  for (const ip of it.spec.clusterIPs ?? [it.spec.clusterIP]) {
    if (!ip || ip === 'None') continue;
    const v6 = ip.includes(':');
    for (const p of it.spec.ports ?? []) {
      const sw = p.protocol === 'UDP' ? '-u' : p.protocol === 'SCTP' ? '--sctp-service' : '-t';
      const vip = v6 ? `[${ip}]:${p.port}` : `${ip}:${p.port}`;
      ipvs += `-A ${sw} ${vip} -s rr\n`;
      for (const rs of byPort?.get(p.name ?? '') ?? []) if (rs.startsWith('[') === v6) ipvs += `-a ${sw} ${vip} -r ${rs} -m -w 1\n`;
      ipset += `add KUBE${v6 ? '-6' : ''}-CLUSTER-IP ${ip},${p.protocol.toLowerCase()}:${p.port}\n`;
    }
  }
}
fs.mkdirSync(out, { recursive: true });
for (const [name, text] of [['ipvsadm.restore', ipvs], ['ipset.restore', ipset]]) {
  fs.writeFileSync(path.join(out, name), text);
  createHash('sha256').update(text).digest('hex');
}
