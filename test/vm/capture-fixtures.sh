#!/bin/bash
# test/vm/capture-fixtures.sh — capture real ipvsadm / ipset / iptables / ip / sysctl outputs and
# error messages as fixtures under test/fixtures/tool-output/ and test/fixtures/tool-errors/.
#
#   bash test/vm/capture-fixtures.sh          # on the host: runs the VM part, then the host part,
#                                             # then copies everything into test/fixtures/
#   bash test/vm/capture-fixtures.sh --vm     # (what the VM runs; writes into $VM_RESULTS/out)
#   bash test/vm/capture-fixtures.sh --host OUTDIR   # host part only (network namespace, no IPVS)
#
# The outputs are committed; tests read the files, they never run this script.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# ------------------------------------------------------------------------------------------ data
# §7 of the reference, the iptables-restore payload, plus the jump rules of docs/artifacts.md.
payload_v4() {
  cat <<'EOF'
*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-LOAD-BALANCER - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN
-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER
-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT
-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ
-A KUBE-NODE-PORT -p sctp -m comment --comment "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" -m set --match-set KUBE-NODE-PORT-SCTP-HASH dst,dst -j KUBE-MARK-MASQ
-I OUTPUT 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-I POSTROUTING 1 -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
COMMIT
*filter
:KUBE-FORWARD - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-SOURCE-RANGES-FIREWALL - [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-IPVS-OUT-FILTER - [0:0]
-A KUBE-PROXY-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port for load balancer with sourceRange" -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL
-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port + source cidr for packet filter purpose" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN
-A KUBE-SOURCE-RANGES-FIREWALL -j DROP
-A KUBE-IPVS-OUT-FILTER -s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT
-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP-LOCAL dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN
-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT
-I FORWARD 1 -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-I INPUT 1 -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT
-I INPUT 1 -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-I FORWARD 1 -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL
-I INPUT 1 -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-I OUTPUT 1 -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER
COMMIT
EOF
}

# IPv6 variant: ::1/128, KUBE-6-* set names (truncated to 31 chars), LB VIP 2001:db8::1.
payload_v6() {
  payload_v4 | sed \
    -e 's|-s 127.0.0.0/8|-s ::1/128|' \
    -e 's|--match-set KUBE-|--match-set KUBE-6-|' \
    -e 's|--match-set KUBE-6-LOAD-BALANCER-SOURCE-CIDR|--match-set KUBE-6-LOAD-BALANCER-SOURCE-CID|' \
    -e 's|1\.2\.3\.4|2001:db8::1|g'
}

# A Docker-like foreign state, loaded before ours (as dockerd would have left it).
docker_v4() {
  cat <<'EOF'
*nat
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
*filter
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A DOCKER-USER -j RETURN
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
COMMIT
EOF
}
docker_v6() {
  docker_v4 | sed -e 's|127.0.0.0/8|::1/128|' -e 's|172.17.0.0/16|fd00:dead:beef::/48|'
}

# All 17 sets of reference §2.2 (kube-proxy's create lines) with a few entries each.
ipsets_v4() {
  cat <<'EOF'
create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536
add KUBE-LOOP-BACK 10.180.0.1,tcp:80,10.180.0.1
add KUBE-LOOP-BACK 10.180.0.2,udp:53,10.180.0.2
create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.20.30.41,tcp:80
add KUBE-CLUSTER-IP 10.96.0.10,udp:53
add KUBE-CLUSTER-IP 10.20.30.41,sctp:80
create KUBE-EXTERNAL-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-EXTERNAL-IP 192.0.2.7,tcp:80
create KUBE-EXTERNAL-IP-LOCAL hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-EXTERNAL-IP-LOCAL 192.0.2.8,tcp:443
create KUBE-LOAD-BALANCER hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-LOAD-BALANCER 1.2.3.4,tcp:80
create KUBE-LOAD-BALANCER-FW hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-LOAD-BALANCER-FW 1.2.3.4,tcp:80
create KUBE-LOAD-BALANCER-LOCAL hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-LOAD-BALANCER-LOCAL 1.2.3.5,tcp:80
create KUBE-LOAD-BALANCER-SOURCE-IP hash:ip,port,ip family inet hashsize 1024 maxelem 65536
add KUBE-LOAD-BALANCER-SOURCE-IP 1.2.3.5,tcp:80,1.2.3.5
create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet hashsize 1024 maxelem 65536
add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,10.0.0.0/8
add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,192.168.7.0/24
create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-TCP 30080
add KUBE-NODE-PORT-TCP 30443
create KUBE-NODE-PORT-LOCAL-TCP bitmap:port range 0-65535
add KUBE-NODE-PORT-LOCAL-TCP 30443
create KUBE-NODE-PORT-UDP bitmap:port range 0-65535
add KUBE-NODE-PORT-UDP 30053
create KUBE-NODE-PORT-LOCAL-UDP bitmap:port range 0-65535
create KUBE-NODE-PORT-SCTP-HASH hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-NODE-PORT-SCTP-HASH 192.168.0.10,sctp:30132
create KUBE-NODE-PORT-LOCAL-SCTP-HASH hash:ip,port family inet hashsize 1024 maxelem 65536
create KUBE-HEALTH-CHECK-NODE-PORT bitmap:port range 0-65535
add KUBE-HEALTH-CHECK-NODE-PORT 32000
create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536
add KUBE-IPVS-IPS 10.20.30.41
add KUBE-IPVS-IPS 10.96.0.10
add KUBE-IPVS-IPS 1.2.3.4
EOF
}
ipsets_v6() {
  cat <<'EOF'
create KUBE-6-LOOP-BACK hash:ip,port,ip family inet6 hashsize 1024 maxelem 65536
add KUBE-6-LOOP-BACK 1002:ab8::2:10,tcp:80,1002:ab8::2:10
create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536
add KUBE-6-CLUSTER-IP 2020::1,tcp:80
add KUBE-6-CLUSTER-IP 2020::1,udp:53
add KUBE-6-CLUSTER-IP 2001:db8::1:1,sctp:3001
create KUBE-6-EXTERNAL-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536
add KUBE-6-EXTERNAL-IP 2001:db8:e::7,tcp:80
create KUBE-6-EXTERNAL-IP-LOCAL hash:ip,port family inet6 hashsize 1024 maxelem 65536
create KUBE-6-LOAD-BALANCER hash:ip,port family inet6 hashsize 1024 maxelem 65536
add KUBE-6-LOAD-BALANCER 2001:db8::1,tcp:80
create KUBE-6-LOAD-BALANCER-FW hash:ip,port family inet6 hashsize 1024 maxelem 65536
add KUBE-6-LOAD-BALANCER-FW 2001:db8::1,tcp:80
create KUBE-6-LOAD-BALANCER-LOCAL hash:ip,port family inet6 hashsize 1024 maxelem 65536
create KUBE-6-LOAD-BALANCER-SOURCE-IP hash:ip,port,ip family inet6 hashsize 1024 maxelem 65536
create KUBE-6-LOAD-BALANCER-SOURCE-CID hash:ip,port,net family inet6 hashsize 1024 maxelem 65536
add KUBE-6-LOAD-BALANCER-SOURCE-CID 2001:db8::1,tcp:80,fd00::/8
create KUBE-6-NODE-PORT-TCP bitmap:port range 0-65535
add KUBE-6-NODE-PORT-TCP 30080
create KUBE-6-NODE-PORT-LOCAL-TCP bitmap:port range 0-65535
create KUBE-6-NODE-PORT-UDP bitmap:port range 0-65535
create KUBE-6-NODE-PORT-LOCAL-UDP bitmap:port range 0-65535
create KUBE-6-NODE-PORT-SCTP-HASH hash:ip,port family inet6 hashsize 1024 maxelem 65536
add KUBE-6-NODE-PORT-SCTP-HASH 2001:db8::10,sctp:30132
create KUBE-6-NODE-PORT-LOCAL-SCTP-HAS hash:ip,port family inet6 hashsize 1024 maxelem 65536
create KUBE-6-HEALTH-CHECK-NODE-PORT bitmap:port range 0-65535
create KUBE-6-IPVS-IPS hash:ip family inet6 hashsize 1024 maxelem 65536
add KUBE-6-IPVS-IPS 2020::1
add KUBE-6-IPVS-IPS 2001:db8::1
EOF
}

ipvs_restore() {
  cat <<'EOF'
--set 900 120 300
-A -t 10.20.30.41:80 -s rr
-a -t 10.20.30.41:80 -r 10.180.0.1:80 -m -w 1
-a -t 10.20.30.41:80 -r 10.180.0.2:8080 -m -w 0
-A -u 10.96.0.10:53 -s rr -p 10800
-a -u 10.96.0.10:53 -r 10.180.0.1:53 -m -w 1
-a -u 10.96.0.10:53 -r 10.180.0.2:53 -m -w 1
-A --sctp-service 10.20.30.41:80 -s mh -b mh-port
-a --sctp-service 10.20.30.41:80 -r 10.180.0.3:80 -m -w 1
-A -t 10.20.30.42:443 -s sh
-a -t 10.20.30.42:443 -r 10.180.0.3:8443 -m -w 1
-A -t 10.20.30.43:80 -s rr
-A -t 1.2.3.4:80 -s rr
-a -t 1.2.3.4:80 -r 10.180.0.1:80 -m -w 1
-A -t 192.168.0.10:30080 -s wrr -p 60
-a -t 192.168.0.10:30080 -r 10.180.0.1:80 -m -w 1
-A -t [2020::1]:80 -s rr
-a -t [2020::1]:80 -r [1002:ab8::2:10]:80 -m -w 1
-a -t [2020::1]:80 -r [1002:ab8::2:11]:80 -m -w 1
-A -u [2020::1]:53 -s rr -p 10800
-a -u [2020::1]:53 -r [1002:ab8::2:10]:53 -m -w 1
-A --sctp-service [2001:db8::1:1]:3001 -s mh -b mh-port
EOF
}

# ------------------------------------------------------------------------------------- helpers
T= E=
# cap TOOL CASE CMD...: stdout of CMD → $T/TOOL/CASE.txt (stderr too if any, appended after a marker)
cap() {
  local tool=$1 case=$2; shift 2
  mkdir -p "$T/$tool"
  local err; err=$(mktemp)
  "$@" > "$T/$tool/$case.txt" 2>"$err"
  local rc=$?
  if [ -s "$err" ] || [ $rc != 0 ]; then
    { echo "### stderr (exit $rc):"; cat "$err"; } >> "$T/$tool/$case.txt"
  fi
  rm -f "$err"
  printf '%-48s %s\n' "$tool/$case.txt" "$*" >> "$T/CASES.txt"
}
# caperr TOOL CASE INPUTFILE|- AFTERCMD|- CMD...: an error record with exact stdout, stderr, exit
caperr() {
  local tool=$1 case=$2 input=$3 after=$4; shift 4
  mkdir -p "$E/$tool"
  local f=$E/$tool/$case.txt out err rc
  out=$(mktemp); err=$(mktemp)
  if [ "$input" = - ]; then "$@" >"$out" 2>"$err" </dev/null; else "$@" >"$out" 2>"$err" <"$input"; fi
  rc=$?
  {
    if [ "$input" = - ]; then echo "# command: $*"; else echo "# command: $* < input"; fi
    echo "# exit: $rc"
    if [ "$input" != - ]; then echo "## input (line numbers added here, not in the file)"; cat -n "$input" | sed 's/^ *//;s/\t/: /'; fi
    echo "## stdout"; cat "$out"
    echo "## stderr"; cat "$err"
    if [ "$after" != - ]; then echo "## afterwards: $after"; bash -c "$after" 2>&1; fi
  } > "$f"
  rm -f "$out" "$err"
  printf '%-48s exit %-3s %s\n' "$tool/$case.txt" "$rc" "$*" >> "$E/CASES.txt"
}
tmpf() { local f; f=$(mktemp); cat > "$f"; echo "$f"; }

# ---------------------------------------------------------------------------------- VM capture
vm_main() {
  local out=$VM_RESULTS/out
  rm -rf "$out"; mkdir -p "$out/tool-output" "$out/tool-errors"
  T=$out/tool-output E=$out/tool-errors
  : > "$T/CASES.txt"; : > "$E/CASES.txt"

  # --- versions
  {
    echo "# captured inside the QEMU VM by test/vm/capture-fixtures.sh ($(date -u +%Y-%m-%d))"
    echo "kernel: $(uname -r) ($(uname -v))"
    echo "distro userland (host root, shared read-only): Debian $(cat /etc/debian_version)"
    echo "ipvs: $(head -n1 /proc/net/ip_vs 2>/dev/null)"
    echo "ipvsadm: $(ipvsadm --version 2>&1)"
    echo "ipset: $(ipset --version 2>&1 | head -n1)"
    echo "iptables (default -> $(readlink -f "$(command -v iptables)")): $(iptables -V 2>&1)"
    echo "iptables-nft: $(iptables-nft -V 2>&1)"
    echo "iptables-legacy: $(iptables-legacy -V 2>&1)"
    echo "ip6tables: $(ip6tables -V 2>&1)"
    echo "iproute2: $(ip -V 2>&1)"
    echo "sysctl: $(sysctl --version 2>&1 | head -n1)"
    echo "ip_vs schedulers loaded: $(lsmod | awk '/^ip_vs_/{print substr($1,7)}' | sort | tr '\n' ' ')"
  } > "$T/VERSIONS.txt"

  # --- sysctl (fresh values first, then kube-proxy's)
  {
    for k in net.ipv4.vs.conntrack net.ipv4.vs.conn_reuse_mode net.ipv4.vs.expire_nodest_conn \
             net.ipv4.vs.expire_quiescent_template net.ipv4.ip_forward \
             net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce; do sysctl "$k"; done
  } > /tmp/sysctl-default.txt 2>&1
  mkdir -p "$T/sysctl"; cp /tmp/sysctl-default.txt "$T/sysctl/defaults.txt"
  printf '%-48s %s\n' sysctl/defaults.txt "sysctl KEY (fresh VM, ip_vs loaded)" >> "$T/CASES.txt"
  cap sysctl write-kube-proxy sysctl -w net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1 \
    net.ipv4.vs.expire_quiescent_template=1 net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  cap sysctl n-values sysctl -n net.ipv4.vs.conntrack net.ipv4.vs.conn_reuse_mode net.ipv4.ip_forward net.ipv4.conf.all.arp_announce
  cap sysctl proc-sys-read bash -c 'for f in /proc/sys/net/ipv4/vs/conntrack /proc/sys/net/ipv4/vs/conn_reuse_mode /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/arp_ignore; do printf "%s=" "$f"; cat "$f"; done'
  cap sysctl proc-sys-od od -c /proc/sys/net/ipv4/vs/conntrack
  cap sysctl slash-form sysctl net/ipv4/vs/conntrack
  caperr sysctl unknown-key - - sysctl net.ipv4.vs.nosuch
  caperr sysctl n-unknown-key - - sysctl -n net.ipv4.vs.nosuch
  caperr sysctl write-bad-value - - sysctl -w net.ipv4.vs.conntrack=abc
  caperr sysctl write-unknown-key - - sysctl -w net.ipv4.vs.nosuch=1

  # --- node network: node IP on a dummy "eth0", pods behind a veth in netns "backend",
  #     a client in netns "client"
  ip link add eth0 type dummy; ip addr add 192.168.0.10/24 dev eth0; ip link set eth0 up
  ip netns add backend; ip netns add client
  ip link add vh type veth peer name vb netns backend
  ip addr add 10.180.0.254/24 dev vh; ip -6 addr add 1002:ab8::2:1/112 dev vh nodad; ip link set vh up
  ip netns exec backend sh -c '
    ip link set lo up; ip link set vb up
    for a in 10.180.0.1 10.180.0.2 10.180.0.3; do ip addr add $a/24 dev vb; done
    ip -6 addr add 1002:ab8::2:10/112 dev vb nodad; ip -6 addr add 1002:ab8::2:11/112 dev vb nodad
    ip route add default via 10.180.0.254; ip -6 route add default via 1002:ab8::2:1'
  ip link add vc type veth peer name vcl netns client
  ip addr add 192.168.50.1/24 dev vc; ip link set vc up
  ip netns exec client sh -c 'ip link set lo up; ip addr add 192.168.50.2/24 dev vcl; ip link set vcl up; ip route add default via 192.168.50.1'
  sysctl -qw net.ipv4.ip_forward=1

  # --- kube-ipvs0
  ip link add kube-ipvs0 type dummy
  for a in 10.20.30.41/32 10.20.30.42/32 10.20.30.43/32 10.96.0.10/32 1.2.3.4/32; do ip addr add $a dev kube-ipvs0; done
  for a in 2020::1/128 2001:db8::1:1/128; do ip -6 addr add $a dev kube-ipvs0; done
  cap ip addr-kube-ipvs0-oneline ip -o addr show dev kube-ipvs0
  cap ip addr-all-oneline ip -o addr
  cap ip addr-kube-ipvs0-json ip -j addr show dev kube-ipvs0
  cap ip addr-all-json ip -j addr
  cap ip addr-kube-ipvs0 ip addr show dev kube-ipvs0
  cap ip link-kube-ipvs0-oneline ip -o link show dev kube-ipvs0
  cap ip link-kube-ipvs0-details-json ip -d -j link show dev kube-ipvs0
  cap ip route-table-local ip route show table local
  cap ip route-table-local-v6 ip -6 route show table local
  caperr ip addr-add-duplicate - - ip addr add 10.20.30.41/32 dev kube-ipvs0
  caperr ip addr-del-absent - - ip addr del 10.99.99.99/32 dev kube-ipvs0
  caperr ip link-add-existing - - ip link add kube-ipvs0 type dummy
  caperr ip addr-show-missing-dev - - ip -o addr show dev kube-nosuch
  caperr ip addr-add-bad-address - - ip addr add 10.20.30.400/32 dev kube-ipvs0

  # --- IPVS
  local f; f=$(ipvs_restore | tmpf)
  caperr ipvsadm restore-ok "$f" "ipvsadm -Sn" ipvsadm -R
  cp "$f" "$T/ipvsadm-restore-input.txt" 2>/dev/null; mkdir -p "$T/ipvsadm"; mv "$T/ipvsadm-restore-input.txt" "$T/ipvsadm/restore-input.txt"
  # traffic: backend listeners, 2 held TCP connections (ActiveConn) + 1 closed (InActConn) + UDP
  ip netns exec backend python3 -c '
import socket, threading, time
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", port)); s.listen(16)
    keep = []
    while True:
        c, _ = s.accept(); keep.append(c)
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        d, a = s.recvfrom(2048); s.sendto(d, a)
for p in (80, 8080, 8443): threading.Thread(target=tcp, args=(p,), daemon=True).start()
threading.Thread(target=udp, args=(53,), daemon=True).start()
time.sleep(120)' &
  local srv=$!
  sleep 1.5
  ip netns exec client python3 -u -c '
import socket, time
held = []
for i in range(3):
    s = socket.create_connection(("10.20.30.41", 80), timeout=5); s.send(b"x"); held.append(s)
c = socket.create_connection(("10.20.30.41", 80), timeout=5); c.send(b"bye"); c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3); u.sendto(b"q", ("10.96.0.10", 53)); print("udp reply", u.recvfrom(100)[0])
print("connected", len(held)); time.sleep(60)' > /tmp/client.log 2>&1 &
  local cli=$!
  sleep 3
  cap ipvsadm save-Sn ipvsadm -Sn
  cap ipvsadm save-S ipvsadm -S
  cap ipvsadm list-Ln ipvsadm -Ln
  cap ipvsadm list-L ipvsadm -L
  cap ipvsadm list-Ln-stats ipvsadm -Ln --stats
  cap ipvsadm list-Ln-rate ipvsadm -Ln --rate
  cap ipvsadm list-Ln-exact-stats ipvsadm -Ln --stats --exact
  cap ipvsadm list-Ln-timeout ipvsadm -Ln --timeout
  cap ipvsadm list-Ln-connections ipvsadm -Lnc
  cap ipvsadm list-Ln-one-service ipvsadm -Ln -t 10.20.30.41:80
  cap ipvsadm list-Ln-one-service-v6 ipvsadm -Ln -t [2020::1]:80
  cap ipvsadm list-Ln-sctp-mh ipvsadm -Ln --sctp-service 10.20.30.41:80
  cap ipvsadm list-Ln-persistent-conn ipvsadm -Ln --persistent-conn
  cap ipvsadm proc-net-ip_vs cat /proc/net/ip_vs
  cap ipvsadm proc-net-ip_vs_stats cat /proc/net/ip_vs_stats
  cap ipvsadm client-log cat /tmp/client.log
  kill $cli $srv 2>/dev/null; wait $cli $srv 2>/dev/null

  # --- IPVS errors (each on a clean table)
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 10.180.0.1:80 -m -w 1' '-A -t 10.0.0.2:80 -s nosuch' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-unknown-scheduler "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-A -t 10.0.0.2:80 -s twos' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-scheduler-twos-absent "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.9:80 -r 10.180.0.1:80 -m -w 1' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-rs-missing-service "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-A -t 10.0.0.1:80 -s rr' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-duplicate-service "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 10.180.0.1:80 -m -w 1' '-a -t 10.0.0.1:80 -r 10.180.0.1:80 -m -w 1' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-duplicate-rs "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 203.0.113.9:80 -m -w 1' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-rs-no-route "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-A -t 10.0.0.2 -s rr' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-missing-port "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-A -t 10.0.0.2:80 -s rr --bogus' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-unknown-option "$f" "ipvsadm -Sn" ipvsadm -R
  ipvsadm -C
  f=$(printf '%s\n' '-A -t 10.0.0.2:80 -s sh -b sh-port,sh-fallback' '-A -t 10.0.0.3:80 -s mh -b flag-2' '-A -t 10.0.0.4:80 -s mh -b mh-fallback,mh-port' '-A -t 10.0.0.1:80 -s rr -b mh-port' | tmpf)
  caperr ipvsadm restore-sched-flags-variants "$f" "ipvsadm -Sn; ipvsadm -Ln" ipvsadm -R
  ipvsadm -C
  # real servers in a fresh netns (only lo, down): which addresses IPVS refuses
  ip netns add fresh
  f=$(printf '%s\n' '-A -t 10.0.0.1:80 -s rr' '-a -t 10.0.0.1:80 -r 10.180.0.1:80 -m -w 1' '-a -t 10.0.0.1:80 -r 224.0.0.5:80 -m -w 1' '-a -t 10.0.0.1:80 -r 255.255.255.255:80 -m -w 1' '-a -t 10.0.0.1:80 -r 0.0.0.0:80 -m -w 1' '-a -t 10.0.0.1:80 -r [ff02::1]:80 -m -w 1' '-A -t 10.0.0.3:80 -s rr' | tmpf)
  caperr ipvsadm restore-rs-not-unicast-fresh-netns "$f" "ip netns exec fresh ipvsadm -Sn" ip netns exec fresh ipvsadm -R
  ip netns del fresh
  caperr ipvsadm add-existing-service - - bash -c 'ipvsadm -A -t 10.0.0.1:80 -s rr && ipvsadm -A -t 10.0.0.1:80 -s rr'
  caperr ipvsadm delete-missing-service - - ipvsadm -D -t 10.0.0.77:80
  caperr ipvsadm edit-missing-rs - - ipvsadm -e -t 10.0.0.1:80 -r 10.180.0.9:80 -m -w 0
  caperr ipvsadm set-timeouts - "ipvsadm -Ln --timeout" ipvsadm --set 0 0 0
  ipvsadm -C

  # --- ipset
  ipset destroy 2>/dev/null
  f=$( { ipsets_v4; ipsets_v6; } | tmpf)
  caperr ipset restore-ok "$f" - ipset restore -exist
  cap ipset save ipset save
  cap ipset list ipset list
  cap ipset list-terse ipset list -t
  cap ipset list-names ipset list -n
  cap ipset save-one-set ipset save KUBE-LOAD-BALANCER-SOURCE-CIDR
  cap ipset list-one-set-v6 ipset list KUBE-6-CLUSTER-IP
  cap ipset list-one-bitmap ipset list KUBE-NODE-PORT-TCP
  # a second restore of the same file with -exist must be a no-op
  caperr ipset restore-again-exist "$f" - ipset restore -exist
  caperr ipset restore-again-no-exist "$f" - ipset restore
  f=$(printf '%s\n' 'create T1 hash:ip family inet hashsize 1024 maxelem 65536' 'add T1 10.0.0.1' 'add T1 10.0.0.300' 'add T1 10.0.0.3' | tmpf)
  caperr ipset restore-bad-entry-line3 "$f" "ipset save T1" ipset restore -exist
  ipset destroy T1 2>/dev/null
  f=$(printf '%s\n' 'create T1 hash:ip family inet hashsize 1024 maxelem 65536' 'add T1 10.0.0.1' 'add NOSUCH 10.0.0.2' 'add T1 10.0.0.3' | tmpf)
  caperr ipset restore-missing-set-line3 "$f" "ipset save T1" ipset restore -exist
  ipset destroy T1 2>/dev/null
  f=$(printf '%s\n' 'create T1 hash:ip family inet hashsize 1024 maxelem 65536' 'create T1 hash:ip,port family inet hashsize 1024 maxelem 65536' 'add T1 10.0.0.3' | tmpf)
  caperr ipset restore-create-different-type "$f" "ipset save T1" ipset restore -exist
  ipset destroy T1 2>/dev/null
  f=$(printf '%s\n' 'create T1 hash:ip family inet hashsize 1024 maxelem 65536' 'create T1 hash:ip family inet hashsize 2048 maxelem 65536' 'add T1 10.0.0.3' | tmpf)
  caperr ipset restore-create-different-hashsize "$f" "ipset save T1" ipset restore -exist
  ipset destroy T1 2>/dev/null
  f=$(printf '%s\n' 'create T1 hash:ip family inet' 'add T1 2001:db8::1' | tmpf)
  caperr ipset restore-wrong-family "$f" - ipset restore -exist
  ipset destroy T1 2>/dev/null
  f=$(printf '%s\n' 'create T1 bitmap:port range 0-65535' 'add T1 70000' | tmpf)
  caperr ipset restore-port-out-of-range "$f" - ipset restore -exist
  ipset destroy T1 2>/dev/null
  f=$(printf '%s\n' 'create T1 hash:ip family inet' 'bogus T1 10.0.0.1' | tmpf)
  caperr ipset restore-unknown-command "$f" - ipset restore -exist
  ipset destroy T1 2>/dev/null
  caperr ipset destroy-in-use - - bash -c 'ipset create T2 hash:ip && iptables -A INPUT -m set --match-set T2 src -j ACCEPT && ipset destroy T2'
  iptables -D INPUT -m set --match-set T2 src -j ACCEPT; ipset destroy T2
  caperr ipset list-missing - - ipset list NOSUCH
  caperr ipset del-absent-entry - - ipset del KUBE-CLUSTER-IP 10.9.9.9,tcp:80
  caperr ipset del-absent-entry-exist - - ipset -exist del KUBE-CLUSTER-IP 10.9.9.9,tcp:80

  # --- iptables: nft backend and legacy backend, each in its own netns (ipsets are per netns)
  local be ns v
  for be in nft legacy; do
    ns=ipt-$be
    ip netns add $ns
    ip netns exec $ns ip link set lo up
    { ipsets_v4; ipsets_v6; } | ip netns exec $ns ipset restore -exist
    for v in 4 6; do
      local ipt=iptables p=
      [ $v = 6 ] && ipt=ip6tables && p=6
      docker_v$v | ip netns exec $ns $ipt-$be-restore -w --noflush
      f=$(payload_v$v | tmpf)
      caperr ${ipt}-$be restore-test-payload "$f" - ip netns exec $ns $ipt-$be-restore -w --test
      caperr ${ipt}-$be restore-payload "$f" - ip netns exec $ns $ipt-$be-restore -w --noflush
      cap ${ipt}-$be save ip netns exec $ns $ipt-$be-save
      cap ${ipt}-$be save-nat ip netns exec $ns $ipt-$be-save -t nat
      cap ${ipt}-$be save-filter ip netns exec $ns $ipt-$be-save -t filter
      cap ${ipt}-$be save-counters-filter ip netns exec $ns $ipt-$be-save -c -t filter
      cap ${ipt}-$be list-nat-S ip netns exec $ns $ipt-$be -w -t nat -S
      cap ${ipt}-$be list-KUBE-SERVICES-S ip netns exec $ns $ipt-$be -w -t nat -S KUBE-SERVICES
      cap ${ipt}-$be list-filter-L ip netns exec $ns $ipt-$be -w -t filter -L -n
      cp "$f" "$T/${ipt}-$be/restore-input.txt"
      # a second load with --noflush: KUBE chains are flushed+refilled, -I jumps are duplicated
      ip netns exec $ns $ipt-$be-restore -w --noflush < "$f"
      cap ${ipt}-$be save-after-second-load ip netns exec $ns $ipt-$be-save
      # error formats
      local bad
      bad=$(payload_v$v | sed '9a -A KUBE-SERVICES -m set --match-set NOSUCHSET dst -j RETURN' | tmpf)
      caperr ${ipt}-$be restore-missing-set-line10 "$bad" - ip netns exec $ns $ipt-$be-restore -w --noflush
      bad=$(payload_v$v | sed '9a -A KUBE-SERVICES --bogus-option 1 -j RETURN' | tmpf)
      caperr ${ipt}-$be restore-unknown-option-line10 "$bad" - ip netns exec $ns $ipt-$be-restore -w --noflush
      bad=$(payload_v$v | sed '9a -A KUBE-SERVICES -j KUBE-NOSUCH-CHAIN' | tmpf)
      caperr ${ipt}-$be restore-missing-chain-line10 "$bad" - ip netns exec $ns $ipt-$be-restore -w --noflush
      bad=$(payload_v$v | sed '30a -A KUBE-IPVS-FILTER -m nosuchmatch -j RETURN' | tmpf)
      caperr ${ipt}-$be restore-unknown-match-line31 "$bad" - ip netns exec $ns $ipt-$be-restore -w --noflush
      bad=$(payload_v$v | sed '9a -A KUBE-SERVICES -m set --match-set NOSUCHSET dst -j RETURN' | tmpf)
      caperr ${ipt}-$be restore-test-missing-set-line10 "$bad" - ip netns exec $ns $ipt-$be-restore -w --test
      bad=$(payload_v$v | sed '$d' | tmpf)
      caperr ${ipt}-$be restore-missing-commit "$bad" - ip netns exec $ns $ipt-$be-restore -w --noflush
      caperr ${ipt}-$be check-missing-rule - - ip netns exec $ns $ipt-$be -w -t nat -C OUTPUT -j KUBE-NOSUCH
    done
    # state after the failed loads (the failed table's transaction must be entirely absent)
    cap iptables-$be save-after-errors ip netns exec $ns iptables-$be-save
  done
  # nft save when legacy tables also exist in the same netns: the warning line
  ip netns exec ipt-nft iptables-legacy -w -t filter -A INPUT -j ACCEPT
  cap iptables-nft save-with-legacy-present ip netns exec ipt-nft iptables-nft-save
  cap iptables-legacy save-with-nft-present ip netns exec ipt-nft iptables-legacy-save

  # §3 proof: the exact §7 payload loads on a pristine nft netns (no docker state)
  ip netns add proof; { ipsets_v4; } | ip netns exec proof ipset restore -exist
  payload_v4 | sed '/^-I /d' > /tmp/sec7.txt
  caperr iptables-nft proof-sec7-payload-noflush /tmp/sec7.txt "ip netns exec proof iptables-nft-save -t filter | grep -e OUT-FILTER" ip netns exec proof iptables-nft-restore -w --noflush --counters
  echo "capture done"
}

