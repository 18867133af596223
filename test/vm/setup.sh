#!/bin/bash
# test/vm/setup.sh — prepare everything test/vm/run.sh needs (idempotent, fast when done).
#
#  1. installs the Debian packages (only when root and only the missing ones);
#  2. downloads Debian's stock kernel package (the one linux-image-amd64 depends on),
#     extracts it into .cache/vm/kernel/ and runs depmod;
#  3. builds a busybox initramfs (.cache/vm/initramfs.cpio.gz) whose /init loads the
#     virtio + 9p modules, mounts the host root read-only over 9p and chroots into it.
#
# Env: VM_CACHE (default <repo>/.cache/vm), VM_KERNEL_PKG (override the kernel package name).
# Prints the kernel version on the last line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${VM_CACHE:-$repo/.cache/vm}
mkdir -p "$cache"

log() { echo "vm-setup: $*" >&2; }

# ---------------------------------------------------------------- 1. packages
pkgs=(qemu-system-x86 busybox-static kmod cpio ipvsadm ipset iptables iproute2 curl python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    log "missing packages: ${missing[*]} (run as root, or install them)"; exit 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ---------------------------------------------------------------- 2. kernel
kdir=$cache/kernel
if [ -f "$cache/kernel.version" ] && [ -f "$kdir/boot/vmlinuz-$(cat "$cache/kernel.version")" ]; then
  kver=$(cat "$cache/kernel.version")
else
  pkg=${VM_KERNEL_PKG:-}
  if [ -z "$pkg" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
    if [ -z "$pkg" ]; then
      [ "$(id -u)" = 0 ] && apt-get update -qq
      pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
    fi
  fi
  [ -n "$pkg" ] || { log "cannot resolve the kernel package of linux-image-amd64"; exit 1; }
  kver=${pkg#linux-image-}
  log "fetching $pkg"
  dl=$cache/dl; rm -rf "$dl"; mkdir -p "$dl"
  [ "$(id -u)" = 0 ] && chown _apt "$dl" 2>/dev/null || true
  (cd "$dl" && apt-get download -q "$pkg" >&2)
  rm -rf "$kdir"; mkdir -p "$kdir"
  dpkg-deb -x "$dl"/"$pkg"_*.deb "$kdir"
  rm -rf "$dl"
  # Debian ships uncompressed .ko in 6.1 but later kernels use .ko.xz: insmod in busybox cannot
  # read xz, so decompress everything once (modprobe -d then finds plain .ko files).
  if find "$kdir/lib/modules/$kver" -name '*.ko.xz' -print -quit | grep -q .; then
    log "decompressing .ko.xz modules"
    find "$kdir/lib/modules/$kver" -name '*.ko.xz' -exec xz -d -f {} +
  fi
  if find "$kdir/lib/modules/$kver" -name '*.ko.zst' -print -quit | grep -q .; then
    log "decompressing .ko.zst modules"
    find "$kdir/lib/modules/$kver" -name '*.ko.zst' -exec sh -c 'for f; do zstd -q -d --rm "$f"; done' _ {} +
  fi
  depmod -b "$kdir" "$kver"
  echo "$kver" > "$cache/kernel.version"
fi

# The bzImage spends ~5 s in SeaBIOS real-mode setup + self-decompression under TCG. The kernel
# is built with CONFIG_PVH, so QEMU can boot the uncompressed ELF vmlinux directly (PVH entry):
# first console output after ~0.8 s instead of ~5.7 s. Extract it once.
if [ ! -s "$cache/vmlinux-$kver" ] && grep -q '^CONFIG_PVH=y' "$kdir/boot/config-$kver" 2>/dev/null; then
  log "extracting the PVH vmlinux"
  python3 - "$kdir/boot/vmlinuz-$kver" "$cache/vmlinux-$kver" <<'PY' || rm -f "$cache/vmlinux-$kver"
import lzma, gzip, subprocess, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
def try_xz(b):
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(b)
def try_gz(b):
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(b)
def try_zst(b):
    return subprocess.run(['zstd', '-dcq'], input=b, capture_output=True).stdout
for magic, fn in ((b'\xfd7zXZ\x00', try_xz), (b'\x28\xb5\x2f\xfd', try_zst), (b'\x1f\x8b\x08\x00', try_gz)):
    off = data.find(magic)
    while off >= 0:
        try:
            out = fn(data[off:])
        except Exception:
            out = b''
        if out[:4] == b'\x7fELF':
            open(dst, 'wb').write(out)
            sys.exit(0)
        off = data.find(magic, off + 1)
sys.exit('no ELF payload found')
PY
fi

# ---------------------------------------------------------------- 3. initramfs
initrd=$cache/initramfs.cpio.gz
stamp=$cache/initramfs.stamp
want_stamp="$kver $(sha256sum "$here/setup.sh" | cut -c1-16)"
if [ -f "$initrd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want_stamp" ]; then
  echo "$kver"; exit 0
fi
log "building initramfs for $kver"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,mnt/host,mnt/modules,mnt/results,mods,tmp}
cp /bin/busybox "$root/bin/busybox"
for a in sh mount umount insmod mkdir cat echo sleep poweroff chroot mknod ls grep sed dmesg true stty; do
  ln -s busybox "$root/bin/$a"
done
moddir=$kdir/lib/modules/$kver
: > "$root/mods/order"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
  f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
  if [ -z "$f" ]; then
    # absent as a module: built in (modules.builtin) or not needed in this version
    grep -q "/$m.ko" "$moddir/modules.builtin" 2>/dev/null && log "  $m: built-in" || log "  $m: absent, skipped"
    continue
  fi
  case $f in
    *.xz) xz -dc "$f" > "$root/mods/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$root/mods/$m.ko" ;;
    *) cp "$f" "$root/mods/$m.ko" ;;
  esac
  echo "$m" >> "$root/mods/order"
