//! The C ABI (`mw_*`). Not implemented yet: see the C ABI issue.
