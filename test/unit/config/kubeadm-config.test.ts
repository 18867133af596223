/**
 * kube-proxy configurations as installers write them. The KubeProxyConfiguration kubeadm writes (config.conf of the kube-system/kube-proxy ConfigMap):
 * every unset field is written as its zero value, `configSyncPeriod: 0s` and `ipvs.syncPeriod: 0s`
 * among them. kube-proxy defaults zeros before validating (SetDefaults_KubeProxyConfiguration),
 * so this file is valid to it, and must be to ipvsc: it is step 1 of moving a node (README).
 * Taken from a kubeadm v1.25 cluster's `kubectl describe configmap -n kube-system kube-proxy`,
 * with `mode: ipvs`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/run-cli.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const KUBEADM = join(REPO, 'test', 'fixtures', 'kubeadm', 'config.conf');
const SERVICES = join(REPO, 'examples', 'cluster', 'services');
const NODE = ['--hostname-override=node-a', '--node-ip=192.168.0.10'];
const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-kubeadm-'));
let ran = 0;

test('kubeadm\'s config.conf compiles, to what the same settings as flags compile to', async () => {
  ran++;
  const a = await runCli(['compile', '-f', SERVICES, '--config', KUBEADM, ...NODE, '-o', join(tmp, 'a')]);
  assert.is(a.code, 0, a.stderr);
  assert.not.match(a.stderr, /error\[/);
  const b = await runCli(['compile', '-f', SERVICES, '--cluster-cidr=192.168.0.0/16', '--proxy-mode=ipvs', ...NODE, '-o', join(tmp, 'b')]);
  assert.is(b.code, 0, b.stderr);
  for (const f of ['ipvsadm.restore', 'ipset.restore', 'iptables.restore']) {
    assert.is(readFileSync(join(tmp, 'a', f), 'utf8'), readFileSync(join(tmp, 'b', f), 'utf8'), f);
  }
  assert.match(readFileSync(join(tmp, 'a', 'iptables.restore'), 'utf8'), /! -s 192\.168\.0\.0\/16/);
});

test('a zero sync period given as a flag is still refused, as kube-proxy validates flags', async () => {
  ran++;
  for (const flag of ['--ipvs-sync-period=0s', '--config-sync-period=0']) {
    const r = await runCli(['validate', '-f', SERVICES, ...NODE, flag]);
    assert.is(r.code, 1, flag);
    assert.match(r.stderr, /must be greater than 0/);
  }
  // Not truncated to whole seconds: 500ms is a valid period, and a 1s minimum exceeds it.
  assert.is((await runCli(['validate', '-f', SERVICES, ...NODE, '--ipvs-sync-period=500ms'])).code, 0);
  const min = await runCli(['validate', '-f', SERVICES, ...NODE, '--ipvs-sync-period=500ms', '--ipvs-min-sync-period=1s']);
  assert.is(min.code, 1);
  assert.match(min.stderr, /\(1s\) must not be greater than --ipvs-sync-period \(0\.5s\)/);
  // A negative minimum is still reported as such (161bbed had dropped that check).
  const neg = await runCli(['validate', '-f', SERVICES, ...NODE, '--ipvs-min-sync-period=-5s']);
  assert.is(neg.code, 1);
  assert.match(neg.stderr, /--ipvs-min-sync-period must not be negative, got "-5s"/);
});

test('a bind address without a port gets kube-proxy\'s default port; an empty host is refused, as kube-proxy does', async () => {
  ran++;
  const file = join(tmp, 'metrics.yaml');
  writeFileSync(file, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nmetricsBindAddress: 0.0.0.0\nhealthzBindAddress: "::"\n');
  const f = await runCli(['validate', '-f', SERVICES, ...NODE, '--config', file]);
  assert.is(f.code, 0, f.stderr);
  for (const ok of ['--healthz-bind-address=127.0.0.1', '--metrics-bind-address=::1', '--healthz-bind-address=[::]:10256']) {
    const r = await runCli(['validate', '-f', SERVICES, ...NODE, ok]);
    assert.is(r.code, 0, `${ok}: ${r.stderr}`);
  }
  for (const bad of ['--healthz-bind-address=:10256', '--metrics-bind-address=[::1]', '--metrics-bind-address=localhost:10249']) {
    const r = await runCli(['validate', '-f', SERVICES, ...NODE, bad]);
    assert.is(r.code, 1, bad);
    assert.match(r.stderr, /CONFIG_ADDRESS/);
  }
});

test('a k3s / RKE2 kube-proxy command line is accepted as it is', async () => {
  ran++;
  const r = await runCli(['validate', '-f', SERVICES, ...NODE, '--proxy-mode=ipvs', '--healthz-bind-address=127.0.0.1', '--cluster-cidr=10.42.0.0/16',
    '--conntrack-max-per-core=0', '--conntrack-tcp-timeout-established=0s', '--conntrack-tcp-timeout-close-wait=0s',
    '--kubeconfig=/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig', '--v=2', '--master=https://127.0.0.1:6443']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /error\[/);
});

test('the configurations installers write (kubeadm, EKS, kubespray, …) are read without an error', async () => {
  ran++;
  const dir = join(REPO, 'test', 'fixtures', 'kube-proxy-configs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(files.length >= 13, `found ${files.length} configurations`);
  for (const f of files) {
    const r = await runCli(['validate', '-f', SERVICES, ...NODE, '--config', join(dir, f)]);
    assert.is(r.code, 0, `${f}: ${r.stderr}`);
  }
});

test('every kubeadm test ran', () => {
  assert.is(ran, 5);
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