done
cat > "$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the test VM (generated by test/vm/setup.sh)
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /mods/order); do insmod /mods/$m.ko 2>/dev/null; done
fail() { echo "VM-INIT-FAIL: $*"; poweroff -f; }
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $opts,ro,cache=loose hostroot /mnt/host || fail "mount hostroot"
mount -t 9p -o $opts,ro modules /mnt/modules || fail "mount modules"
mount -t 9p -o $opts results /mnt/results || fail "mount results"
H=/mnt/host
mount -t proc proc $H/proc
mount -t sysfs sys $H/sys
mount -t devtmpfs dev $H/dev 2>/dev/null
mkdir -p $H/dev/pts 2>/dev/null; mount -t devpts devpts $H/dev/pts 2>/dev/null
mount -t tmpfs tmpfs $H/tmp
mount -t tmpfs tmpfs $H/run
mount -t tmpfs tmpfs $H/var/tmp 2>/dev/null
mkdir -p $H/run/vm-modules $H/run/vm-results
mount --bind /mnt/modules $H/run/vm-modules
mount --bind /mnt/results $H/run/vm-results
# A repository under /tmp, /run or /var/tmp (a CI clone) is hidden by the tmpfs mounts above:
# it comes as its own 9p share, mounted back at the same path.
repo=$(sed -n 's/.*ipvsc_repo=\([^ ]*\).*/\1/p' /proc/cmdline)
case "$repo" in
  /tmp/*|/run/*|/var/tmp/*) mkdir -p $H$repo && mount -t 9p -o $opts,ro,cache=loose repo $H$repo || fail "mount repo" ;;
esac
# kernel module autoload (request_module) runs /sbin/modprobe in *this* root: forward it
echo /sbin/modprobe > /proc/sys/kernel/modprobe
stty -onlcr 2>/dev/null
echo "VM-BOOTED $(cat /proc/uptime)"
chroot $H /bin/bash /run/vm-results/.vm/inner.sh </dev/null
rc=$?
echo "VM-EXIT $rc"
echo $rc > /mnt/results/.vm/rc
umount /mnt/results 2>/dev/null
poweroff -f
EOF
chmod +x "$root/init"
cat > "$root/sbin/modprobe" <<'EOF'
#!/bin/sh
exec chroot /mnt/host /sbin/modprobe -d /run/vm-modules "$@"
EOF
chmod +x "$root/sbin/modprobe"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
mv "$initrd.tmp" "$initrd"
echo "$want_stamp" > "$stamp"
echo "$kver"
