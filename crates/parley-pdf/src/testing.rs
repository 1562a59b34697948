//! PDFs for tests, made on the spot: a readable one, and the hostile ones an attacker
//! would upload (a decompression bomb, one content stream shared by many pages, a form
//! drawn over and over).

use flate2::{Compress, Compression, FlushCompress};

/// A PDF of `objects` (object `i + 1` is `objects[i]`; object 1 the catalog), with its
/// cross-reference table computed.
pub fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    let size = objects.len() + 1;
    out.extend_from_slice(format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

/// A stream object of `data` with `dict_entries` added to its dictionary.
pub fn stream(dict_entries: &str, data: &[u8]) -> Vec<u8> {
    [
        format!("<< /Length {} {dict_entries} >>\nstream\n", data.len()).as_bytes(),
        data,
        b"\nendstream",
    ]
    .concat()
}

/// A PDF of `pages` pages, page `i` drawing the contents `contents_of_page(i)` (object
/// references, shared or not) with Helvetica as `/F1` and `resources` besides. Objects:
/// 1 the catalog, 2 the page tree, then the pages, the font (`3 + pages`), and `extra`
/// from `4 + pages` on.
fn document(pages: usize, contents_of_page: impl Fn(usize) -> String, extra: Vec<Vec<u8>>, resources: &str) -> Vec<u8> {
    let first_extra = 3 + pages;
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 3 + i)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {pages} >>", kids.join(" ")).into_bytes(),
    ];
    for i in 0..pages {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {first_extra} 0 R >> {resources} >> /Contents {} >>",
                contents_of_page(i)
            )
            .into_bytes(),
        );
    }
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec());
    objects.extend(extra);
    pdf(&objects)
}

/// A one-page PDF with `lines` of text.
pub fn text_pdf(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 10 Tf\n");
    for (i, line) in lines.iter().enumerate() {
        content.push_str(&format!("1 0 0 1 40 {} Tm ({line}) Tj\n", 780 - 12 * i as i64));
    }
    content.push_str("ET");
    document(1, |_| "5 0 R".into(), vec![stream("", content.as_bytes())], "")
}

/// A one-page PDF whose content is one Flate stream of `decoded_mib` MiB of spaces: a
/// decompression bomb of about 1,000 to 1 (1 GiB of spaces in about 1 MB).
pub fn flate_bomb(decoded_mib: u64) -> Vec<u8> {
    document(
        1,
        |_| "5 0 R".into(),
        vec![stream("/Filter /FlateDecode", &zlib_spaces(decoded_mib))],
        "",
    )
}

/// `pages` pages that all draw one Flate content stream of `decoded_mib` MiB of spaces.
pub fn shared_content(pages: usize, decoded_mib: u64) -> Vec<u8> {
    let shared = 4 + pages;
    document(
        pages,
        |_| format!("{shared} 0 R"),
        vec![stream("/Filter /FlateDecode", &zlib_spaces(decoded_mib))],
        "",
    )
}

/// A page that draws a form `draws` times, the form being `form_kib` KiB of spaces:
/// small when decoded once, slow to read (the extractor decodes and parses the form on
/// every draw).
pub fn slow_forms(draws: usize, form_kib: usize) -> Vec<u8> {
    let page = "/X Do\n".repeat(draws);
    let form = vec![b' '; form_kib << 10];
    document(
        1,
        |_| "5 0 R".into(),
        vec![
            stream("/Filter /FlateDecode", &zlib(page.as_bytes())),
            stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Filter /FlateDecode",
                &zlib(&form),
            ),
        ],
        "/XObject << /X 6 0 R >>",
    )
}

fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

/// A zlib stream of `mib` MiB of spaces, made fast: one MiB compressed once, with a full
/// flush (byte-aligned, no reference before it), repeated, then the final block and the
/// checksum.
pub fn zlib_spaces(mib: u64) -> Vec<u8> {
    const MIB: usize = 1 << 20;
    let mut deflate = Compress::new(Compression::best(), false);
    let mut segment = Vec::with_capacity(64 << 10);
    deflate
        .compress_vec(&vec![b' '; MIB], &mut segment, FlushCompress::Full)
        .expect("in memory");
    assert_eq!(deflate.total_in(), MIB as u64, "one call compresses the MiB");
    let mut end = Vec::with_capacity(64);
    deflate
        .compress_vec(&[], &mut end, FlushCompress::Finish)
        .expect("in memory");
    let mut out = vec![0x78, 0xda];
    for _ in 0..mib {
        out.extend_from_slice(&segment);
    }
    out.extend_from_slice(&end);
    // Adler-32 of n spaces: a = 1 + 32n, b = n + 32 n (n + 1) / 2, both mod 65521.
    let n = u128::from(mib) * MIB as u128;
    let a = (1 + 32 * n) % 65_521;
    let b = (n + 16 * n * (n + 1)) % 65_521;
    out.extend_from_slice(&((b << 16 | a) as u32).to_be_bytes());
    out
}

/// The live (not zombie) child processes of process `pid`, as `pid (name)`: a test
/// checks with it that no PDF worker outlived its upload.
pub fn live_children(pid: u32) -> Vec<String> {
    let parent = pid.to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces, so split after its `)`.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1) == Some(&parent.as_str()) && fields.first() != Some(&"Z") {
            found.push(format!("{head})"));
        }
    }
    found
}
