/**
 * A node's state as plain tool outputs: what `ipvsc state save DIR` writes and what a person can
 * make by hand on any node (README "State directory"). A missing file means that part is empty.
 */

/** File name → the command whose output it holds. */
export const STATE_FILES = {
  'ipvsadm.save': 'ipvsadm -Sn',
  'ipvsadm.list': 'ipvsadm -Ln (connection counters, for draining)',
  'ipvsadm.timeout': 'ipvsadm -L --timeout',
  'ipset.save': 'ipset save',
  'iptables.save': 'iptables-save',
  'ip6tables.save': 'ip6tables-save',
  'kube-ipvs0.addr': 'ip -o addr show dev kube-ipvs0',
  'sysctl.txt': 'name = value lines (sysctl -a)',
  'node.json': '{"name": …, "kernel": …, "interfaces": [{"name": …, "addresses": […]}]}',
  'boot_id': 'cat /proc/sys/kernel/random/boot_id (new at every boot: tells whether a record of the last apply still describes this kernel)',
} as const;

export type StateFile = keyof typeof STATE_FILES;
export type StateSnapshot = Partial<Record<StateFile, string>>;

export interface NodeInfo {
  readonly name?: string;
  /** `uname -r`, for the kernel-conditional sysctls. */
  readonly kernel?: string;
  readonly kubeIpvs0Exists?: boolean;
  /** The kernel's boot id (`boot_id`), when read. */
  readonly bootId?: string;
  readonly interfaces?: readonly { readonly name: string; readonly addresses: readonly string[] }[];
}
