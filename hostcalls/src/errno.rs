// SPDX-License-Identifier: MIT OR Apache-2.0

//! Fixed numeric error codes returned by hostcalls.
//!
//! The first four are CommonWA's and keep its numbers. A hostcall that can
//! fail returns a negative `i32`; zero or a positive value means success.

/// A hostcall error. The discriminant is the value seen by the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Errno {
    /// Unknown failure (CommonWA `Unknown`).
    Unknown = -1,
    /// An argument is malformed (CommonWA `InvalidArgument`).
    InvalidArgument = -2,
    /// The instance lacks the capability (CommonWA `PermissionDenied`).
    PermissionDenied = -3,
    /// No such object (CommonWA `NotFound`).
    NotFound = -4,
    /// A guest pointer/length claim lies outside the guest's linear memory.
    BadPointer = -5,
    /// A handle is not valid for this instance (wrong kind, stale or forged).
    BadHandle = -6,
    /// An offset or length is outside the object it addresses.
    OutOfBounds = -7,
    /// An access is not aligned to its width.
    Misaligned = -8,
    /// A per-instance quota would be exceeded.
    QuotaExceeded = -9,
    /// The operation would block and the caller asked not to.
    WouldBlock = -10,
    /// The kernel could not allocate memory.
    NoMemory = -11,
    /// The operation is not supported.
    Unsupported = -12,
    /// A signal interrupted the operation.
    Interrupted = -13,
    /// An I/O error from the kernel.
    Io = -14,
}

impl Errno {
    /// Every code, in numeric order from -1.
    pub const ALL: [Errno; 14] = [
        Errno::Unknown,
        Errno::InvalidArgument,
        Errno::PermissionDenied,
        Errno::NotFound,
        Errno::BadPointer,
        Errno::BadHandle,
        Errno::OutOfBounds,
        Errno::Misaligned,
        Errno::QuotaExceeded,
        Errno::WouldBlock,
        Errno::NoMemory,
        Errno::Unsupported,
        Errno::Interrupted,
        Errno::Io,
    ];

    /// The value a hostcall returns for this error.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The error with value `code`, if there is one.
    pub fn from_code(code: i32) -> Option<Errno> {
        Self::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// A short lower-case description.
    pub const fn describe(self) -> &'static str {
        match self {
            Errno::Unknown => "unknown error",
            Errno::InvalidArgument => "invalid argument",
            Errno::PermissionDenied => "permission denied",
            Errno::NotFound => "not found",
            Errno::BadPointer => "pointer outside linear memory",
            Errno::BadHandle => "bad handle",
            Errno::OutOfBounds => "out of bounds",
            Errno::Misaligned => "misaligned access",
            Errno::QuotaExceeded => "quota exceeded",
            Errno::WouldBlock => "operation would block",
            Errno::NoMemory => "out of memory",
            Errno::Unsupported => "not supported",
            Errno::Interrupted => "interrupted",
            Errno::Io => "I/O error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_round_trip() {
        for (i, e) in Errno::ALL.iter().enumerate() {
            assert_eq!(e.code(), -(i as i32) - 1);
            assert_eq!(Errno::from_code(e.code()), Some(*e));
        }
        assert_eq!(Errno::from_code(0), None);
        assert_eq!(Errno::from_code(-15), None);
    }
}
