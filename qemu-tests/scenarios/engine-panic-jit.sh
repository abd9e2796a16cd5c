# SPDX-License-Identifier: GPL-2.0
# The engine-panic scenario, with every app on the JIT (drivers are on it by default).
# vm: --module-args test_hooks=1
# vm: --add "$here/scenarios/engine-panic.sh"
CERVUS_ENGINE=jit exec sh ./engine-panic.sh