# -------------------------------------------------------------------------------- host capture
host_main() {
  local out=$1
  T=$out/tool-output E=$out/tool-errors
  mkdir -p "$T" "$E"; touch "$T/CASES.txt" "$E/CASES.txt"
  local ns=ipvsc-capture-$$
  ip netns add $ns
  {
    echo "# host side (no VM), network namespace $ns, captured by test/vm/capture-fixtures.sh ($(date -u +%Y-%m-%d))"
    echo "kernel: $(uname -r)"
    echo "ipset: $(ipset --version 2>&1 | head -n1)"
    echo "iptables: $(iptables -V 2>&1); legacy: $(iptables-legacy -V 2>&1)"
    echo "ip_vs in this kernel: $([ -e /proc/net/ip_vs ] && echo yes || echo no)"
    echo -n "ipset is per network namespace: "
    ip netns exec $ns ipset create IPVSC-NETNS-PROBE hash:ip
    if ipset list -n 2>/dev/null | grep -qx IPVSC-NETNS-PROBE; then echo "NO (set created in netns visible in root ns)"; else echo "yes (set created in a netns is not visible in the root ns)"; fi
    ip netns exec $ns ipset destroy IPVSC-NETNS-PROBE
  } > "$T/VERSIONS-host.txt"
  ip netns exec $ns ip link set lo up
  local f; f=$( { ipsets_v4; ipsets_v6; } | tmpf)
  caperr ipset host-restore-ok "$f" - ip netns exec $ns ipset restore -exist
  cap ipset host-save ip netns exec $ns ipset save
  docker_v4 | ip netns exec $ns iptables-nft-restore -w --noflush
  f=$(payload_v4 | tmpf)
  caperr iptables-nft host-restore-payload "$f" - ip netns exec $ns iptables-nft-restore -w --noflush
  # this kernel has no xt_ipvs: load the payload without the OUT-FILTER -m ipvs rule
  f=$(payload_v4 | grep -v -- '-m ipvs' | tmpf)
  caperr iptables-nft host-restore-payload-without-ipvs-match "$f" - ip netns exec $ns iptables-nft-restore -w --noflush
  cap iptables-nft host-save ip netns exec $ns iptables-nft-save
  docker_v6 | ip netns exec $ns ip6tables-nft-restore -w --noflush
  f=$(payload_v6 | grep -v -- '-m ipvs' | tmpf)
  caperr ip6tables-nft host-restore-payload-without-ipvs-match "$f" - ip netns exec $ns ip6tables-nft-restore -w --noflush
  cap ip6tables-nft host-save ip netns exec $ns ip6tables-nft-save
  ip netns del $ns
}

