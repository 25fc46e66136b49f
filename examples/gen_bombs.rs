//! Writes each hostile message from issue 3 into a directory (one `.eml` per bomb), using the
//! same generators as the tests: `cargo run --release --example gen_bombs -- DIR`.

#[path = "../tests/support/mod.rs"]
mod support;
use std::io::Read;
use support::*;

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args_os()
            .nth(1)
            .unwrap_or_else(|| "target/bombs".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let zip_mail = |name: &str, z: &[u8]| mail_with(name, "application/zip", z);
    // The five compressed gigabytes take most of the time: one thread each.
    let (deflated, gzipped, xz, sevenz, cab) = std::thread::scope(|s| {
        let deflated = s.spawn(|| deflate_zeros(2048));
        let gzipped = s.spawn(|| gzip_zeros(4096));
        let xz = s.spawn(|| xz_zeros(1024));
        let sevenz = s.spawn(|| sevenz_zeros(1024));
        let cab = s.spawn(|| cab_zeros(1024));
        let done = "generator thread";
        (
            deflated.join().expect(done),
            gzipped.join().expect(done),
            xz.join().expect(done),
            sevenz.join().expect(done),
            cab.join().expect(done),
        )
    });
    let bombs: Vec<(&str, Vec<u8>)> = vec![
        ("zip-nested-20", zip_mail("deep.zip", &nested_zip(20))),
        (
            "zip-20000-entries",
            zip_mail(
                "many.zip",
                &zip(
                    &(0..20_000)
                        .map(|i| ZipEntry::stored(&format!("f{i}.txt"), b"x"))
                        .collect::<Vec<_>>(),
                    false,
                ),
            ),
        ),
        (
            "zip-deflate-2gb-zeros",
            zip_mail(
                "zeros.zip",
                &zip(
                    &[ZipEntry {
                        name: "zeros.bin".into(),
                        method: 8,
                        flags: 0,
                        crc: 0,
                        size: 2048 << 20,
                        raw: deflated,
                        extra: Vec::new(),
                    }],
                    false,
                ),
            ),
        ),
        (
            "gzip-4gb-zeros",
            mail_with("zeros.gz", "application/gzip", &gzipped),
        ),
        (
            "zip-shared-entries",
            zip_mail("shared.zip", &shared_entry_bomb(1000, 1)),
        ),
        (
            "zip-overlapping-entries",
            zip_mail("fifield.zip", &overlapping_bomb(200)),
        ),
        ("zip-encrypted", {
            let mut e = ZipEntry::stored("secret.doc", b"ciphertext");
            e.flags |= 1;
            zip_mail("enc.zip", &zip(&[e], false))
        }),
        (
            "tar-50000-members",
            mail_with("many.tar", "application/x-tar", &tar_many(50_000)),
        ),
        ("mime-nested-5000", nested_mime(5_000)),
        (
            "xz-1gb-zeros",
            mail_with("zeros.xz", "application/x-xz", &xz?),
        ),
        (
            "7z-1gb-zeros",
            mail_with("zeros.7z", "application/x-7z-compressed", &sevenz?),
        ),
        (
            "cab-1gb-zeros",
            mail_with("zeros.cab", "application/vnd.ms-cab-compressed", &cab),
        ),
        (
            "cab-overlapping-files",
            mail_with(
                "copies.cab",
                "application/vnd.ms-cab-compressed",
                &cab_overlapping(1400),
            ),
        ),
    ];
    for (name, data) in bombs {
        std::fs::write(dir.join(format!("{name}.eml")), data)?;
    }
    Ok(())
}

/// `mib` MiB of zeros as xz (about 150 KB a GiB; written in a few seconds).
fn xz_zeros(mib: u64) -> std::io::Result<Vec<u8>> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))?;
    std::io::copy(&mut std::io::repeat(0).take(mib << 20), &mut w)?;
    w.finish()
}

/// `mib` MiB of zeros as the one file of a 7z (LZMA2).
fn sevenz_zeros(mib: u64) -> std::io::Result<Vec<u8>> {
    let mut w = sevenz_rust2::ArchiveWriter::new(std::io::Cursor::new(Vec::new()))
        .map_err(std::io::Error::other)?;
    w.set_content_methods(vec![
        sevenz_rust2::encoder_options::Lzma2Options::from_level(1).into(),
    ]);
    w.push_archive_entry(
        sevenz_rust2::ArchiveEntry::new_file("zeros.bin"),
        Some(std::io::repeat(0).take(mib << 20)),
    )
    .map_err(std::io::Error::other)?;
    Ok(w.finish()?.into_inner())
}
