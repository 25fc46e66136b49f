//! The C ABI (`mw_*`), declared in `include/mailwarden.h`.
//!
//! Conventions (those of rustls-ffi):
//!
//! - Every exported function runs its body inside a panic boundary: a panic becomes
//!   `MW_RESULT_PANIC` (or the documented fallback value), never an unwind into C.
//! - Pointer arguments are checked for NULL; a NULL where a value is required gives
//!   `MW_RESULT_NULL_PARAMETER`.
//! - Out-parameters (`*_out`) are written only when the function returns `MW_RESULT_OK`.
//! - `const T *` handles are immutable and may be shared between threads; `T *` handles are
//!   used by one thread at a time.
//! - Every `_free` function accepts NULL and then does nothing.
//! - Each function's documentation says who owns what it returns and how long it lives.
//!
//! This module is the only place in the crate where `unsafe` code is allowed.
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]

use crate::{Action, Category, Engine, ErrorKind, HeaderOp, Report};
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

/// Result codes. The values are part of the ABI: they never change and are never reused.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mw_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// Rust code panicked; the call had no effect on its outputs. A bug: please report it.
    Panic = 2,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 3,
    /// A client address is not an IPv4 or IPv6 address.
    InvalidAddress = 4,
    /// An index is past the end of the list it indexes.
    OutOfRange = 5,
    /// A caller-supplied buffer is too small.
    InsufficientSize = 6,
    /// A file or directory could not be read.
    Io = 7,
    /// The TOML configuration is malformed or has an unknown key.
    Config = 8,
    /// A limit or policy value is out of range.
    InvalidSetting = 9,
    /// A signature database could not be loaded.
    Signatures = 10,
    /// A rule file could not be loaded.
    Rules = 11,
    /// The Bayes token store could not be opened or written.
    Bayes = 12,
    /// An error of a kind this version of the ABI has no code for.
    Other = 13,
}

impl mw_result {
    fn name(self) -> &'static CStr {
        match self {
            mw_result::Ok => c"MW_RESULT_OK",
            mw_result::NullParameter => c"MW_RESULT_NULL_PARAMETER",
            mw_result::Panic => c"MW_RESULT_PANIC",
            mw_result::InvalidUtf8 => c"MW_RESULT_INVALID_UTF8",
            mw_result::InvalidAddress => c"MW_RESULT_INVALID_ADDRESS",
            mw_result::OutOfRange => c"MW_RESULT_OUT_OF_RANGE",
            mw_result::InsufficientSize => c"MW_RESULT_INSUFFICIENT_SIZE",
            mw_result::Io => c"MW_RESULT_IO",
            mw_result::Config => c"MW_RESULT_CONFIG",
            mw_result::InvalidSetting => c"MW_RESULT_INVALID_SETTING",
            mw_result::Signatures => c"MW_RESULT_SIGNATURES",
            mw_result::Rules => c"MW_RESULT_RULES",
            mw_result::Bayes => c"MW_RESULT_BAYES",
            mw_result::Other => c"MW_RESULT_OTHER",
        }
    }

    fn from_u32(value: u32) -> Option<mw_result> {
        const ALL: [mw_result; 14] = [
            mw_result::Ok,
            mw_result::NullParameter,
            mw_result::Panic,
            mw_result::InvalidUtf8,
            mw_result::InvalidAddress,
            mw_result::OutOfRange,
            mw_result::InsufficientSize,
            mw_result::Io,
            mw_result::Config,
            mw_result::InvalidSetting,
            mw_result::Signatures,
            mw_result::Rules,
            mw_result::Bayes,
            mw_result::Other,
        ];
        ALL.into_iter().find(|r| *r as u32 == value)
    }

    fn from_kind(kind: ErrorKind) -> mw_result {
        match kind {
            ErrorKind::Io => mw_result::Io,
            ErrorKind::Config => mw_result::Config,
            ErrorKind::InvalidSetting => mw_result::InvalidSetting,
            ErrorKind::Signatures => mw_result::Signatures,
            ErrorKind::Rules => mw_result::Rules,
            ErrorKind::Bayes => mw_result::Bayes,
        }
    }
}

/// What the MTA should do with the message. The values are part of the ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mw_action {
    /// Deliver unchanged (apart from the header edits).
    Accept = 0,
    /// Deliver with the header edits applied.
    Tag = 1,
    /// Hold in quarantine.
    Quarantine = 2,
    /// Accept and drop silently.
    Discard = 3,
    /// Reject in the SMTP conversation with the report's SMTP reply.
    Reject = 4,
    /// Temporary failure with the report's SMTP reply; the client retries.
    Tempfail = 5,
}

impl From<Action> for mw_action {
    fn from(a: Action) -> Self {
        match a {
            Action::Accept => mw_action::Accept,
            Action::Tag => mw_action::Tag,
            Action::Quarantine => mw_action::Quarantine,
            Action::Discard => mw_action::Discard,
            Action::Reject => mw_action::Reject,
            Action::Tempfail => mw_action::Tempfail,
        }
    }
}

/// A message category. The values are amavisd-new's CC_* codes and part of the ABI; a
/// higher value takes precedence.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mw_category {
    /// Nothing found (CC_CLEAN).
    Clean = 1,
    /// Larger than the message size limit (CC_OVERSIZED).
    Oversized = 3,
    /// Header anomalies (CC_BADH).
    BadHeader = 4,
    /// Score at or above tag2 but below the kill level (CC_SPAMMY).
    Spammy = 5,
    /// Score at or above the kill level (CC_SPAM).
    Spam = 6,
    /// Some content could not be checked (CC_UNCHECKED).
    Unchecked = 7,
    /// Banned name or type (CC_BANNED).
    Banned = 8,
    /// Virus found (CC_VIRUS).
    Virus = 9,
}

impl From<Category> for mw_category {
    fn from(c: Category) -> Self {
        match c {
            Category::Clean => mw_category::Clean,
            Category::Oversized => mw_category::Oversized,
            Category::BadHeader => mw_category::BadHeader,
            Category::Spammy => mw_category::Spammy,
            Category::Spam => mw_category::Spam,
            Category::Unchecked => mw_category::Unchecked,
            Category::Banned => mw_category::Banned,
            Category::Virus => mw_category::Virus,
        }
    }
}

