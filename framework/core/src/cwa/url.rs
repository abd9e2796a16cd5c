// SPDX-License-Identifier: GPL-2.0

//! Resource URLs: `scheme://path?key=value&key=value`.

/// A parsed resource URL. Nothing is decoded: paths are taken verbatim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// The part before `://`.
    pub scheme: &'a str,
    /// The part after `://`, up to `?`.
    pub path: &'a str,
    /// The part after `?` (empty if none).
    pub query: &'a str,
}

impl<'a> Url<'a> {
    /// Parses `text`; `None` unless it has a non-empty scheme and `://`.
    pub fn parse(text: &'a str) -> Option<Self> {
        let (scheme, rest) = text.split_once("://")?;
        if scheme.is_empty()
            || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'+' || b == b'.')
        {
            return None;
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Some(Url { scheme, path, query })
    }

    /// The value of query parameter `key` (`Some("")` for a bare `key`).
    pub fn param(&self, key: &str) -> Option<&'a str> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then_some(v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(Url::parse("null://"), Some(Url { scheme: "null", path: "", query: "" }));
        let u = Url::parse("log://?prefix=app&x").unwrap();
        assert_eq!((u.scheme, u.path), ("log", ""));
        assert_eq!(u.param("prefix"), Some("app"));
        assert_eq!(u.param("x"), Some(""));
        assert_eq!(u.param("y"), None);
        let u = Url::parse("file:///etc/hostname?mode=w").unwrap();
        assert_eq!((u.scheme, u.path, u.param("mode")), ("file", "/etc/hostname", Some("w")));
        let u = Url::parse("ipc-broadcast://news").unwrap();
        assert_eq!((u.scheme, u.path), ("ipc-broadcast", "news"));
    }

    #[test]
    fn malformed_urls_are_refused() {
        for bad in ["", "null", "null:", "null:/", "://x", "fi le://x", "file:/x"] {
            assert_eq!(Url::parse(bad), None, "{bad:?}");
        }
    }
}
