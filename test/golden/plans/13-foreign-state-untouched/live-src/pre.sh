# Docker's state, created before kube-proxy's (dockerd 24 on a default bridge), and a foreign set.
ipset create docker-allowlist hash:net family inet hashsize 1024 maxelem 65536
ipset add docker-allowlist 10.10.0.0/16
ipset add docker-allowlist 172.16.5.0/24
iptables -w -t nat -N DOCKER
iptables -w -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables -w -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
iptables -w -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
iptables -w -t nat -A DOCKER -i docker0 -j RETURN
iptables -w -t filter -N DOCKER
iptables -w -t filter -N DOCKER-USER
iptables -w -t filter -A FORWARD -j DOCKER-USER
iptables -w -t filter -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -w -t filter -A FORWARD -o docker0 -j DOCKER
iptables -w -t filter -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
iptables -w -t filter -A DOCKER-USER -m set ! --match-set docker-allowlist src -j DROP
iptables -w -t filter -A DOCKER-USER -j RETURN