/// How a header edit applies. The values are part of the ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mw_header_op {
    /// Add a new header field (milter: `smfi_addheader`).
    Add = 0,
    /// Replace the value of the first field with this name, adding it if absent
    /// (milter: `smfi_chgheader(ctx, name, 1, value)`).
    Change = 1,
    /// Delete every field with this name; the value is empty
    /// (milter: `smfi_chgheader(ctx, name, i, NULL)` for each occurrence).
    Delete = 2,
}

impl From<HeaderOp> for mw_header_op {
    fn from(op: HeaderOp) -> Self {
        match op {
            HeaderOp::Add => mw_header_op::Add,
            HeaderOp::Change => mw_header_op::Change,
            HeaderOp::Delete => mw_header_op::Delete,
        }
    }
}

/// A compiled, immutable filter. Build one with `mw_engine_new_default()` or
/// `mw_engine_new_from_config()`, share the `const mw_engine *` with every thread, and free
/// it once with `mw_engine_free()`.
pub struct mw_engine {
    engine: Engine,
}

/// The scanner for one message at a time (one per milter connection). Used by one thread at a
/// time. It keeps its own reference to the engine's compiled data.
pub struct mw_scan {
    scanner: crate::Scanner,
}

/// The result of scanning one message. Immutable: a `const mw_report *` may be read from any
/// thread. Every string an accessor returns is owned by the report and stays valid until
/// `mw_report_free()`.
pub struct mw_report {
    report: Report,
    reply_line: CString,
    reply_enhanced: CString,
    reply_text: CString,
    viruses: Vec<CString>,
    rules: Vec<(CString, f64, CString)>,
    unchecked: Vec<(&'static CStr, CString, CString)>,
    banned: Vec<(CString, CString, CString)>,
    header_edits: Vec<(mw_header_op, CString, CString)>,
    json: OnceLock<CString>,
}

/// A C string from Rust text; NUL bytes (which C strings cannot hold) are dropped.
fn cstring(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "")).unwrap_or_default(),
    }
}

fn unchecked_reason_name(reason: crate::UncheckedReason) -> &'static CStr {
    use crate::UncheckedReason as U;
    match reason {
        U::MaxLevels => c"max_levels",
        U::MaxFiles => c"max_files",
        U::MaxQuota => c"max_quota",
        U::MaxObjectSize => c"max_object_size",
        U::MaxRatio => c"max_ratio",
        U::MaxTime => c"max_time",
        U::MaxHeaders => c"max_headers",
        U::Encrypted => c"encrypted",
        U::AmbiguousMime => c"ambiguous_mime",
        U::UnsupportedFormat => c"unsupported_format",
        U::Undecodable => c"undecodable",
    }
}

impl mw_report {
    fn new(report: Report) -> mw_report {
        let reply = &report.verdict.reply;
        mw_report {
            reply_line: cstring(&reply.to_string()),
            reply_enhanced: cstring(&reply.enhanced),
            reply_text: cstring(&reply.text),
            viruses: report.viruses().into_iter().map(cstring).collect(),
            rules: report
                .rules()
                .map(|(n, s, d)| (cstring(n), s, cstring(d)))
                .collect(),
            unchecked: report
                .unchecked()
                .map(|(r, p, d)| (unchecked_reason_name(r), cstring(p), cstring(d)))
                .collect(),
            banned: report
                .findings
                .iter()
                .filter_map(|f| match f {
                    crate::Finding::Banned { rule, path, detail } => {
                        Some((cstring(rule), cstring(path), cstring(detail)))
                    }
                    _ => None,
                })
                .collect(),
            header_edits: report
                .header_edits
                .iter()
                .map(|e| (e.op.into(), cstring(&e.name), cstring(&e.value)))
                .collect(),
            json: OnceLock::new(),
            report,
        }
    }

    fn json(&self) -> &CStr {
        self.json
            .get_or_init(|| cstring(&self.report.to_json().to_string()))
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let c = cstring(message);
    // A thread being torn down has no slot left; the detail is then lost, the code is not.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = c);
}

/// Records `message` as the thread's last error detail and returns `code`.
fn fail(code: mw_result, message: &str) -> mw_result {
    set_last_error(message);
    code
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic in mailwarden: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic in mailwarden: {s}")
    } else {
        "panic in mailwarden".to_string()
    }
}

/// Runs `f`; a panic becomes `MW_RESULT_PANIC` with the panic message as the error detail.
fn boundary(f: impl FnOnce() -> mw_result) -> mw_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => fail(mw_result::Panic, &panic_message(&*payload)),
    }
}

/// Runs `f`; a panic returns `fallback` and records the error detail.
fn boundary_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(&panic_message(&*payload));
            fallback
        }
    }
}

/// Returns early from the enclosing closure with `MW_RESULT_NULL_PARAMETER` when `$p` is NULL.
macro_rules! check_null {
    ($($p:ident),+) => {
        $(
            if $p.is_null() {
                return fail(
                    mw_result::NullParameter,
                    concat!("NULL passed for `", stringify!($p), "`"),
                );
            }
        )+
    };
}

/// Borrows a NUL-terminated UTF-8 string from C.
///
/// # Safety
///
/// `p` is non-NULL and points to a NUL-terminated string that outlives the returned borrow.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, mw_result> {
    // SAFETY: the caller guarantees `p` is a valid NUL-terminated string for `'a`.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|_| {
        fail(
            mw_result::InvalidUtf8,
            &format!("{what} is not valid UTF-8"),
        )
    })
}

/// The library version, for example `"0.1.0"`.
///
/// The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn mw_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// The name of a result code, for example `"MW_RESULT_NULL_PARAMETER"`; an unknown value gives
/// `"MW_RESULT_UNKNOWN"`.
///
/// The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn mw_result_name(result: u32) -> *const c_char {
    boundary_or(c"MW_RESULT_UNKNOWN".as_ptr(), || {
        mw_result::from_u32(result)
            .map_or(c"MW_RESULT_UNKNOWN", mw_result::name)
            .as_ptr()
    })
}

