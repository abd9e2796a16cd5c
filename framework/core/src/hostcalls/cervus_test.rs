// SPDX-License-Identifier: GPL-2.0

//! Import module `cervus_test`: fault injection, linked only with `test_hooks`.

use crate::guest::Caller;

use super::Host;

impl Host {
    pub(crate) fn engine_panic(caller: &mut Caller<'_>) -> Result<(), wasmi::Error> {
        panic!("instance {} called cervus_test.engine_panic", caller.data().id);
    }
}
