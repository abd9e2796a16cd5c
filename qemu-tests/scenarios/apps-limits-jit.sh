# SPDX-License-Identifier: GPL-2.0
# The apps-limits scenario, with every app on the JIT.
# vm: --timeout 900
# vm: --add "$here/scenarios/apps-limits.sh"
CERVUS_ENGINE=jit HEAP_RUNS=60 exec sh ./apps-limits.sh
