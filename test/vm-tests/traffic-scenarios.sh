#!/usr/bin/env bash
# Runs inside the IPVS VM: real traffic from client network namespaces to backend namespaces
# through what `ipvsc apply` programmed. TAP-like output, read by traffic.test.ts.
set -u
source test/vm-tests/lib.sh
W=/tmp/traffic; mkdir -p $W

# --- topology -----------------------------------------------------------------------------------
backend() { # backend N: netns beN, 10.180.N.1/24 behind vbeN (10.180.N.254), HTTP on 8080 answering "beN"
  local i=$1
  ip netns add be$i
  ip link add vbe$i type veth peer name eth0 netns be$i
  ip addr add 10.180.$i.254/24 dev vbe$i && ip link set vbe$i up
  ip -n be$i addr add 10.180.$i.1/24 dev eth0 && ip -n be$i link set eth0 up && ip -n be$i link set lo up
  ip -n be$i route add default via 10.180.$i.254
  ip netns exec be$i python3 -c "
import http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b=b'be$i\n'; self.send_response(200); self.send_header('Content-Length',str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self,*a): pass
socketserver.ThreadingTCPServer.allow_reuse_address=True
socketserver.ThreadingTCPServer(('0.0.0.0',8080),H).serve_forever()" >/dev/null 2>&1 &
  echo $! > $W/be$i.pid
}
client() { # client NAME HOSTIP NODEIP
  ip netns add $1
  ip link add v$1 type veth peer name eth0 netns $1
  ip addr add $3/24 dev v$1 && ip link set v$1 up
  ip -n $1 addr add $2/24 dev eth0 && ip -n $1 link set eth0 up && ip -n $1 link set lo up
  ip -n $1 route add default via $3
}
for i in 1 2 3 4 5 6; do backend $i; done
client cl 192.168.0.100 192.168.0.10
client cl2 192.168.1.100 192.168.1.10
sleep 3  # python servers start slowly under TCG

# --- inputs -------------------------------------------------------------------------------------
svc() { # name clusterIP type extra-spec-lines
  cat <<Y
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: demo}
spec:
  type: $3
  clusterIP: $2
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP$4}]
$5
Y
}
slice() { # service backends...
  local s=$1; shift
  echo "---"
  echo "apiVersion: discovery.k8s.io/v1"
  echo "kind: EndpointSlice"
  echo "metadata: {name: $s-x, namespace: demo, labels: {kubernetes.io/service-name: $s}}"
  echo "addressType: IPv4"
  echo "ports: [{name: http, port: 8080, protocol: TCP}]"
  echo "endpoints:"
  local b node
  for b in "$@"; do
    node=node-b; [ "$b" = 1 ] && node=node-a
    echo "- {addresses: [10.180.$b.1], nodeName: $node, conditions: {ready: true}}"
  done
}
cluster() { # dir backends...
  mkdir -p $1
  { svc web 10.96.100.10 NodePort ", nodePort: 30080" "  externalIPs: [198.51.100.10]"
    svc sticky 10.96.100.11 ClusterIP "" "  sessionAffinity: ClientIP"
    svc lb 10.96.100.12 LoadBalancer ", nodePort: 30081" "  loadBalancerSourceRanges: [192.168.0.100/32]
status: {loadBalancer: {ingress: [{ip: 203.0.113.10}]}}"
    svc local 10.96.100.13 NodePort ", nodePort: 30082" "  externalTrafficPolicy: Local"
  } > $1/services.yaml
  local backends="${*:2}"
  { slice web $backends; slice sticky $backends; slice lb $backends; slice local $backends; } > $1/slices.yaml
}
cluster $W/c0 1 2 3
FLAGS="--hostname-override=node-a"
get() { curl -s -m 3 "$@" 2>/dev/null; }

