//! Model-based randomized test: thousands of random creates, writes, truncates, unlinks, renames
//! (plain, `RENAME_NOREPLACE`, `RENAME_EXCHANGE`), hard links and held-open handles on a small
//! namespace, each checked against a plain model — a map from path to file, and each file's
//! bytes — that knows nothing of inodes.
//!
//! Each operation's result (success or the exact errno) is predicted from the model before the
//! file system is asked. After every step, every path the model has must resolve and read back
//! its file's bytes, paths naming one file must share one inode whose link count is how many
//! paths name it, each directory must list exactly the model's names, files held open must still
//! read back their bytes after losing every name, and nothing else may be alive.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use k42_ramfs::{Errno, Fs, Ino};

/// Seeds for independent runs.
const SEEDS: [u64; 5] = [1, 0x9e37_79b9_7f4a_7c15, 42, 0xdead_beef, 0x1234_5678];
/// Operations per run.
const STEPS: usize = 3_000;
const DIRS: [&str; 3] = ["", "/d0", "/d1"];
const NAMES: [&str; 5] = ["a", "b", "c", "dd", "eee"];

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The model: which file each path names, each file's bytes, and the files held open.
#[derive(Default)]
struct Model {
    paths: BTreeMap<String, usize>,
    files: BTreeMap<usize, Vec<u8>>,
    next_file: usize,
    /// Held handles: (inode, file).
    held: Vec<(Ino, usize)>,
}

impl Model {
    fn links(&self, file: usize) -> usize {
        self.paths.values().filter(|&&f| f == file).count()
    }
    /// Drops files nothing names or holds.
    fn collect(&mut self) {
        let live: BTreeSet<usize> = self
            .paths
            .values()
            .copied()
            .chain(self.held.iter().map(|&(_, f)| f))
            .collect();
        self.files.retain(|f, _| live.contains(f));
    }
}

fn random_path(rng: &mut Rng) -> String {
    format!("{}/{}", rng.pick(&DIRS), rng.pick(&NAMES))
}

fn write_model(content: &mut Vec<u8>, offset: usize, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    if content.len() < offset + data.len() {
        content.resize(offset + data.len(), 0);
    }
    content[offset..offset + data.len()].copy_from_slice(data);
}

fn run(seed: u64) {
    let mut rng = Rng(seed);
    let mut fs = new_fs();
    let r = root();
    for d in &DIRS[1..] {
        mkdir(&mut fs, d, 0o755);
    }
    let ri = fs.root();
    let mut m = Model::default();
    for step in 0..STEPS {
        let ctx = format!("seed {seed:#x} step {step}");
        match rng.below(100) {
            // Create, with or without O_EXCL / O_TRUNC.
            0..=17 => {
                let path = random_path(&mut rng);
                let excl = rng.below(3) == 0;
                let trunc = rng.below(3) == 0;
                let flags = O_CREAT
                    | O_WRONLY
                    | if excl { O_EXCL } else { 0 }
                    | if trunc { O_TRUNC } else { 0 };
                let got = open(&mut fs, &r, &path, flags);
                match m.paths.get(&path) {
                    Some(_) if excl => assert_eq!(got, Err(Errno::EEXIST), "{ctx}"),
                    Some(&f) => {
                        if trunc {
                            m.files.get_mut(&f).unwrap().clear();
                        }
                        fs.close_handle(got.expect(&ctx)).unwrap();
                    }
                    None => {
                        let f = m.next_file;
                        m.next_file += 1;
                        m.paths.insert(path, f);
                        m.files.insert(f, Vec::new());
                        fs.close_handle(got.expect(&ctx)).unwrap();
                    }
                }
            }
            // Write through a path.
            18..=37 => {
                let path = random_path(&mut rng);
                let offset = rng.below(300) as usize;
                let len = rng.below(200) as usize;
                let byte = rng.below(256) as u8;
                let data = vec![byte; len];
                match m.paths.get(&path) {
                    None => assert_eq!(open(&mut fs, &r, &path, O_WRONLY), Err(Errno::ENOENT)),
                    Some(&f) => {
                        let ino = open(&mut fs, &r, &path, O_WRONLY).expect(&ctx);
                        let n = fs.write_at(&r, ino, offset as u64, &data, T1).expect(&ctx);
                        assert_eq!(n, len, "{ctx}");
                        fs.close_handle(ino).unwrap();
                        write_model(m.files.get_mut(&f).unwrap(), offset, &data);
                    }
                }
            }
            // Truncate through a path.
            38..=45 => {
                let path = random_path(&mut rng);
                let len = rng.below(400);
                let got = lookup(&fs, &r, &path).and_then(|ino| fs.truncate(&r, ino, len, T1));
                match m.paths.get(&path) {
                    None => assert_eq!(got, Err(Errno::ENOENT), "{ctx}"),
                    Some(&f) => {
                        assert_eq!(got, Ok(()), "{ctx}");
                        m.files.get_mut(&f).unwrap().resize(len as usize, 0);
                    }
                }
            }
            // Unlink.
            46..=59 => {
                let path = random_path(&mut rng);
                let got = fs.unlink(&r, ri, path.as_bytes(), T1);
                match m.paths.remove(&path) {
                    None => assert_eq!(got, Err(Errno::ENOENT), "{ctx}"),
                    Some(_) => assert_eq!(got, Ok(()), "{ctx}"),
                }
            }
            // Rename, with flags.
            60..=77 => {
                let old = random_path(&mut rng);
                let new = random_path(&mut rng);
                let flags = *rng.pick(&[0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE]);
                let got = fs.rename(&r, ri, old.as_bytes(), ri, new.as_bytes(), flags, T1);
                let source = m.paths.get(&old).copied();
                let target = m.paths.get(&new).copied();
                let want = match (source, target) {
                    (None, _) => Err(Errno::ENOENT),
                    (Some(_), Some(_)) if flags == RENAME_NOREPLACE => Err(Errno::EEXIST),
                    (Some(_), None) if flags == RENAME_EXCHANGE => Err(Errno::ENOENT),
                    (Some(s), Some(t)) if s == t => Ok(()),
                    (Some(s), Some(t)) if flags == RENAME_EXCHANGE => {
                        m.paths.insert(old.clone(), t);
                        m.paths.insert(new.clone(), s);
                        Ok(())
                    }
                    (Some(s), _) => {
                        m.paths.remove(&old);
                        m.paths.insert(new.clone(), s);
                        Ok(())
                    }
                };
                assert_eq!(got, want, "{ctx}: rename {old} {new} {flags}");
            }
            // Hard link.
            78..=87 => {
                let old = random_path(&mut rng);
                let new = random_path(&mut rng);
                let got = fs.link(&r, ri, old.as_bytes(), ri, new.as_bytes(), 0, T1);
                let want = match (m.paths.get(&old).copied(), m.paths.contains_key(&new)) {
                    (None, _) => Err(Errno::ENOENT),
                    (Some(_), true) => Err(Errno::EEXIST),
                    (Some(f), false) => {
                        m.paths.insert(new.clone(), f);
                        Ok(())
                    }
                };
                assert_eq!(got, want, "{ctx}: link {old} {new}");
            }
            // Hold a file open.
            88..=92 => {
                let path = random_path(&mut rng);
                if let Some(&f) = m.paths.get(&path) {
                    let ino = open(&mut fs, &r, &path, O_RDWR).expect(&ctx);
                    m.held.push((ino, f));
                }
            }
            // Write through a held handle, or let one go.
            _ => {
                if m.held.is_empty() {
                    continue;
                }
                let i = rng.below(m.held.len() as u64) as usize;
                let (ino, f) = m.held[i];
                if rng.below(2) == 0 {
                    let offset = rng.below(100) as usize;
                    let data = vec![rng.below(256) as u8; rng.below(50) as usize];
                    fs.write_at(&r, ino, offset as u64, &data, T1).expect(&ctx);
                    write_model(m.files.get_mut(&f).unwrap(), offset, &data);
                } else {
                    m.held.swap_remove(i);
                    let last = !m.held.iter().any(|&(_, g)| g == f) && m.links(f) == 0;
                    assert_eq!(fs.close_handle(ino), Ok(last), "{ctx}");
                }
            }
        }
        m.collect();
        check(&mut fs, &m, &ctx);
    }
}