/// The detail of the last failing `mw_*` call on the calling thread (for example the
/// configuration file's name and the line that failed to parse), or `""` if none failed yet.
///
/// The string is owned by the library and is valid until the next failing `mw_*` call on the
/// same thread; copy it to keep it. Never free it. Successful calls leave it unchanged.
#[unsafe(no_mangle)]
pub extern "C" fn mw_last_error() -> *const c_char {
    boundary_or(c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// The name of an action (`"accept"`, `"tag"`, `"quarantine"`, `"discard"`, `"reject"`,
/// `"tempfail"`), or NULL for an unknown value.
///
/// The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn mw_action_name(action: u32) -> *const c_char {
    let name: Option<&CStr> = match action {
        0 => Some(c"accept"),
        1 => Some(c"tag"),
        2 => Some(c"quarantine"),
        3 => Some(c"discard"),
        4 => Some(c"reject"),
        5 => Some(c"tempfail"),
        _ => None,
    };
    name.map_or(std::ptr::null(), CStr::as_ptr)
}

/// The name of a category (`"clean"`, `"oversized"`, `"bad-header"`, `"spammy"`, `"spam"`,
/// `"unchecked"`, `"banned"`, `"virus"`), or NULL for an unknown value.
///
/// The string is static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn mw_category_name(category: u32) -> *const c_char {
    let name: Option<&CStr> = match category {
        1 => Some(c"clean"),
        3 => Some(c"oversized"),
        4 => Some(c"bad-header"),
        5 => Some(c"spammy"),
        6 => Some(c"spam"),
        7 => Some(c"unchecked"),
        8 => Some(c"banned"),
        9 => Some(c"virus"),
        _ => None,
    };
    name.map_or(std::ptr::null(), CStr::as_ptr)
}

/// Builds an engine from the embedded defaults: built-in EICAR and GTUBE detection, Debian's
/// amavisd-new limits, the default policy. Needs no files.
///
/// On success `*engine_out` receives a new engine, owned by the caller, to be freed with
/// `mw_engine_free()`. It may be shared by any number of threads.
///
/// # Safety
///
/// `engine_out` is NULL or points to writable storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_engine_new_default(engine_out: *mut *const mw_engine) -> mw_result {
    boundary(|| {
        check_null!(engine_out);
        match crate::EngineBuilder::new().build() {
            Ok(engine) => {
                let handle = Box::into_raw(Box::new(mw_engine { engine }));
                // SAFETY: `engine_out` is non-NULL and writable per the contract above.
                unsafe { engine_out.write(handle) };
                mw_result::Ok
            }
            Err(e) => fail(mw_result::from_kind(e.kind()), &e.to_string()),
        }
    })
}

/// Builds an engine from a TOML configuration file (the same file `mailwarden --config`
/// reads). Relative paths in the file are resolved against the file's directory.
///
/// `path` is borrowed for the duration of the call. On success `*engine_out` receives a new
/// engine, owned by the caller, to be freed with `mw_engine_free()`. On failure the result
/// says what kind of error happened and `mw_last_error()` says where.
///
/// # Safety
///
/// `path` is NULL or a NUL-terminated string; `engine_out` is NULL or points to writable
/// storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_engine_new_from_config(
    path: *const c_char,
    engine_out: *mut *const mw_engine,
) -> mw_result {
    boundary(|| {
        check_null!(path, engine_out);
        // SAFETY: `path` is non-NULL and NUL-terminated per the contract above.
        let path = match unsafe { str_arg(path, "path") } {
            Ok(p) => p,
            Err(code) => return code,
        };
        match Engine::from_config_file(path) {
            Ok(engine) => {
                let handle = Box::into_raw(Box::new(mw_engine { engine }));
                // SAFETY: `engine_out` is non-NULL and writable per the contract above.
                unsafe { engine_out.write(handle) };
                mw_result::Ok
            }
            Err(e) => fail(mw_result::from_kind(e.kind()), &e.to_string()),
        }
    })
}

/// Frees an engine. NULL is a no-op.
///
/// Call it once, after every thread is done with the engine. Scanners created from the engine
/// keep their own reference to its compiled data and remain usable.
///
/// # Safety
///
/// `engine` is NULL or a pointer from `mw_engine_new_*()` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_engine_free(engine: *const mw_engine) {
    boundary_or((), || {
        if !engine.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `mw_engine_new_*` and is freed
            // only once per the contract above.
            drop(unsafe { Box::from_raw(engine.cast_mut()) });
        }
    })
}

/// Creates a scanner for messages scanned with `engine`.
///
/// `engine` is borrowed for the duration of the call. On success `*scan_out` receives a new
/// scanner, owned by the caller, to be freed with `mw_scan_free()`. A scanner is used by one
/// thread at a time; create one per milter connection.
///
/// # Safety
///
/// `engine` is NULL or a live engine; `scan_out` is NULL or points to writable storage for a
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_new(
    engine: *const mw_engine,
    scan_out: *mut *mut mw_scan,
) -> mw_result {
    boundary(|| {
        check_null!(engine, scan_out);
        // SAFETY: `engine` is non-NULL and live per the contract above; it is only read.
        let engine = unsafe { &*engine };
        let handle = Box::into_raw(Box::new(mw_scan {
            scanner: engine.engine.scanner(),
        }));
        // SAFETY: `scan_out` is non-NULL and writable per the contract above.
        unsafe { scan_out.write(handle) };
        mw_result::Ok
    })
}

/// Runs `f` on the scanner behind `scan` and the UTF-8 string behind `value`.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `value` is NULL or a
/// NUL-terminated string.
unsafe fn with_scan_str(
    scan: *mut mw_scan,
    value: *const c_char,
    what: &str,
    f: impl FnOnce(&mut crate::Scanner, &str) -> mw_result,
) -> mw_result {
    boundary(|| {
        check_null!(scan, value);
        // SAFETY: `value` is non-NULL and NUL-terminated per the contract above.
        let value = match unsafe { str_arg(value, what) } {
            Ok(v) => v,
            Err(code) => return code,
        };
        // SAFETY: `scan` is non-NULL, live and exclusively ours during the call.
        let scan = unsafe { &mut *scan };
        f(&mut scan.scanner, value)
    })
}

