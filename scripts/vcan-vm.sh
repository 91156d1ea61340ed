#!/usr/bin/env bash
# Run a command with a real SocketCAN vcan interface available.
#
#   bash scripts/vcan-vm.sh [--iface vcan0] [--timeout SECONDS] [--vm] -- <command...>
#
# Where the running kernel supports vcan (Raspberry Pi, most laptops), the interface is
# created natively and the command runs here. Where it does not (this project's CI and dev
# machines are built without CAN), a throwaway qemu VM is booted with a Debian kernel that
# has CAN. The guest sees this machine's root file system read-only over 9p, chroots into it,
# creates the interface and runs the same command with the same binaries, node and
# node_modules. The exit status of the command is this script's exit status.
#
# Options: --iface NAME (default vcan0), --timeout SECONDS for the whole run (default 3600),
# --vm to use the VM even where the kernel has vcan (to check the VM path itself).
#
# Exit status: the command's; 97 when the VM did not report one (boot failure, timeout) or
# could not create the interface; 2 for a usage error.
#
# Environment:
#   VCAN_VM_CACHE     cache for the kernel package, kernel, initramfs and per-run files, about
#                     140 MB (default: <repo>/.vcan-vm); delete its linux-image-*.deb to move
#                     to the Debian kernel current at that time
#   VCAN_VM_RESULTS   host folder the command may write reports to; inside the VM it is mounted
#                     read-write at the same path, and the command gets VCAN_VM_RESULTS set to it
#                     in both modes (default: $VCAN_VM_CACHE/results)
#   VCAN_VM_PASS_ENV  space-separated names of extra variables to hand to the command in the VM
#                     (PATH, HOME, CI and TERM always are; natively it inherits everything)
#
# Limits inside the VM: everything except /tmp, /run, /dev/shm and $VCAN_VM_RESULTS is
# read-only; /tmp and /run are empty tmpfs, so the working directory and the files the
# command reads must not be under the host's /tmp or /run; there is no network; stdin is
# /dev/null; stdout and stderr both arrive on stdout.
# Code runs 20-40 times slower than natively (qemu TCG: KVM guests hang on these machines).

set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$(realpath -m "${VCAN_VM_CACHE:-$REPO_DIR/.vcan-vm}")  # qemu gets absolute paths
readonly REPO_DIR CACHE
readonly STATUS_NO_REPORT=97

# Host packages: qemu and the tools that prepare kernel and initramfs, plus iproute2 and
# can-utils because the guest runs the host's own ip, candump and cansend.
readonly HOST_PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils iproute2 can-utils)

# Modules the guest needs (dependencies are added from modules.dep): the virtio PCI transport
# and 9p to reach the host's files, can + can-raw for AF_CAN sockets, vcan for the interface.
readonly GUEST_MODULES=(virtio_pci 9pnet_virtio 9p can-raw vcan)

iface=vcan0
timeout_s=3600
force_vm=false

log() { printf 'vcan-vm: %s\n' "$*" >&2; }
die() { log "$1"; exit "${2:-1}"; }

