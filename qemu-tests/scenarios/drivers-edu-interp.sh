# SPDX-License-Identifier: GPL-2.0
# The drivers-edu scenario, with the drivers on the interpreter (the JIT is the
# drivers' default engine).
# vm: --qemu -device --qemu edu
# vm: --add "$here/scenarios/drivers-edu.sh"
CERVUS_ENGINE=interp exec sh ./drivers-edu.sh