/// Sets the SMTP client's address: an IPv4 or IPv6 address in text form (`"192.0.2.1"`,
/// `"2001:db8::1"`; a leading `"IPv6:"` as Sendmail writes it is accepted).
///
/// `address` is borrowed for the duration of the call. Fails with
/// `MW_RESULT_INVALID_ADDRESS` when the text is not an address; the envelope is then unchanged.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `address` is NULL or a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_set_client_address(
    scan: *mut mw_scan,
    address: *const c_char,
) -> mw_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_scan_str(scan, address, "address", |s, a| {
            let text = a
                .strip_prefix("IPv6:")
                .or_else(|| a.strip_prefix("ipv6:"))
                .unwrap_or(a);
            let text = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or(text);
            match text.parse() {
                Ok(ip) => {
                    s.envelope_mut().client_address = Some(ip);
                    mw_result::Ok
                }
                Err(_) => fail(
                    mw_result::InvalidAddress,
                    &format!("not an IP address: {a:?}"),
                ),
            }
        })
    }
}

/// Sets the SMTP client's reverse-DNS name. `name` is copied.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `name` is NULL or a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_set_client_name(
    scan: *mut mw_scan,
    name: *const c_char,
) -> mw_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_scan_str(scan, name, "name", |s, n| {
            s.envelope_mut().client_name = Some(n.to_string());
            mw_result::Ok
        })
    }
}

/// Sets the HELO/EHLO argument. `helo` is copied.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `helo` is NULL or a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_set_helo(scan: *mut mw_scan, helo: *const c_char) -> mw_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_scan_str(scan, helo, "helo", |s, h| {
            s.envelope_mut().helo = Some(h.to_string());
            mw_result::Ok
        })
    }
}

/// Strips the angle brackets an MTA passes around an SMTP path (`<a@b>` becomes `a@b`).
fn smtp_path(p: &str) -> &str {
    let t = p.trim();
    t.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(t)
}

/// Sets the envelope sender (MAIL FROM). `sender` is copied; angle brackets around it are
/// removed, and `""` or `"<>"` is the null sender.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `sender` is NULL or a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_set_sender(
    scan: *mut mw_scan,
    sender: *const c_char,
) -> mw_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_scan_str(scan, sender, "sender", |s, a| {
            s.envelope_mut().sender = Some(smtp_path(a).to_string());
            mw_result::Ok
        })
    }
}

/// Adds an envelope recipient (RCPT TO), after those already added. `recipient` is copied;
/// angle brackets around it are removed.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `recipient` is NULL or a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_add_recipient(
    scan: *mut mw_scan,
    recipient: *const c_char,
) -> mw_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_scan_str(scan, recipient, "recipient", |s, a| {
            s.envelope_mut().recipients.push(smtp_path(a).to_string());
            mw_result::Ok
        })
    }
}

/// Appends `len` bytes of the message (header and body, as they arrive, with CRLF or LF line
/// ends). The bytes are copied; `data` may be NULL when `len` is 0.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `data` is NULL or points to
/// `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_write(
    scan: *mut mw_scan,
    data: *const u8,
    len: usize,
) -> mw_result {
    boundary(|| {
        check_null!(scan);
        if data.is_null() && len != 0 {
            return fail(mw_result::NullParameter, "NULL passed for `data`");
        }
        // SAFETY: `scan` is non-NULL, live and exclusively ours during the call.
        let scan = unsafe { &mut *scan };
        if len != 0 {
            // SAFETY: `data` is non-NULL and points to `len` readable bytes per the contract.
            let bytes = unsafe { std::slice::from_raw_parts(data, len) };
            scan.scanner.write(bytes);
        }
        mw_result::Ok
    })
}

/// Scans the message written so far and resets the scanner (message and envelope) for the
/// next message on the same connection.
///
/// On success `*report_out` receives a new report, owned by the caller, to be freed with
/// `mw_report_free()`; it does not depend on the scanner or the engine. Message content never
/// makes this fail: malformed input becomes findings in the report.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread; `report_out` is NULL or points
/// to writable storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_finish(
    scan: *mut mw_scan,
    report_out: *mut *const mw_report,
) -> mw_result {
    boundary(|| {
        check_null!(scan, report_out);
        // SAFETY: `scan` is non-NULL, live and exclusively ours during the call.
        let scan = unsafe { &mut *scan };
        let report = scan.scanner.finish();
        let handle = Box::into_raw(Box::new(mw_report::new(report)));
        // SAFETY: `report_out` is non-NULL and writable per the contract above.
        unsafe { report_out.write(handle) };
        mw_result::Ok
    })
}

/// Drops the message and envelope received so far (SMTP RSET, milter abort). The scanner is
/// then ready for a new message. NULL is a no-op.
///
/// # Safety
///
/// `scan` is NULL or a live scanner not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_reset(scan: *mut mw_scan) {
    boundary_or((), || {
        if !scan.is_null() {
            // SAFETY: `scan` is non-NULL, live and exclusively ours during the call.
            unsafe { &mut *scan }.scanner.reset();
        }
    })
}

/// Frees a scanner. NULL is a no-op.
///
/// # Safety
///
/// `scan` is NULL or a pointer from `mw_scan_new()` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_scan_free(scan: *mut mw_scan) {
    boundary_or((), || {
        if !scan.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `mw_scan_new` and is freed only
            // once per the contract above.
            drop(unsafe { Box::from_raw(scan) });
        }
    })
}

/// Frees a report and every string its accessors returned. NULL is a no-op.
///
/// # Safety
///
/// `report` is NULL or a pointer from `mw_scan_finish()` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_free(report: *const mw_report) {
    boundary_or((), || {
        if !report.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `mw_scan_finish` and is freed
            // only once per the contract above.
            drop(unsafe { Box::from_raw(report.cast_mut()) });
        }
    })
}

