# After the last sync, by hand: a rule deleted from KUBE-SERVICES, a jump deleted from INPUT and
# an entry added to KUBE-CLUSTER-IP (the hand-added real server is in live/ipvsadm.save).
iptables -w -t nat -D KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
iptables -w -t filter -D INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
ipset add KUBE-CLUSTER-IP 10.96.0.99,tcp:8080
