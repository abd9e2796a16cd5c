# SPDX-License-Identifier: GPL-2.0
# The apps-cwa scenario, with every app on the JIT.
# vm: --add "$here/scenarios/apps-cwa.sh"
CERVUS_ENGINE=jit exec sh ./apps-cwa.sh
