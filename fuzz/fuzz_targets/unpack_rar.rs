#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailwarden_fuzz::unpack(
    mailwarden::FileType::Rar,
    data
));
