# keepalived (a foreign VRRP/IPVS setup inside --ipvs-exclude-cidrs) bound its VIP on kube-ipvs0
ip addr add 192.168.100.10/32 dev kube-ipvs0
