# SPDX-License-Identifier: GPL-2.0
# The drivers-faults scenario, with the drivers on the interpreter (the JIT is the
# drivers' default engine).
# vm: --qemu -device --qemu edu --module-args test_hooks=1 --timeout 600
# vm: --add "$here/scenarios/drivers-faults.sh"
CERVUS_ENGINE=interp exec sh ./drivers-faults.sh
