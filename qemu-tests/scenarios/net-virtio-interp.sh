# SPDX-License-Identifier: GPL-2.0
# The net-virtio scenario, with the drivers on the interpreter (the JIT is the
# drivers' default engine).
# vm: --monitor --timeout 900
# vm: --qemu -netdev --qemu hubport,id=hp0,hubid=1 --qemu -netdev --qemu hubport,id=hp1,hubid=1
# vm: --qemu -device --qemu virtio-net-pci,id=wasmnic,netdev=hp0,disable-legacy=on,addr=04,mac=52:54:00:00:00:10,romfile=
# vm: --qemu -device --qemu virtio-net-pci,id=peernic,netdev=hp1,disable-legacy=on,addr=05,mac=52:54:00:00:00:11,romfile=
# vm: --add "$here/scenarios/net-virtio.sh"
CERVUS_ENGINE=interp exec sh ./net-virtio.sh