usage() {
    sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

parse_args() {
    while (($#)); do
        case $1 in
            --iface) iface=${2:?--iface needs a name}; shift 2 ;;
            --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
            --vm) force_vm=true; shift ;;
            --) shift; break ;;
            -h|--help) usage ;;
            *) log "unknown option: $1"; usage ;;
        esac
    done
    (($#)) || usage
    [[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout wants a positive number of seconds" 2
    [[ $iface =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "bad interface name: $iface" 2
    command_argv=("$@")
}

# Quote one word for POSIX sh (the guest job file is run by /bin/sh, which is dash on Debian,
# so bash's printf %q quoting such as $'\n' would not survive).
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# ---------------------------------------------------------------------------------------------
# Native path
# ---------------------------------------------------------------------------------------------

# Succeeds when $iface exists as a vcan device, or can be created here (the kernel autoloads
# vcan on "ip link add ... type vcan"; modprobe is the fallback for kernels that do not).
# Sets created_iface so that run_native removes only what it added.
native_vcan_available() {
    created_iface=false
    local details
    details=$(ip -details link show dev "$iface" 2>/dev/null) || details=
    if [[ $details =~ [[:space:]]vcan[[:space:]] ]]; then
        return 0
    fi
    if ip link add dev "$iface" type vcan 2>/dev/null \
        || { modprobe vcan 2>/dev/null && ip link add dev "$iface" type vcan 2>/dev/null; }; then
        created_iface=true
        return 0
    fi
    return 1
}

run_native() {
    if $created_iface; then
        trap 'ip link del dev "$iface" 2>/dev/null || true' EXIT
    fi
    # Bringing an existing interface up needs CAP_NET_ADMIN; not needed if it is up already.
    if ! [[ $(ip link show dev "$iface") =~ [\<,]UP[,\>] ]]; then
        ip link set dev "$iface" up
    fi
    log "kernel supports vcan: running natively on $iface"
    local rc=0
    VCAN_VM_RESULTS=$results timeout --foreground -k 10 "$timeout_s" "${command_argv[@]}" || rc=$?
    exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# VM path: preparation (cached)
# ---------------------------------------------------------------------------------------------

package_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

ensure_host_packages() {
    local missing=() pkg
    for pkg in "${HOST_PACKAGES[@]}"; do
        package_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    ((EUID == 0)) || die "missing Debian packages (run as root, or install them): ${missing[*]}"
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# Picks the kernel: the newest package already in the cache (so later runs need neither apt
# lists nor the network), else the one linux-image-amd64 currently depends on.
resolve_kernel_version() {
    local deb cached=()
    for deb in "$CACHE"/linux-image-*.deb; do
        [[ -f $deb ]] && cached+=("$(basename "$deb" .deb)")
    done
    if ((${#cached[@]})); then
        kver=$(printf '%s\n' "${cached[@]}" | sort -V | tail -n 1)
        kver=${kver#linux-image-}
        return
    fi
    local pkg
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
    if [[ -z $pkg ]]; then
        # apt lists absent (e.g. freshly cleaned container image): refresh them once.
        apt-get update -qq
        pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
    fi
    [[ -n $pkg ]] || die "cannot find the Debian kernel package behind linux-image-amd64"
    kver=${pkg#linux-image-}
}

# Keeps the kernel package (about 70 MB) rather than its unpacked tree (about 400 MB): the
# tree is only needed while building the initramfs, which is rare.
ensure_kernel_package() {
    kdeb=$CACHE/linux-image-$kver.deb
    [[ -f $kdeb ]] && return 0
    log "fetching Debian kernel linux-image-$kver"
    local dl
    dl=$(mktemp -d "$CACHE/download.XXXXXX")
    # The _apt sandbox user may not be able to write into the cache; download as the caller.
    (cd "$dl" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "linux-image-$kver" >/dev/null)
    mv "$dl"/linux-image-"$kver"_*.deb "$kdeb"  # only a complete download gets the final name
    rm -rf "$dl"
}

# Prints the .ko paths (relative to the modules dir) of GUEST_MODULES and their dependencies,
# in load order. depmod lists a module's dependencies so that loading them last-to-first works.
module_load_order() {
    local moddir=$1 name line
    local -A seen=()
    local -a deps order=()
    for name in "${GUEST_MODULES[@]}"; do
        line=$(awk -v n="$name.ko:" '{ k = $1; sub(/.*\//, "", k); if (k == n) { print; exit } }' \
            "$moddir/modules.dep")
        [[ -n $line ]] || die "module $name not found in $moddir/modules.dep"
        read -r -a deps <<<"${line#*:}"
        local i path paths=()
        for ((i = ${#deps[@]} - 1; i >= 0; i--)); do paths+=("${deps[i]}"); done
        paths+=("${line%%:*}")
        for path in "${paths[@]}"; do
            [[ -n ${seen[$path]:-} ]] && continue
            seen[$path]=1
            order+=("$path")
        done
    done
    printf '%s\n' "${order[@]}"
}

# The guest's PID 1. It loads the modules, mounts the host root read-only (cache=loose: node
# start-up over 9p takes 14-22 s without it, 3-6 s with it), gives the chroot writable /tmp,
# /run and /dev/shm, mounts the per-run control export at /run/vcan-vm and the results export
# at the path named in it, runs the job in the chroot with an empty environment, stores the
# exit status in the control export and powers off. A failure before the job powers off
# without a status, which the host reports as "did not report a status".
write_init() {
    cat >"$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
fail() { echo "vcan-vm guest: $*" >/dev/console; sync; poweroff -f; }

while read -r ko; do
    insmod "/lib/modules/$ko" || fail "insmod $ko failed"
done </modules.order

p9='trans=virtio,version=9p2000.L,msize=512000'
mount -t 9p -o "$p9,ro,cache=loose" host /host || fail "cannot mount the host root"
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts -o ptmxmode=666 devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount -t tmpfs -o mode=755 tmpfs /host/run
mkdir /host/run/vcan-vm
# No cache on the writable exports: writes must reach the host before "poweroff -f".
mount -t 9p -o "$p9" ctl /host/run/vcan-vm || fail "cannot mount the control export"
IFS= read -r results </host/run/vcan-vm/results-dir
mkdir -p "/host$results"  # exists already unless it lies under /tmp or /run
mount -t 9p -o "$p9" results "/host$results" || fail "cannot mount the results export"

# Raw newlines on the console: the host terminal adds its own carriage returns.
stty -onlcr </dev/console 2>/dev/null
run_job() {
    chroot /host /usr/bin/env -i /bin/sh /run/vcan-vm/job.sh </dev/null 2>&1
    echo "$?" >/host/run/vcan-vm/status
}
# The console is a terminal; give the command one only if the host's stdout is one, so that
# colours, spinners and stdio buffering behave as they would natively.
if [ -e /host/run/vcan-vm/stdout-is-tty ]; then
    run_job >/dev/console
else
    run_job | cat >/dev/console
fi
sync
# Keep the kernel's "reboot: Power down" line out of the command's output.
echo 0 >/proc/sys/kernel/printk
poweroff -f
EOF
    chmod 755 "$1"
}

# Prepares the kernel to boot as $kernel_image. Booting the uncompressed ELF vmlinux through
# qemu's PVH entry skips the bzImage's XZ self-decompression, which under TCG is the slowest
# part of the boot (measured: start-to-command 17-18 s instead of 28-29 s on a busy 2-core
# host). Falls back to the bzImage if the kernel lacks PVH or is not XZ-compressed.
install_kernel_image() {
    local tree=$1 bz=$1/boot/vmlinuz-$kver off
    # xz stops after the compressed kernel; a pipe from tail would then die of SIGPIPE,
    # which pipefail reports, hence the process substitution below.
    off=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$bz" | awk -F: 'NR == 1 { print $1 }') || off=
    if grep -q '^CONFIG_PVH=y' "$tree/boot/config-$kver" && [[ -n $off ]] \
        && xz -dc --single-stream <(tail -c "+$((off + 1))" "$bz") >"$tree/vmlinux" 2>/dev/null \
        && [[ $(head -c 4 "$tree/vmlinux") == $'\x7fELF' ]]; then
        kernel_image=$CACHE/vmlinux-$kver
        mv "$tree/vmlinux" "$kernel_image"
    else
        kernel_image=$CACHE/vmlinuz-$kver
        mv "$bz" "$kernel_image"
    fi
}

# Unpacks the kernel package and builds the initramfs (busybox, the modules, /init) unless a
# kernel image and an initramfs newer than this script exist, so that editing the guest side
# here takes effect on the next run.
ensure_boot_files() {
    initrd=$CACHE/initramfs-$kver.cpio
    kernel_image=$CACHE/vmlinux-$kver
    [[ -f $kernel_image ]] || kernel_image=$CACHE/vmlinuz-$kver
    [[ -f $kernel_image && $initrd -nt ${BASH_SOURCE[0]} ]] && return 0
    log "building initramfs for $kver"
    local stage tree moddir ko
    stage=$(mktemp -d "$CACHE/initramfs.XXXXXX")
    tree=$stage.tree
    dpkg-deb -x "$kdeb" "$tree"
    depmod -b "$tree" "$kver"
    moddir=$tree/lib/modules/$kver
    mkdir -p "$stage"/{bin,dev,proc,host,lib/modules}
    cp /bin/busybox "$stage/bin/busybox"
    module_load_order "$moddir" | while read -r ko; do
        cp "$moddir/$ko" "$stage/lib/modules/"
        basename "$ko"
    done >"$stage/modules.order"
    write_init "$stage/init"
    (cd "$stage" && find . | cpio -o -H newc --quiet) >"$stage.cpio"
    rm -f "$CACHE/vmlinux-$kver" "$CACHE/vmlinuz-$kver"
    install_kernel_image "$tree"
    mv "$stage.cpio" "$initrd"
    rm -rf "$stage" "$tree"
}

# ---------------------------------------------------------------------------------------------
# VM path: one run
# ---------------------------------------------------------------------------------------------

# The job runs in the chroot as root with an empty environment: create the interface, enter
# the caller's directory and exec the command with the variables that matter.
write_job() {
    local job=$1 ip name extra
    ip=$(shquote "$(command -v ip)")
    local -a vars=(PATH HOME CI TERM)
    read -r -a extra <<<"${VCAN_VM_PASS_ENV:-}"
    vars+=("${extra[@]}")
    for name in "${vars[@]}"; do
        [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "VCAN_VM_PASS_ENV: bad name '$name'" 2
    done
    {
        # A failed set-up is the VM's failure, not the command's: same status as no report.
        echo "$ip link add dev $(shquote "$iface") type vcan || exit $STATUS_NO_REPORT"
        echo "$ip link set dev $(shquote "$iface") up || exit $STATUS_NO_REPORT"
        # Loopback: the scenarios' MQTT broker and the bridge's web page talk over 127.0.0.1.
        echo "$ip link set dev lo up || exit $STATUS_NO_REPORT"
        echo "cd $(shquote "$PWD") || exit $STATUS_NO_REPORT"
        for name in "${vars[@]}"; do
            if [[ -v $name ]]; then echo "export $name=$(shquote "${!name}")"; fi
        done
        # node_modules and the npm cache under $HOME are read-only in the guest.
        echo "export npm_config_cache=/tmp/npm-cache npm_config_update_notifier=false"
        echo "export VCAN_VM=1 VCAN_VM_RESULTS=$(shquote "$results")"
        printf 'exec'
        local word
        for word in "${command_argv[@]}"; do printf ' %s' "$(shquote "$word")"; done
        echo
    } >"$job"
}

run_vm() {
    case $PWD/ in
        /tmp/*|/run/*|/dev/shm/*) die "the working directory $PWD is hidden by a tmpfs in the VM" ;;
    esac
    mkdir -p "$CACHE"
    # Parallel runs (e.g. two test jobs) must not install or build at the same time.
    local lock
    exec {lock}>"$CACHE/.lock"
    flock "$lock"
    ensure_host_packages
    resolve_kernel_version
    ensure_kernel_package
    ensure_boot_files
    exec {lock}>&-

    # Per-run control folder: job in, status and console log out. Kept when the VM fails.
    run_dir=$(mktemp -d "$CACHE/run.XXXXXX")
    trap 'rm -rf "$run_dir"' EXIT
    printf '%s\n' "$results" >"$run_dir/results-dir"
    if [[ -t 1 ]]; then touch "$run_dir/stdout-is-tty"; fi
    write_job "$run_dir/job.sh"
    local console=$run_dir/console.log

    log "booting $kver under qemu (TCG) for $iface"
    local qemu_rc=0
    # qboot instead of SeaBIOS: it boots the kernel without printing a banner and terminal
    # escapes into the command's output. no_timer_check: on a busy host the emulated timer
    # can miss the kernel's IO-APIC check, which then prints an error (or, at worst, panics).
    # --foreground lets Ctrl-C reach qemu.
    timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
        -accel tcg -cpu max -m 2048 -smp 2 -nographic -no-reboot -nic none -bios qboot.rom \
        -kernel "$kernel_image" -initrd "$initrd" \
        -append "console=ttyS0 quiet panic=-1 no_timer_check" \
        -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
        -virtfs "local,path=$run_dir,mount_tag=ctl,security_model=none" \
        -virtfs "local,path=$results,mount_tag=results,security_model=none" \
        </dev/null 2>&1 | tee "$console" || qemu_rc=${PIPESTATUS[0]}

    local status
    if ! status=$(cat "$run_dir/status" 2>/dev/null) || [[ ! $status =~ ^[0-9]+$ ]]; then
        trap - EXIT
        if ((qemu_rc == 124)); then log "timed out after $timeout_s s"; fi
        die "vcan VM did not report a status: see $console" "$STATUS_NO_REPORT"
    fi
    exit "$status"
}

main() {
    parse_args "$@"
    # Same variable and same path in both modes, so a test runner need not care which ran.
    results=$(realpath -m "${VCAN_VM_RESULTS:-$CACHE/results}")
    mkdir -p "$results"
    if ! $force_vm && native_vcan_available; then
        run_native
    fi
    run_vm
}

main "$@"
