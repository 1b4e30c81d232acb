//! A query string as a client sends it: every OData option parsed, `$filter`, `$orderby`,
//! `$expand` and `$select` on their own too. Parsing must be total: a value or an error.
#![no_main]

use gatehouse_domain::odata::{parse_expand, parse_filter, parse_orderby, parse_select, QueryOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = QueryOptions::parse(text);
    let _ = parse_filter(text);
    let _ = parse_orderby(text);
    let _ = parse_expand(text);
    let _ = parse_select(text);
});