# ------------------------------------------------------------------------------------- driver
case ${1:-} in
  --vm) vm_main ;;
  --host) host_main "$2" ;;
  *)
    [ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
    work=$(mktemp -d "${TMPDIR:-/tmp}/ipvsc-capture.XXXXXX")
    VM_RESULTS_DIR=$work/vm VM_TIMEOUT=${VM_TIMEOUT:-400} bash "$here/run.sh" "$here/capture-fixtures.sh" --vm || {
      echo "capture: the VM part failed (see $work/vm/.vm/console.log)" >&2; exit 1; }
    host_main "$work/vm/out"
    dest=$repo/test/fixtures
    mkdir -p "$dest"
    # replace only what this script produces (per-tool folders and top-level files): other
    # people keep their own fixtures under tool-output/ (e.g. tool-output/iptables/), and the
    # hand-written NORMALISATION.md is never in the capture, so it is kept
    for kind in tool-output tool-errors; do
      mkdir -p "$dest/$kind"
      for item in "$work/vm/out/$kind"/*; do
        rm -rf "$dest/$kind/$(basename "$item")"
        cp -r "$item" "$dest/$kind/"
      done
    done
    sort -o "$dest/tool-output/CASES.txt" "$dest/tool-output/CASES.txt"
    sort -o "$dest/tool-errors/CASES.txt" "$dest/tool-errors/CASES.txt"
    echo "capture: fixtures written to $dest (work dir $work)"
    ;;
esac