/// Runs `f` on the report behind `report`, or returns `fallback` when it is NULL or `f`
/// panics.
///
/// # Safety
///
/// `report` is NULL or a live report.
unsafe fn with_report<T>(
    report: *const mw_report,
    fallback: T,
    f: impl FnOnce(&mw_report) -> T,
) -> T {
    let failed = || {
        set_last_error("NULL passed for `report`");
        None
    };
    let run = || {
        if report.is_null() {
            return failed();
        }
        // SAFETY: `report` is non-NULL and live per the contract above; reports are immutable.
        let r = unsafe { &*report };
        Some(f(r))
    };
    boundary_or(None, run).unwrap_or(fallback)
}

/// The action to take (an `mw_action` value). A NULL report gives `MW_ACTION_TEMPFAIL`, the
/// safe answer.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_action(report: *const mw_report) -> mw_action {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, mw_action::Tempfail, |r| r.report.action().into()) }
}

/// The deciding category (an `mw_category` value). A NULL report gives
/// `MW_CATEGORY_UNCHECKED`.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_category(report: *const mw_report) -> mw_category {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, mw_category::Unchecked, |r| r.report.category.into()) }
}

/// The spam score (sum of the rule hits). A NULL report gives NaN.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_score(report: *const mw_report) -> f64 {
    // SAFETY: forwarded contract.
    // Adding 0.0 turns the -0.0 an empty sum gives into 0.0, which C prints as "0.0".
    unsafe { with_report(report, f64::NAN, |r| r.report.score + 0.0) }
}

/// The score at which a message is spam (the policy's tag2 level). A NULL report gives NaN.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_required_score(report: *const mw_report) -> f64 {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, f64::NAN, |r| r.report.required_score) }
}

/// The SMTP reply code (`554`). A NULL report gives `451`.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_reply_code(report: *const mw_report) -> u16 {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, 451, |r| r.report.verdict.reply.code) }
}

/// The enhanced status code (`"5.7.1"`), owned by the report (valid until
/// `mw_report_free()`). A NULL report gives NULL.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_reply_enhanced(report: *const mw_report) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, std::ptr::null(), |r| r.reply_enhanced.as_ptr()) }
}

/// The reply text (`"Message contains Eicar-Test-Signature virus, rejected"`), owned by the
/// report (valid until `mw_report_free()`). A NULL report gives NULL.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_reply_text(report: *const mw_report) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, std::ptr::null(), |r| r.reply_text.as_ptr()) }
}

/// The whole reply line (`"554 5.7.1 Message contains Eicar-Test-Signature virus, rejected"`),
/// owned by the report (valid until `mw_report_free()`). A NULL report gives NULL.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_reply(report: *const mw_report) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, std::ptr::null(), |r| r.reply_line.as_ptr()) }
}

/// How many distinct virus names the report holds. A NULL report gives 0.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_virus_count(report: *const mw_report) -> usize {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, 0, |r| r.viruses.len()) }
}

/// The `index`-th virus name (first found first), owned by the report (valid until
/// `mw_report_free()`). NULL when `report` is NULL or `index` is not below
/// `mw_report_virus_count()`.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_virus_name(
    report: *const mw_report,
    index: usize,
) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe {
        with_report(report, std::ptr::null(), |r| {
            r.viruses
                .get(index)
                .map_or(std::ptr::null(), |v| v.as_ptr())
        })
    }
}

/// How many rule hits the report holds. A NULL report gives 0.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_rule_count(report: *const mw_report) -> usize {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, 0, |r| r.rules.len()) }
}

/// The `index`-th rule hit: its name (`"GTUBE"`), the score it contributed and its
/// description. The strings are owned by the report (valid until `mw_report_free()`).
/// Any of the out-parameters may be NULL when that part is not wanted; they are written only
/// on success. Fails with `MW_RESULT_OUT_OF_RANGE` when `index` is not below
/// `mw_report_rule_count()`.
///
/// # Safety
///
/// `report` is NULL or a live report; each out-parameter is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_rule(
    report: *const mw_report,
    index: usize,
    name_out: *mut *const c_char,
    score_out: *mut f64,
    description_out: *mut *const c_char,
) -> mw_result {
    boundary(|| {
        check_null!(report);
        // SAFETY: `report` is non-NULL and live per the contract above.
        let r = unsafe { &*report };
        let Some((name, score, description)) = r.rules.get(index) else {
            return fail(
                mw_result::OutOfRange,
                &format!("rule index {index} of {}", r.rules.len()),
            );
        };
        // SAFETY: each out-parameter is NULL (skipped) or writable per the contract above.
        unsafe {
            write_opt(name_out, name.as_ptr());
            write_opt(score_out, *score);
            write_opt(description_out, description.as_ptr());
        }
        mw_result::Ok
    })
}

/// How many unchecked findings the report holds. A NULL report gives 0.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_unchecked_count(report: *const mw_report) -> usize {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, 0, |r| r.unchecked.len()) }
}

/// The `index`-th unchecked finding: the reason (`"max_levels"`, `"encrypted"`,
/// `"ambiguous_mime"`, ...), the object path and a detail. The strings are owned by the report
/// (valid until `mw_report_free()`). Out-parameters may be NULL; they are written only on
/// success. Fails with `MW_RESULT_OUT_OF_RANGE` when `index` is not below
/// `mw_report_unchecked_count()`.
///
/// # Safety
///
/// `report` is NULL or a live report; each out-parameter is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_unchecked(
    report: *const mw_report,
    index: usize,
    reason_out: *mut *const c_char,
    path_out: *mut *const c_char,
    detail_out: *mut *const c_char,
) -> mw_result {
    // SAFETY: forwarded contract.
    unsafe {
        string_triple(
            report,
            "unchecked",
            |r| &r.unchecked,
            index,
            [reason_out, path_out, detail_out],
        )
    }
}

/// How many banned findings (category `banned`: a forbidden name or type) the report holds.
/// A NULL report gives 0.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_banned_count(report: *const mw_report) -> usize {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, 0, |r| r.banned.len()) }
}

