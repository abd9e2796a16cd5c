# SPDX-License-Identifier: GPL-2.0
# The apps-abi scenario, with every app on the JIT.
# vm: --add "$here/scenarios/apps-abi.sh"
CERVUS_ENGINE=jit exec sh ./apps-abi.sh
