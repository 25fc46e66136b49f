#![no_main]

libfuzzer_sys::fuzz_target!(|mail: mailwarden_fuzz::structured::Mail| {
    mailwarden_fuzz::structured::run(&mail)
});