/// The `index`-th banned finding: the rule that matched (for example `double-extension`), the
/// object path (`2/1 invoice.zip/x.exe`, the same paths the JSON report uses) and what matched
/// (the name or type). The strings are owned by the report (valid until `mw_report_free()`).
/// Out-parameters may be NULL; they are written only on success. Fails with
/// `MW_RESULT_OUT_OF_RANGE` when `index` is not below `mw_report_banned_count()`.
///
/// # Safety
///
/// `report` is NULL or a live report; each out-parameter is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_banned(
    report: *const mw_report,
    index: usize,
    rule_out: *mut *const c_char,
    path_out: *mut *const c_char,
    detail_out: *mut *const c_char,
) -> mw_result {
    // SAFETY: forwarded contract.
    unsafe {
        string_triple(
            report,
            "banned",
            |r| &r.banned,
            index,
            [rule_out, path_out, detail_out],
        )
    }
}

/// The accessor behind `mw_report_unchecked()` and `mw_report_banned()`: the `index`-th
/// entry of a list of three strings owned by the report, written to the out-parameters that
/// are not NULL, only on success.
///
/// # Safety
///
/// `report` is NULL or a live report; each out-parameter is NULL or writable.
unsafe fn string_triple<A: AsRef<CStr>, B: AsRef<CStr>, C: AsRef<CStr>>(
    report: *const mw_report,
    what: &str,
    list: impl FnOnce(&mw_report) -> &Vec<(A, B, C)>,
    index: usize,
    outs: [*mut *const c_char; 3],
) -> mw_result {
    boundary(|| {
        check_null!(report);
        // SAFETY: `report` is non-NULL and live per the contract above.
        let list = list(unsafe { &*report });
        let Some((a, b, c)) = list.get(index) else {
            return fail(
                mw_result::OutOfRange,
                &format!("{what} index {index} of {}", list.len()),
            );
        };
        let [a_out, b_out, c_out] = outs;
        // SAFETY: each out-parameter is NULL (skipped) or writable per the contract above.
        unsafe {
            write_opt(a_out, a.as_ref().as_ptr());
            write_opt(b_out, b.as_ref().as_ptr());
            write_opt(c_out, c.as_ref().as_ptr());
        }
        mw_result::Ok
    })
}

/// How many header edits the report holds. A NULL report gives 0.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_header_edit_count(report: *const mw_report) -> usize {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, 0, |r| r.header_edits.len()) }
}

/// The `index`-th header edit, in the order they are to be applied: the operation, the field
/// name and the value (empty for `MW_HEADER_OP_DELETE`). The strings are owned by the report
/// (valid until `mw_report_free()`). Out-parameters may be NULL; they are written only on
/// success. Fails with `MW_RESULT_OUT_OF_RANGE` when `index` is not below
/// `mw_report_header_edit_count()`.
///
/// # Safety
///
/// `report` is NULL or a live report; each out-parameter is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_header_edit(
    report: *const mw_report,
    index: usize,
    op_out: *mut mw_header_op,
    name_out: *mut *const c_char,
    value_out: *mut *const c_char,
) -> mw_result {
    boundary(|| {
        check_null!(report);
        // SAFETY: `report` is non-NULL and live per the contract above.
        let r = unsafe { &*report };
        let Some((op, name, value)) = r.header_edits.get(index) else {
            return fail(
                mw_result::OutOfRange,
                &format!("header edit index {index} of {}", r.header_edits.len()),
            );
        };
        // SAFETY: each out-parameter is NULL (skipped) or writable per the contract above.
        unsafe {
            write_opt(op_out, *op);
            write_opt(name_out, name.as_ptr());
            write_opt(value_out, value.as_ptr());
        }
        mw_result::Ok
    })
}

/// The whole report as one line of JSON (the shape `mailwarden scan --json` prints), owned by
/// the report (valid until `mw_report_free()`). A NULL report gives NULL.
///
/// # Safety
///
/// `report` is NULL or a live report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_json(report: *const mw_report) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { with_report(report, std::ptr::null(), |r| r.json().as_ptr()) }
}

/// Copies the report's JSON, NUL-terminated, into the caller's buffer `buf` of `len` bytes.
///
/// On success `*written_out` (if not NULL) receives the length without the NUL. When the
/// buffer is too small the result is `MW_RESULT_INSUFFICIENT_SIZE`, nothing is written to
/// `buf`, and `*written_out` (if not NULL) receives the length needed without the NUL.
///
/// # Safety
///
/// `report` is NULL or a live report; `buf` is NULL or points to `len` writable bytes;
/// `written_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_report_json_copy(
    report: *const mw_report,
    buf: *mut c_char,
    len: usize,
    written_out: *mut usize,
) -> mw_result {
    boundary(|| {
        check_null!(report, buf);
        // SAFETY: `report` is non-NULL and live per the contract above.
        let r = unsafe { &*report };
        let json = r.json().to_bytes_with_nul();
        let needed = json.len() - 1;
        if json.len() > len {
            // SAFETY: `written_out` is NULL (skipped) or writable. Reporting the size needed
            // is the documented exception to "outputs only on success".
            unsafe { write_opt(written_out, needed) };
            return fail(
                mw_result::InsufficientSize,
                &format!("JSON needs {} bytes, buffer has {len}", json.len()),
            );
        }
        // SAFETY: `buf` has `len >= json.len()` writable bytes and cannot overlap the report's
        // own allocation, which the caller never sees as writable.
        unsafe { std::ptr::copy_nonoverlapping(json.as_ptr(), buf.cast::<u8>(), json.len()) };
        // SAFETY: `written_out` is NULL (skipped) or writable.
        unsafe { write_opt(written_out, needed) };
        mw_result::Ok
    })
}

/// Writes `value` through `p` unless `p` is NULL.
///
/// # Safety
///
/// `p` is NULL or valid for a write of `T`.
unsafe fn write_opt<T>(p: *mut T, value: T) {
    if !p.is_null() {
        // SAFETY: `p` is non-NULL and writable per the contract above.
        unsafe { p.write(value) };
    }
}

