//! mailwarden: an embeddable mail-content filter.
//!
//! One crate does, in-process and in one pass, the content work a classic mail gateway spreads
//! over amavisd-new, MIMEDefang, ClamAV, SpamAssassin and Anomy Sanitizer: MIME normalization
//! that survives hostile messages, archive unpacking under amavisd-new's limits, signature
//! scanning, rule scoring and policy.
//!
//! # Overview
//!
//! - [`Engine`] is built once ([`EngineBuilder`], or a TOML [`Config`] file), is immutable,
//!   `Send + Sync` and cheap to clone. Compiling signatures and rules happens there.
//! - [`Engine::scan`] takes a message and an [`Envelope`] and returns a [`Report`]: the
//!   [`Finding`]s, the score, the [`Verdict`] (action and SMTP reply) and the header edits.
//! - [`Engine::scanner`] gives a [`Scanner`] that takes the message in chunks, as a milter
//!   receives it.
//! - [`Limits`] follow amavisd-new's names (`max_levels` is `$MAXLEVELS`, ...); work cut short
//!   by a limit is reported as [`Category::Unchecked`], never as clean.
//!
//! # Example
//!
//! ```
//! use mailwarden::{Action, Category, Engine, Envelope};
//!
//! let engine = Engine::with_defaults();
//! let eicar = concat!(r"X5O!P%@AP[4\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
//! let message = format!(
//!     "From: a@example.org\r\nTo: b@example.net\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
//!      Subject: test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n{eicar}\r\n"
//! );
//! let envelope = Envelope::new().sender("a@example.org").recipient("b@example.net");
//! let report = engine.scan(message.as_bytes(), &envelope);
//! assert_eq!(report.category, Category::Virus);
//! assert_eq!(report.action(), Action::Reject);
//! assert_eq!(
//!     report.verdict.reply.to_string(),
//!     "554 5.7.1 Message contains Eicar-Test-Signature virus, rejected"
//! );
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod archive;
pub mod bayes;
pub mod config;
mod engine;
mod envelope;
mod error;
pub mod ffi;
pub mod filetype;
pub mod mime;
pub mod object;
pub mod policy;
pub mod report;
pub mod rules;
pub mod signatures;
pub mod view;

/// With the `mimalloc` feature, the library's own artifacts (libmailwarden.so and .a for C and
/// Perl hosts) allocate through mimalloc: rule scoring makes many short-lived allocations and
/// touches the tables of some 1,500 automata per message, and glibc's malloc makes it about
/// 15% slower (`benches/compare/rules.md`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use archive::{Budget, Limits};
pub use config::Config;
pub use engine::{Engine, EngineBuilder, Scanner};
pub use envelope::Envelope;
pub use error::{Error, ErrorKind, Result};
pub use filetype::FileType;
pub use object::{Object, ObjectInfo, Origin};
pub use policy::{Destinies, Destiny, Policy};
pub use report::{
    Action, AnomalyKind, BadHeaderKind, Category, Finding, HeaderEdit, HeaderOp, Report, SmtpReply,
    UncheckedReason, Verdict,
};

#[cfg(test)]
mod testoibits {
    use super::*;
    use std::panic::{RefUnwindSafe, UnwindSafe};

    fn assert_all<T: Send + Sync + UnwindSafe + RefUnwindSafe>() {}
    fn assert_clone<T: Clone>() {}

    #[test]
    fn public_types_are_thread_safe() {
        assert_all::<Engine>();
        assert_all::<EngineBuilder>();
        assert_all::<Report>();
        assert_all::<Finding>();
        assert_all::<Envelope>();
        assert_all::<Limits>();
        assert_all::<Config>();
        assert_all::<Scanner>();
        assert_clone::<Engine>();
    }
}