# --- 1. ClusterIP round robin over three backends -------------------------------------------------
if $IPVSC apply -f $W/c0 $FLAGS > $W/apply0.out 2>&1; then pass "apply the traffic cluster"; else fail "apply the traffic cluster" "$(tail -20 $W/apply0.out)"; fi
seen=$(for i in 1 2 3 4 5 6; do get http://10.96.100.10/; done | sort | uniq -c | awk '{print $2":"$1}' | tr '\n' ' ')
[ "$seen" = "be1:2 be2:2 be3:2 " ] && pass "ClusterIP: 6 requests reach be1, be2, be3 twice each (round robin)" || fail "ClusterIP round robin" "got: $seen"

# --- 2. NodePort, externalIP, LoadBalancer IP from a client namespace ------------------------------
ip -n cl route add 198.51.100.0/24 via 192.168.0.10 2>/dev/null; ip -n cl route add 203.0.113.0/24 via 192.168.0.10 2>/dev/null
r=$(ip netns exec cl curl -s -m 3 http://192.168.0.10:30080/); [[ "$r" =~ ^be[123]$ ]] && pass "NodePort through the node IP answers ($r)" || fail "NodePort answers" "got '$r'"
r=$(ip netns exec cl curl -s -m 3 http://198.51.100.10/); [[ "$r" =~ ^be[123]$ ]] && pass "externalIP answers ($r)" || fail "externalIP answers" "got '$r'"
r=$(ip netns exec cl curl -s -m 3 http://203.0.113.10/); [[ "$r" =~ ^be[123]$ ]] && pass "LoadBalancer ingress IP answers an allowed source ($r)" || fail "LB answers allowed source" "got '$r'"

# --- 3. Session affinity ---------------------------------------------------------------------------
s=$(for i in 1 2 3 4 5 6; do get http://10.96.100.11/; done | sort -u | wc -l)
[ "$s" = 1 ] && pass "sessionAffinity ClientIP: one client keeps one backend over 6 requests" || fail "session affinity" "$s distinct backends"

# --- 4. loadBalancerSourceRanges -------------------------------------------------------------------
ip -n cl2 route add 203.0.113.0/24 via 192.168.1.10 2>/dev/null
r=$(ip netns exec cl2 curl -s -m 3 http://203.0.113.10/); [ -z "$r" ] && pass "LoadBalancer drops a source outside loadBalancerSourceRanges" || fail "source range drop" "got '$r'"

# --- 5. externalTrafficPolicy: Local ---------------------------------------------------------------
s=$(for i in 1 2 3 4 5 6; do ip netns exec cl curl -s -m 3 http://192.168.0.10:30082/; done | sort -u | tr '\n' ' ')
[ "$s" = "be1 " ] && pass "externalTrafficPolicy Local: only the local backend answers on the NodePort" || fail "ETP Local" "got: $s"

# --- 6. Rolling update under continuous load -------------------------------------------------------
cluster $W/c1 2 3 4; cluster $W/c2 3 4 5; cluster $W/c3 4 5 6
( ok=0; bad=0; end=$((SECONDS+400))
  while [ ! -e $W/stop ] && [ $SECONDS -lt $end ]; do
    if r=$(curl -s -m 3 http://10.96.100.10/) && [[ "$r" =~ ^be[0-9]$ ]]; then ok=$((ok+1)); else bad=$((bad+1)); fi
  done; echo "$ok $bad" > $W/load.result ) &
LOAD=$!
sleep 2
steps_ok=1
for step in 1 2 3; do
  old=$step
  $IPVSC apply -f $W/c$step $FLAGS > $W/apply$step.out 2>&1 || { steps_ok=0; tail -20 $W/apply$step.out; }
  sleep 2
  kill "$(cat $W/be$old.pid)" 2>/dev/null   # the old pod terminates after it left the endpoints
  sleep 1
done
touch $W/stop; wait $LOAD
read okc badc < $W/load.result
[ $steps_ok = 1 ] && pass "rolling update: three applies, one backend replaced per step" || fail "rolling update applies"
[ "$badc" = 0 ] && [ "$okc" -gt 20 ] && pass "rolling update under load: $okc requests, 0 failed" || fail "zero failed requests during the rolling update" "$okc ok, $badc failed"
s=$(for i in 1 2 3 4 5 6; do get http://10.96.100.10/; done | sort -u | tr '\n' ' ')
[ "$s" = "be4 be5 be6 " ] && pass "after the update only the new backends answer" || fail "new backends" "got: $s"
echo "1..$n"
