# SPDX-License-Identifier: GPL-2.0
# The apps-wasi scenario, with every app on the JIT.
# vm: --add "$here/scenarios/apps-wasi.sh"
CERVUS_ENGINE=jit exec sh ./apps-wasi.sh