fn check(fs: &mut Fs, m: &Model, ctx: &str) {
    let r = root();
    let mut ino_of: BTreeMap<usize, Ino> = BTreeMap::new();
    for (path, &f) in &m.paths {
        let ino = lookup(fs, &r, path).unwrap_or_else(|e| panic!("{ctx}: {path}: {e:?}"));
        if let Some(&prev) = ino_of.get(&f) {
            assert_eq!(ino, prev, "{ctx}: {path} is a link of file {f}");
        }
        ino_of.insert(f, ino);
        assert_eq!(read_ino(fs, ino), m.files[&f], "{ctx}: contents of {path}");
        let st = fs.stat(ino).unwrap();
        assert_eq!(st.nlink, m.links(f) as u64, "{ctx}: nlink of {path}");
        assert_eq!(st.size, m.files[&f].len() as u64, "{ctx}: size of {path}");
    }
    let distinct: BTreeSet<Ino> = ino_of.values().copied().collect();
    assert_eq!(
        distinct.len(),
        ino_of.len(),
        "{ctx}: distinct files, distinct inodes"
    );
    for &(ino, f) in &m.held {
        assert_eq!(read_ino(fs, ino), m.files[&f], "{ctx}: held file {f}");
        assert_eq!(fs.stat(ino).unwrap().nlink, m.links(f) as u64);
        if let Some(&named) = ino_of.get(&f) {
            assert_eq!(named, ino, "{ctx}");
        }
    }
    for dir in DIRS {
        let listed = names(fs, if dir.is_empty() { "/" } else { dir });
        let mut listed: Vec<String> = listed
            .into_iter()
            .filter(|n| !n.starts_with('d') || n == "dd")
            .collect();
        listed.sort();
        let expected: Vec<String> = m
            .paths
            .keys()
            .filter_map(|p| p.strip_prefix(&format!("{dir}/")))
            .filter(|rest| !rest.contains('/'))
            .map(String::from)
            .collect();
        assert_eq!(listed, expected, "{ctx}: listing of {dir:?}");
    }
    // The root, the two directories, and one inode per live file.
    assert_eq!(fs.inode_count(), 3 + m.files.len(), "{ctx}: inodes alive");
    let pages: u64 = m
        .files
        .values()
        .map(|c| {
            // Pages written: every page some write touched and truncation kept; at most the
            // pages the size spans.
            c.len().div_ceil(4096) as u64
        })
        .sum();
    assert!(fs.used_bytes() <= pages * 4096, "{ctx}: no leaked pages");
}

#[test]
fn random_operations_match_the_model() {
    for seed in SEEDS {
        run(seed);
    }
}