/// The Bayes learner: the one writer of a token database (see `mw_learner_new()`). Used by
/// one thread at a time.
pub struct mw_learner {
    learner: crate::bayes::Learner,
}

/// The class a message is learned as. The values are part of the ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mw_bayes_class {
    /// Unwanted mail.
    Spam = 1,
    /// Wanted mail.
    Ham = 2,
}

/// Statistics of a Bayes token database.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mw_bayes_stats {
    /// Spam messages learned.
    pub spam: u64,
    /// Ham messages learned.
    pub ham: u64,
    /// Tokens stored.
    pub tokens: u64,
    /// Message ids remembered (to detect learning a message twice).
    pub messages: u64,
}

impl From<crate::bayes::Stats> for mw_bayes_stats {
    fn from(s: crate::bayes::Stats) -> Self {
        mw_bayes_stats {
            spam: s.spam,
            ham: s.ham,
            tokens: s.tokens as u64,
            messages: s.messages as u64,
        }
    }
}

fn bayes_config(path: &str) -> crate::bayes::BayesConfig {
    crate::bayes::BayesConfig {
        path: Some(path.into()),
        ..crate::bayes::BayesConfig::default()
    }
}

/// Opens the Bayes database at `path` for learning (created by the first commit). Waits while
/// another learner (a process or thread) holds the database; scanning engines keep reading it
/// meanwhile.
///
/// `path` is borrowed for the duration of the call. On success `*learner_out` receives a new
/// learner, owned by the caller, to be freed with `mw_learner_free()`.
///
/// # Safety
///
/// `path` is NULL or a NUL-terminated string; `learner_out` is NULL or points to writable
/// storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_learner_new(
    path: *const c_char,
    learner_out: *mut *mut mw_learner,
) -> mw_result {
    boundary(|| {
        check_null!(path, learner_out);
        // SAFETY: `path` is non-NULL and NUL-terminated per the contract above.
        let path = match unsafe { str_arg(path, "path") } {
            Ok(p) => p,
            Err(code) => return code,
        };
        match crate::bayes::Learner::open(&bayes_config(path)) {
            Ok(learner) => {
                let handle = Box::into_raw(Box::new(mw_learner { learner }));
                // SAFETY: `learner_out` is non-NULL and writable per the contract above.
                unsafe { learner_out.write(handle) };
                mw_result::Ok
            }
            Err(e) => fail(mw_result::from_kind(e.kind()), &e.to_string()),
        }
    })
}

/// Learns the message in `data` (`len` bytes) as `class` (an `mw_bayes_class` value). A
/// message already learned as this class (same Message-ID) changes nothing; one learned as
/// the other class is moved. Nothing is visible to scanners before `mw_learner_commit()`.
///
/// On success `*changed_out` says whether the database changed.
///
/// # Safety
///
/// `learner` is NULL or a live learner not used by another thread; `data` is NULL or points to
/// `len` readable bytes; `changed_out` is NULL or points to a writable `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_learner_learn(
    learner: *mut mw_learner,
    data: *const u8,
    len: usize,
    class: u32,
    changed_out: *mut bool,
) -> mw_result {
    boundary(|| {
        check_null!(learner, data, changed_out);
        let class = match class {
            c if c == mw_bayes_class::Spam as u32 => crate::bayes::Class::Spam,
            c if c == mw_bayes_class::Ham as u32 => crate::bayes::Class::Ham,
            _ => {
                return fail(
                    mw_result::OutOfRange,
                    "class is not an mw_bayes_class value",
                );
            }
        };
        // SAFETY: `learner` is non-NULL, live and exclusively ours during the call.
        let learner = unsafe { &mut *learner };
        // SAFETY: `data` is non-NULL and points to `len` readable bytes per the contract.
        let bytes = unsafe { std::slice::from_raw_parts(data, len) };
        match learner.learner.learn(bytes, class) {
            Ok(outcome) => {
                // SAFETY: `changed_out` is non-NULL and writable per the contract above.
                unsafe { changed_out.write(outcome != crate::bayes::Learned::AlreadyLearned) };
                mw_result::Ok
            }
            Err(e) => fail(mw_result::from_kind(e.kind()), &e.to_string()),
        }
    })
}

/// Unlearns the message in `data` (`len` bytes), found by its Message-ID. On success
/// `*changed_out` is false when the message had never been learned.
///
/// # Safety
///
/// As `mw_learner_learn()`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_learner_forget(
    learner: *mut mw_learner,
    data: *const u8,
    len: usize,
    changed_out: *mut bool,
) -> mw_result {
    boundary(|| {
        check_null!(learner, data, changed_out);
        // SAFETY: `learner` is non-NULL, live and exclusively ours during the call.
        let learner = unsafe { &mut *learner };
        // SAFETY: `data` is non-NULL and points to `len` readable bytes per the contract.
        let bytes = unsafe { std::slice::from_raw_parts(data, len) };
        match learner.learner.forget(bytes) {
            Ok(outcome) => {
                // SAFETY: `changed_out` is non-NULL and writable per the contract above.
                unsafe { changed_out.write(outcome != crate::bayes::Forgot::NotLearned) };
                mw_result::Ok
            }
            Err(e) => fail(mw_result::from_kind(e.kind()), &e.to_string()),
        }
    })
}

