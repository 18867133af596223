# test/vm/modules.sh — source me inside the VM (run.sh does it for you unless VM_NO_MODULES=1).
# Loads the kernel modules kube-proxy's IPVS mode and our tests need, from the 9p-shared
# Debian kernel tree ($VM_MODULES, mounted at /run/vm-modules), with `modprobe -d`.
# Usage: vm_load_modules [extra modules...]   → prints nothing on success, warns on failures.

VM_MODULES=${VM_MODULES:-/run/vm-modules}

VM_MODULE_LIST="
ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh ip_vs_sed
ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_twos
ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet
ip_set_hash_net ip_set_bitmap_port xt_set
nf_tables nft_compat nft_chain_nat
x_tables xt_comment xt_mark xt_addrtype xt_MASQUERADE xt_conntrack xt_tcpudp xt_physdev xt_ipvs
xt_nat xt_multiport ipt_REJECT ip6t_REJECT nf_reject_ipv4 nf_reject_ipv6
ip_tables ip6_tables iptable_nat iptable_filter iptable_mangle ip6table_nat ip6table_filter ip6table_mangle
nf_nat nf_conntrack
dummy veth sctp
"

# vm_load_modules [extra...]: modprobe every module (two `modprobe -a` in parallel: ~2.5 s under
# TCG instead of ~13 s one by one). A module that does not exist in this kernel (e.g. ip_vs_twos
# before 6.7) is reported on stderr and skipped, never fatal.
vm_load_modules() {
  set -- $VM_MODULE_LIST "$@"
  local h=$(( $# / 2 )) err1 err2 missing
  err1=$(modprobe -a -d "$VM_MODULES" "${@:1:$h}" 2>&1 >/dev/null) &
  local pid=$!
  err2=$(modprobe -a -d "$VM_MODULES" "${@:$((h + 1))}" 2>&1 >/dev/null)
  wait $pid
  # the first group's stderr was lost in the subshell: re-check that group serially (cheap: all
  # present modules are loaded by now, so modprobe returns at once)
  err1=$(modprobe -a -d "$VM_MODULES" "${@:1:$h}" 2>&1 >/dev/null)
  missing=$(printf '%s\n%s\n' "$err1" "$err2" | sed -n 's/.*Module \([^ ]*\) not found.*/\1/p' | tr '\n' ' ')
  [ -z "$missing" ] || echo "vm_load_modules: not in $(uname -r): $missing" >&2
  return 0
}
