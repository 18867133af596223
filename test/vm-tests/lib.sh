# Sourced by the VM scenario scripts: TAP output, the owned/foreign state in the tools' own save
# formats, and the node setup they share (routes for real servers, foreign state to protect).
source test/vm/modules.sh
vm_load_modules >/dev/null 2>&1 || true
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
IPVSC="node bin/ipvsc.js"
# The record of the last apply: / is the host's, read-only, in the VM.
export IPVSC_APPLIED_DIR=/tmp/ipvsc-applied
G=test/golden/cases
EXCL=--ipvs-exclude-cidrs=192.168.100.0/24
n=0
pass() { n=$((n+1)); echo "ok $n - $1"; }
fail() { n=$((n+1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check() { local name=$1; shift; if "$@" >/tmp/check.out 2>&1; then pass "$name"; else fail "$name" "$(tail -20 /tmp/check.out)"; fi; }
flags() { grep -v '^#' "$G/$1/input/flags" 2>/dev/null | grep -v '^$'; }

# Owned state, sorted, without counters, timestamps or ipset's random initval.
owned_state() {
  { ipvsadm -Sn | grep -v '192.168.100.' | sort
    ipset save | grep -E '^(create|add) KUBE-' | sed -E 's/ initval 0x[0-9a-f]+//' | sort
    # Only rules and chains: an emptied table that stays listed is kernel bookkeeping, not state.
    for t in iptables-save ip6tables-save; do echo "== $t"; $t | grep -E 'KUBE-' | sed -E 's/\[[0-9]+:[0-9]+\]//'; done
    ip -o addr show dev kube-ipvs0 2>/dev/null | awk '{print $4}' | sort; }
}
foreign_state() {
  { ipvsadm -Sn | grep '192.168.100.' | sort
    ipset save foreign-allow 2>/dev/null | sed -E 's/ initval 0x[0-9a-f]+//'
    iptables-save | grep -E 'DOCKER|172\.17\.' | sed -E 's/\[[0-9]+:[0-9]+\]//'; }
}

# Routes so IPVS accepts the golden cases' real servers, a node address, and foreign state:
# Docker-like chains and rules, a foreign set, a keepalived-like VS in an excluded CIDR.
setup_node() {
  ip link add backends type dummy && ip addr add 10.180.0.254/16 dev backends && ip link set backends up
  ip addr add 10.0.1.254/24 dev backends
  ip link add eth0 type dummy && ip addr add 192.168.0.10/24 dev eth0 && ip link set eth0 up
  iptables -t nat -N DOCKER && iptables -t nat -A DOCKER -i docker0 -j RETURN
  iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
  iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN && iptables -I FORWARD -j DOCKER-USER
  ipset create foreign-allow hash:ip && ipset add foreign-allow 198.51.100.7
  ipvsadm -A -t 192.168.100.10:80 -s wlc && ipvsadm -a -t 192.168.100.10:80 -r 10.180.0.254:80 -m -w 3
}