/// Train on error over a batch of messages already learned: `passes` times, each message
/// the database still gets wrong (judged without it: a spam below `1 - margin`, a ham above
/// `margin`) is learned once more; `mw_learner_forget()` and relearning as the other class
/// remove every copy. `messages[i]` points to `lens[i]` bytes, for `count` messages;
/// messages never learned are skipped. Uses the default classifier constants (200 messages
/// of each class before anything counts as wrong). On success `*added_out` is the number of
/// copies added. Nothing is visible to scanners before `mw_learner_commit()`.
///
/// # Safety
///
/// `learner` is NULL or a live learner not used by another thread; `messages` and `lens`
/// are NULL or point to `count` elements each, every `messages[i]` pointing to `lens[i]`
/// readable bytes (NULL when `lens[i]` is 0); `added_out` is NULL or points to a writable
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_learner_retrain(
    learner: *mut mw_learner,
    messages: *const *const u8,
    lens: *const usize,
    count: usize,
    passes: u32,
    margin: f64,
    added_out: *mut usize,
) -> mw_result {
    boundary(|| {
        check_null!(learner, messages, lens, added_out);
        if !(0.0..0.5).contains(&margin) {
            return fail(mw_result::OutOfRange, "margin must be in [0, 0.5)");
        }
        // SAFETY: `learner` is non-NULL, live and exclusively ours during the call.
        let learner = unsafe { &mut *learner };
        // SAFETY: both arrays are non-NULL and hold `count` elements per the contract.
        let (ptrs, lens) = unsafe {
            (
                std::slice::from_raw_parts(messages, count),
                std::slice::from_raw_parts(lens, count),
            )
        };
        let mut batch = Vec::with_capacity(count);
        for (&p, &len) in ptrs.iter().zip(lens) {
            if len == 0 {
                continue;
            }
            if p.is_null() {
                return fail(mw_result::NullParameter, "a message pointer is NULL");
            }
            // SAFETY: `p` is non-NULL and points to `len` readable bytes per the contract.
            let bytes = unsafe { std::slice::from_raw_parts(p, len) };
            batch.push(learner.learner.tokenize(bytes));
        }
        let constants = crate::bayes::Constants::default();
        let added = learner.learner.retrain(&batch, passes, margin, &constants);
        // SAFETY: `added_out` is non-NULL and writable per the contract above.
        unsafe { added_out.write(added) };
        mw_result::Ok
    })
}

/// Writes the learner's changes atomically (a crash leaves the old or the new database,
/// never a mix) and expires old tokens. Engines pick the new database up on their next scan.
///
/// # Safety
///
/// `learner` is NULL or a live learner not used by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_learner_commit(learner: *mut mw_learner) -> mw_result {
    boundary(|| {
        check_null!(learner);
        // SAFETY: `learner` is non-NULL, live and exclusively ours during the call.
        let learner = unsafe { &mut *learner };
        match learner.learner.commit() {
            Ok(()) => mw_result::Ok,
            Err(e) => fail(mw_result::from_kind(e.kind()), &e.to_string()),
        }
    })
}

/// The learner's view of the database (uncommitted changes included) into `*stats_out`.
///
/// # Safety
///
/// `learner` is NULL or a live learner; `stats_out` is NULL or points to a writable
/// `mw_bayes_stats`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_learner_stats(
    learner: *const mw_learner,
    stats_out: *mut mw_bayes_stats,
) -> mw_result {
    boundary(|| {
        check_null!(learner, stats_out);
        // SAFETY: `learner` is non-NULL and live per the contract above; it is only read.
        let learner = unsafe { &*learner };
        // SAFETY: `stats_out` is non-NULL and writable per the contract above.
        unsafe { stats_out.write(learner.learner.stats().into()) };
        mw_result::Ok
    })
}

/// Frees a learner, discarding uncommitted changes and releasing the database. NULL is a
/// no-op.
///
/// # Safety
///
/// `learner` is NULL or a pointer from `mw_learner_new()` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_learner_free(learner: *mut mw_learner) {
    boundary_or((), || {
        if !learner.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `mw_learner_new` and is freed
            // only once per the contract above.
            drop(unsafe { Box::from_raw(learner) });
        }
    })
}

/// Reads the statistics of the Bayes database at `path` without locking it (a learner may be
/// working). A missing database has all counts 0.
///
/// # Safety
///
/// `path` is NULL or a NUL-terminated string; `stats_out` is NULL or points to a writable
/// `mw_bayes_stats`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mw_bayes_stats_read(
    path: *const c_char,
    stats_out: *mut mw_bayes_stats,
) -> mw_result {
    boundary(|| {
        check_null!(path, stats_out);
        // SAFETY: `path` is non-NULL and NUL-terminated per the contract above.
        let path = match unsafe { str_arg(path, "path") } {
            Ok(p) => p,
            Err(code) => return code,
        };
        match crate::bayes::stats(&bayes_config(path)) {
            Ok(st) => {
                // SAFETY: `stats_out` is non-NULL and writable per the contract above.
                unsafe { stats_out.write(st.into()) };
                mw_result::Ok
            }
            Err(e) => fail(mw_result::from_kind(e.kind()), &e.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_result_code_with_its_message() {
        let r = boundary(|| panic!("boom"));
        assert_eq!(r, mw_result::Panic);
        // SAFETY: mw_last_error returns a valid NUL-terminated string.
        let detail = unsafe { CStr::from_ptr(mw_last_error()) };
        assert_eq!(detail.to_str().unwrap(), "panic in mailwarden: boom");
        assert_eq!(boundary_or(7u32, || panic!("again")), 7);
    }

    #[test]
    fn every_result_code_round_trips_and_has_its_name() {
        for v in 0..14u32 {
            let r = mw_result::from_u32(v).expect("contiguous codes");
            assert_eq!(r as u32, v);
            let name = r.name().to_str().unwrap();
            assert!(name.starts_with("MW_RESULT_"), "{name}");
        }
        assert_eq!(mw_result::from_u32(14), None);
    }

    #[test]
    fn handles_have_the_thread_safety_the_header_promises() {
        fn shared<T: Send + Sync>() {}
        fn movable<T: Send>() {}
        // `const mw_engine *` and `const mw_report *` may be used from any thread at once;
        // an `mw_scan *` may move between threads (one at a time).
        shared::<mw_engine>();
        shared::<mw_report>();
        movable::<mw_scan>();
        movable::<mw_learner>();
    }

    #[test]
    fn nul_bytes_are_dropped_from_c_strings() {
        assert_eq!(cstring("a\0b").to_str().unwrap(), "ab");
    }

    #[test]
    fn smtp_paths_lose_their_brackets() {
        assert_eq!(smtp_path("<a@b>"), "a@b");
        assert_eq!(smtp_path("<>"), "");
        assert_eq!(smtp_path("a@b"), "a@b");
    }
}
