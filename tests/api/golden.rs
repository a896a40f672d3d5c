//! Golden documents: tests/documents/fixtures.sql (fixed ids and times) rendered with the real
//! binary, `tally render`, twice in two processes. Each PDF is byte-identical across the two,
//! passes `qpdf --check`, embeds every font, has the expected page count, extracts to the
//! committed text (`tests/documents/golden/NAME.txt`) and hashes to the committed SHA-256
//! (`NAME.sha256`). `TALLY_BLESS=1` rewrites the committed files after a deliberate change (a
//! template, or typst's version, which every PDF names).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::documents::inspect;
use crate::helpers::{database_url, pool};

/// Name, resource URI, pages.
const GOLDEN: &[(&str, &str, usize)] = &[
    ("invoice-multipage", "invoice://inv_00000000000070008000000000000001/pdf", 3),
    ("invoice-partial-payments", "invoice://inv_00000000000070008000000000000002/pdf", 1),
    ("invoice-void", "invoice://inv_00000000000070008000000000000003/pdf", 1),
    ("invoice-draft", "invoice://inv_00000000000070008000000000000004/pdf", 1),
    ("invoice-kwd-cyrillic-greek", "invoice://inv_00000000000070008000000000000005/pdf", 1),
    ("invoice-jpy", "invoice://inv_00000000000070008000000000000006/pdf", 1),
    ("invoice-vat-19-7-discount", "invoice://inv_00000000000070008000000000000008/pdf", 1),
    ("invoice-reverse-charge", "invoice://inv_00000000000070008000000000000009/pdf", 1),
    ("invoice-zero-rated-export", "invoice://inv_00000000000070008000000000000010/pdf", 1),
    ("credit-note-vat-line-return", "credit_note://cn_0000000000007000a000000000000001/pdf", 1),
    ("credit-note-refunded", "credit_note://cn_0000000000007000a000000000000002/pdf", 1),
    ("statement-three-months", "statement://blue-harbor/activity/2026-01-01/2026-03-31", 1),
    ("statement-open-items", "statement://blue-harbor/open-items/2026-03-31", 1),
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/documents/golden")
}

fn render(url: &str, uri: &str, out: &Path) -> Vec<u8> {
    let status = Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["render", "--database-url", url, "--tenant", "golden", uri, "-o"])
        .arg(out)
        .env("TALLY_LOG", "warn")
        .status()
        .expect("tally render runs");
    assert!(status.success(), "tally render {uri}: {status}");
    std::fs::read(out).expect("tally render wrote the PDF")
}

#[sqlx::test]
async fn golden_documents_render_to_the_committed_text_and_bytes(o: PgPoolOptions, c: PgConnectOptions) {
    let pool = pool(o, c.clone()).await;
    sqlx::raw_sql(include_str!("../documents/fixtures.sql")).execute(&pool).await.expect("the fixtures load");
    let url = database_url(&c);
    let bless = std::env::var_os("TALLY_BLESS").is_some();
    let scratch = std::env::temp_dir().join(format!("tally-golden-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut failures = vec![];
    for &(name, uri, pages) in GOLDEN {
        let first = render(&url, uri, &scratch.join(format!("{name}-1.pdf")));
        let second = render(&url, uri, &scratch.join(format!("{name}-2.pdf")));
        assert!(first == second, "{name}: two processes rendered different bytes");
        let printed = inspect(&first);
        assert_eq!(printed.pages, pages, "{name}: page count");
        let hash = format!("{:x}", Sha256::digest(&first));
        let (text_file, hash_file) = (dir().join(format!("{name}.txt")), dir().join(format!("{name}.sha256")));
        if bless {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&text_file, &printed.text).unwrap();
            std::fs::write(&hash_file, format!("{hash}\n")).unwrap();
            continue;
        }
        let expected_text = std::fs::read_to_string(&text_file).unwrap_or_default();
        if printed.text != expected_text {
            let got = scratch.join(format!("{name}.txt"));
            std::fs::write(&got, &printed.text).unwrap();
            failures.push(format!("{name}: text differs: diff {} {}", text_file.display(), got.display()));
        }
        let expected_hash = std::fs::read_to_string(&hash_file).unwrap_or_default();
        if expected_hash.trim() != hash {
            failures.push(format!("{name}: sha256 {hash}, committed {:?}", expected_hash.trim()));
        }
    }
    assert!(failures.is_empty(), "golden documents differ (TALLY_BLESS=1 rewrites them):\n{}", failures.join("\n"));
    std::fs::remove_dir_all(&scratch).ok();
}
