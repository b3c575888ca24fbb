//! Path names as the personality resolves them: lexical normalization against the working
//! directory, symlink resolution component by component with Linux's hop limit, and `execvp`'s
//! `PATH` search.
//!
//! The file system itself is not here: [`follow`] asks a closure whether a path is a symlink (and
//! what it points to), so the same walk serves the initramfs tree, a file server, and the tests'
//! in-memory models. Linux resolves paths *physically*: `..` after a symlink leaves the link's
//! target, not the directory holding the link, so [`resolve`] (purely lexical, like `realpath -s`)
//! is right only for paths already free of symlinks, such as the working directory the
//! personality stores. Everything the program names goes through [`join`] and then [`follow`] or
//! [`follow_parents`].
//!
//! Limits are Linux's: a path (with its NUL) fits in `PATH_MAX` bytes and a component in
//! `NAME_MAX` (`ENAMETOOLONG` otherwise; both from linux-raw-sys), an empty path is `ENOENT`, and
//! more than [`MAXSYMLINKS`] symlinks in one walk is `ELOOP`.

use alloc::string::String;
use alloc::vec::Vec;

use linux_raw_sys::general::{NAME_MAX, PATH_MAX};

use crate::errno::Errno;

/// The most symlinks one path walk follows; the next one is `ELOOP`. Linux's `MAXSYMLINKS`
/// (`include/linux/namei.h`, kernel-internal, so not in linux-raw-sys).
pub const MAXSYMLINKS: u32 = 40;

/// The search path `execvp` uses when the environment has no `PATH` (musl's default).
pub const DEFAULT_PATH: &str = "/usr/local/bin:/bin:/usr/bin";

/// Refuses what Linux's `getname` refuses: an empty path (`ENOENT`) or one that does not fit in
/// `PATH_MAX` bytes with its NUL (`ENAMETOOLONG`).
fn check_len(path: &str) -> Result<(), Errno> {
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() >= PATH_MAX as usize {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

/// Refuses a component longer than `NAME_MAX`, as every Linux file system's lookup does.
fn check_component(c: &str) -> Result<(), Errno> {
    if c.len() > NAME_MAX as usize {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(())
    }
}

/// `/` followed by the components joined with `/`; `ENAMETOOLONG` if that does not fit in
/// `PATH_MAX`.
fn assemble<S: AsRef<str>>(components: &[S]) -> Result<String, Errno> {
    let mut out = String::from("/");
    for (i, c) in components.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(c.as_ref());
    }
    if out.len() >= PATH_MAX as usize {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(out)
}

/// Applies one component to a stack of normalized components: `.` and empty ones vanish, `..`
/// drops the last one (and stays at `/` at the root), anything else is pushed.
fn apply<'a>(stack: &mut Vec<&'a str>, c: &'a str) -> Result<(), Errno> {
    match c {
        "" | "." => {}
        ".." => {
            stack.pop();
        }
        name => {
            check_component(name)?;
            stack.push(name);
        }
    }
    Ok(())
}

/// Whether `path` is absolute and already normal — `/`, or names each separated by one slash,
/// none `.`, `..` or longer than `NAME_MAX`, no trailing slash — so that [`resolve`] answers it
/// unchanged (the common case of an open: no stack of components to build).
fn is_normal_absolute(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    rest.is_empty()
        || rest
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && c.len() <= NAME_MAX as usize)
}

/// `path` made absolute against `cwd` and normalized lexically: duplicate slashes, `.` and `..`
/// removed (`..` at `/` stays at `/`), no trailing slash. Symlinks are not consulted, so this is
/// Linux's answer only when no component is a symlink (use [`follow`] otherwise).
///
/// `cwd` is an absolute path (a relative one is taken from `/`); it is normalized too.
/// Errors: `ENOENT` for an empty `path`, `ENAMETOOLONG` if `path` or the result does not fit in
/// `PATH_MAX` or a component is longer than `NAME_MAX`.
pub fn resolve(cwd: &str, path: &str) -> Result<String, Errno> {
    check_len(path)?;
    if is_normal_absolute(path) {
        // What the components would be put back together as (and it fits: checked above).
        return Ok(String::from(path));
    }
    let mut stack = Vec::new();
    if !path.starts_with('/') {
        for c in cwd.split('/') {
            apply(&mut stack, c)?;
        }
    }
    for c in path.split('/') {
        apply(&mut stack, c)?;
    }
    assemble(&stack)
}

/// `path` made absolute against `cwd` *without* normalizing it (`cwd/path`, or `path` itself if
/// it is absolute), ready for [`follow`], which must see the `..` components to apply them after
/// the symlinks before them. `ENOENT` for an empty path, `ENAMETOOLONG` past `PATH_MAX`.
pub fn join(cwd: &str, path: &str) -> Result<String, Errno> {
    check_len(path)?;
    if path.starts_with('/') {
        return Ok(String::from(path));
    }
    let mut out = String::with_capacity(cwd.len() + 1 + path.len());
    if !cwd.starts_with('/') {
        out.push('/');
    }
    out.push_str(cwd);
    if !out.ends_with('/') {
        out.push('/');
    }
    out.push_str(path);
    if out.len() >= PATH_MAX as usize {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(out)
}

/// Pushes the components of `path` onto the to-do stack so that the first is popped first. A
/// trailing slash becomes a final `.`, so the component before it is not the last one and a
/// symlink there is followed even by [`follow_parents`], as Linux does for `lstat("link/")`.
fn push_pending(todo: &mut Vec<String>, path: &str) {
    if path.ends_with('/') && path.len() > 1 {
        todo.push(String::from("."));
    }
    for c in path.split('/').rev() {
        if !c.is_empty() {
            todo.push(String::from(c));
        }
    }
}

/// The walk behind [`follow`] and [`follow_parents`].
fn walk<F>(path: &str, mut read_link: F, max_hops: u32, follow_last: bool) -> Result<String, Errno>
where
    F: FnMut(&str) -> Result<Option<String>, Errno>,
{
    check_len(path)?;
    if !path.starts_with('/') {
        return Err(Errno::EINVAL);
    }
    // `done`: the physical components resolved so far (no symlinks among them). `todo`: what is
    // left, as a stack whose top is the next component.
    let mut done: Vec<String> = Vec::new();
    let mut todo: Vec<String> = Vec::new();
    push_pending(&mut todo, path);
    let mut hops = 0u32;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        check_component(&c)?;
        done.push(c);
        if !follow_last && todo.is_empty() {
            break;
        }
        let candidate = assemble(&done)?;
        let Some(target) = read_link(&candidate)? else {
            continue;
        };
        // A symlink: replace it by its target, relative to the directory holding it.
        done.pop();
        hops += 1;
        if hops > max_hops {
            return Err(Errno::ELOOP);
        }
        check_len(&target)?;
        if target.starts_with('/') {
            done.clear();
        }
        push_pending(&mut todo, &target);
    }
    assemble(&done)
}

/// The physical path `path` names, with every symlink resolved, the last component's too (as
/// `stat` and `open` without `O_NOFOLLOW` see it).
///
/// `path` is absolute (make it so with [`join`]; a relative one is `EINVAL`) and may hold `.`,
/// `..` and duplicate slashes. Components are resolved from the left: for each, `read_link` gets
/// the absolute, symlink-free path of that component and answers `Ok(Some(target))` for a
/// symlink, `Ok(None)` for anything else, or an error (`ENOENT`, `ENOTDIR`, `EACCES`…) which ends
/// the walk and is returned as is. A relative target continues from the link's directory, an
/// absolute one from `/`; `..` applies to the physical path built so far. Following more than
/// `max_hops` symlinks (Linux: [`MAXSYMLINKS`]) is `ELOOP`, an empty target `ENOENT`, and any path
/// or component over Linux's limits `ENAMETOOLONG`.
pub fn follow<F>(path: &str, read_link: F, max_hops: u32) -> Result<String, Errno>
where
    F: FnMut(&str) -> Result<Option<String>, Errno>,
{
    walk(path, read_link, max_hops, true)
}

/// Like [`follow`], but the last component is not followed if it is a symlink (as `lstat`,
/// `readlink`, `unlink`, `rename`, `symlink` and `O_NOFOLLOW` see it): the result is the
/// symlink-free directory joined with the last component as named. A trailing slash makes the last
/// component a directory lookup, which follows it, as Linux does. `..` or `.` as the last
/// component is applied.
pub fn follow_parents<F>(path: &str, read_link: F, max_hops: u32) -> Result<String, Errno>
where
    F: FnMut(&str) -> Result<Option<String>, Errno>,
{
    walk(path, read_link, max_hops, false)
}

/// The file `execvp` would run for `name`: a name holding a `/` is used as it is; otherwise each
/// directory of the colon-separated `path_var` in turn (an empty entry meaning the working
/// directory, giving `name` itself), answering the first candidate for which `exists` is true.
/// `None` for an empty name or when no candidate exists; candidates too long for `PATH_MAX` are
/// skipped. Pass [`DEFAULT_PATH`] when the environment has no `PATH`.
pub fn search_path(
    name: &str,
    path_var: &str,
    mut exists: impl FnMut(&str) -> bool,
) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        return Some(String::from(name));
    }
    for dir in path_var.split(':') {
        let mut candidate = String::with_capacity(dir.len() + 1 + name.len());
        if !dir.is_empty() {
            candidate.push_str(dir);
            if !dir.ends_with('/') {
                candidate.push('/');
            }
        }
        candidate.push_str(name);
        if candidate.len() >= PATH_MAX as usize {
            continue;
        }
        if exists(&candidate) {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::collections::BTreeMap;
    use std::format;
    use std::string::ToString;
    use std::vec;

    use super::*;

    /// An in-memory tree: every existing path, with `Some(target)` for a symlink. A path not in it
    /// does not exist (`ENOENT`).
    struct Fs(BTreeMap<String, Option<String>>);

    impl Fs {
        fn new(entries: &[(&str, Option<&str>)]) -> Fs {
            let mut map = BTreeMap::new();
            map.insert("/".to_string(), None);
            for &(p, t) in entries {
                map.insert(p.to_string(), t.map(str::to_string));
            }
            Fs(map)
        }

        fn read_link(&self) -> impl FnMut(&str) -> Result<Option<String>, Errno> + '_ {
            |p| self.0.get(p).cloned().ok_or(Errno::ENOENT)
        }

        fn follow(&self, path: &str) -> Result<String, Errno> {
            follow(path, self.read_link(), MAXSYMLINKS)
        }

        fn follow_parents(&self, path: &str) -> Result<String, Errno> {
            follow_parents(path, self.read_link(), MAXSYMLINKS)
        }
    }

    /// Debian's busybox-static layout: applets are relative links to `busybox`, `/usr/bin`'s
    /// climb back up, and a merged-usr `/lib`.
    fn busybox() -> Fs {
        Fs::new(&[
            ("/bin", None),
            ("/bin/busybox", None),
            ("/bin/sh", Some("busybox")),
            ("/bin/ls", Some("./busybox")),
            ("/usr", None),
            ("/usr/bin", None),
            ("/usr/bin/env", Some("../../bin/busybox")),
            ("/usr/lib", None),
            ("/usr/lib/libc.so", None),
            ("/usr/etc", None),
            ("/lib", Some("usr/lib")),
            ("/etc", None),
            ("/etc/alt", Some("/bin/sh")),
            ("/tmp", None),
        ])
    }

    #[test]
    fn resolve_normalizes() {
        let cases = [
            ("/", "a", "/a"),
            ("/home/u", "a/b", "/home/u/a/b"),
            ("/home/u", "/etc//passwd", "/etc/passwd"),
            ("/home/u", ".", "/home/u"),
            ("/home/u", "..", "/home"),
            ("/home/u", "../../../..", "/"),
            ("/home/u", "./a/./b/../c/", "/home/u/a/c"),
            ("/", "//", "/"),
            ("/a/./b/../c", "d", "/a/c/d"),
            ("relative", "x", "/relative/x"),
            ("/", "/..", "/"),
            ("/", "...", "/..."),
        ];
        for (cwd, path, want) in cases {
            assert_eq!(resolve(cwd, path).as_deref(), Ok(want), "{cwd} + {path}");
        }
    }

    #[test]
    fn a_normal_absolute_path_resolves_to_itself_and_only_then() {
        let long = "n".repeat(NAME_MAX as usize + 1);
        for path in [
            "/",
            "/a",
            "/a/b",
            "/tmp/x.dat",
            "/..",
            "/.",
            "//",
            "/a/",
            "/a//b",
            "/a/./b",
            "/a/../b",
            "/a/.",
            "/.a/b..",
            "a",
            "./a",
            "",
        ] {
            let normal = is_normal_absolute(path);
            let resolved = resolve("/cwd", path);
            assert_eq!(
                normal,
                resolved.as_deref() == Ok(path),
                "{path:?} resolves to {resolved:?}"
            );
        }
        let too_long = format!("/{long}");
        assert!(!is_normal_absolute(&too_long));
        assert_eq!(resolve("/", &too_long), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn resolve_limits() {
        assert_eq!(resolve("/", ""), Err(Errno::ENOENT));
        let long = "a/".repeat(PATH_MAX as usize / 2);
        assert_eq!(resolve("/", &long), Err(Errno::ENAMETOOLONG));
        // PATH_MAX - 1 bytes plus the NUL fits.
        let fits = format!("/{}", "a/".repeat((PATH_MAX as usize - 2) / 2));
        assert!(fits.len() < PATH_MAX as usize);
        assert!(resolve("/", &fits).is_ok());
        let component = "x".repeat(NAME_MAX as usize);
        assert!(resolve("/", &component).is_ok());
        let component = "x".repeat(NAME_MAX as usize + 1);
        assert_eq!(resolve("/", &component), Err(Errno::ENAMETOOLONG));
        // A short path under a long working directory can still be too long as a whole.
        let cwd = format!("/{}", vec!["y".repeat(200); 21].join("/"));
        assert_eq!(resolve(&cwd, "zz"), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn join_keeps_dots() {
        assert_eq!(join("/home/u", "../x").as_deref(), Ok("/home/u/../x"));
        assert_eq!(join("/", "x").as_deref(), Ok("/x"));
        assert_eq!(join("/home/u/", "x").as_deref(), Ok("/home/u/x"));
        assert_eq!(join("/home/u", "/abs").as_deref(), Ok("/abs"));
        assert_eq!(join("/", ""), Err(Errno::ENOENT));
        let cwd = format!("/{}", "c".repeat(PATH_MAX as usize - 3));
        assert_eq!(join(&cwd, "xy"), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn busybox_applet_links() {
        let fs = busybox();
        assert_eq!(fs.follow("/bin/sh").as_deref(), Ok("/bin/busybox"));
        assert_eq!(fs.follow("/bin/ls").as_deref(), Ok("/bin/busybox"));
        assert_eq!(fs.follow("/usr/bin/env").as_deref(), Ok("/bin/busybox"));
        assert_eq!(
            fs.follow("/etc/alt").as_deref(),
            Ok("/bin/busybox"),
            "absolute then relative"
        );
        assert_eq!(fs.follow("/bin/busybox").as_deref(), Ok("/bin/busybox"));
        assert_eq!(fs.follow("//bin/./sh").as_deref(), Ok("/bin/busybox"));
        // Not following the last component: the link itself.
        assert_eq!(fs.follow_parents("/bin/sh").as_deref(), Ok("/bin/sh"));
        assert_eq!(
            fs.follow_parents("/lib/libc.so").as_deref(),
            Ok("/usr/lib/libc.so")
        );
        assert_eq!(fs.follow_parents("/lib").as_deref(), Ok("/lib"));
        assert_eq!(
            fs.follow_parents("/lib/").as_deref(),
            Ok("/usr/lib"),
            "trailing slash follows"
        );
        assert_eq!(fs.follow_parents("/lib/..").as_deref(), Ok("/usr"));
    }

    #[test]
    fn dotdot_after_a_symlink_is_physical() {
        let fs = busybox();
        // /lib -> usr/lib, so /lib/.. is /usr, not / as lexical normalization says.
        assert_eq!(fs.follow("/lib/..").as_deref(), Ok("/usr"));
        assert_eq!(fs.follow("/lib/../etc").as_deref(), Ok("/usr/etc"));
        assert_eq!(resolve("/", "/lib/../etc").as_deref(), Ok("/etc"));
        assert_eq!(fs.follow("/lib/libc.so").as_deref(), Ok("/usr/lib/libc.so"));
        assert_eq!(
            fs.follow(&join("/lib", "../lib/libc.so").unwrap())
                .as_deref(),
            Ok("/usr/lib/libc.so")
        );
        // `..` at the root stays there, also through a link.
        assert_eq!(fs.follow("/../../bin/sh").as_deref(), Ok("/bin/busybox"));
    }

    #[test]
    fn errors_from_the_lookup_propagate() {
        let fs = busybox();
        assert_eq!(fs.follow("/nope"), Err(Errno::ENOENT));
        assert_eq!(fs.follow("/lib/nope"), Err(Errno::ENOENT));
        let mut notdir = |p: &str| {
            if p == "/f" {
                Err(Errno::ENOTDIR)
            } else {
                Ok(None)
            }
        };
        assert_eq!(
            follow("/f/x", &mut notdir, MAXSYMLINKS),
            Err(Errno::ENOTDIR)
        );
        assert_eq!(
            follow("relative", &mut notdir, MAXSYMLINKS),
            Err(Errno::EINVAL)
        );
        assert_eq!(follow("", &mut notdir, MAXSYMLINKS), Err(Errno::ENOENT));
        let empty = Fs::new(&[("/e", Some(""))]);
        assert_eq!(empty.follow("/e"), Err(Errno::ENOENT));
        let long = format!("/{}", "n".repeat(NAME_MAX as usize + 1));
        assert_eq!(
            follow(&long, |_: &str| Ok(None), MAXSYMLINKS),
            Err(Errno::ENAMETOOLONG)
        );
    }

    #[test]
    fn lookups_see_symlink_free_prefixes() {
        let fs = busybox();
        let mut asked = vec![];
        let mut read_link = |p: &str| {
            asked.push(p.to_string());
            fs.0.get(p).cloned().ok_or(Errno::ENOENT)
        };
        assert_eq!(
            follow("/lib/libc.so", &mut read_link, MAXSYMLINKS).as_deref(),
            Ok("/usr/lib/libc.so")
        );
        assert_eq!(asked, ["/lib", "/usr", "/usr/lib", "/usr/lib/libc.so"]);
    }

    #[test]
    fn loops_end_in_eloop() {
        let fs = Fs::new(&[
            ("/self", Some("self")),
            ("/a", Some("/b")),
            ("/b", Some("a")),
            ("/d", None),
            ("/d/up", Some("../d/up")),
        ]);
        assert_eq!(fs.follow("/self"), Err(Errno::ELOOP));
        assert_eq!(fs.follow("/a"), Err(Errno::ELOOP));
        assert_eq!(fs.follow("/d/up/x"), Err(Errno::ELOOP));
        // Not following the last component never loops.
        assert_eq!(fs.follow_parents("/self").as_deref(), Ok("/self"));
        assert_eq!(fs.follow_parents("/a/"), Err(Errno::ELOOP));
    }

    #[test]
    fn forty_hops_and_no_more() {
        // /l0 -> l1 -> ... -> l{n-1} -> /target: n hops.
        let chain = |n: usize| {
            let mut entries: Vec<(String, Option<String>)> = (0..n)
                .map(|i| {
                    let next = if i + 1 == n {
                        "/target".to_string()
                    } else {
                        format!("l{}", i + 1)
                    };
                    (format!("/l{i}"), Some(next))
                })
                .collect();
            entries.push(("/target".to_string(), None));
            let refs: Vec<(&str, Option<&str>)> = entries
                .iter()
                .map(|(p, t)| (p.as_str(), t.as_deref()))
                .collect();
            Fs::new(&refs)
        };
        assert_eq!(
            chain(MAXSYMLINKS as usize).follow("/l0").as_deref(),
            Ok("/target")
        );
        assert_eq!(
            chain(MAXSYMLINKS as usize + 1).follow("/l0"),
            Err(Errno::ELOOP)
        );
        // The budget is for the whole walk, not per component.
        let fs = chain(25);
        let twice = "/l0/../l0";
        assert_eq!(fs.follow("/l0").as_deref(), Ok("/target"));
        assert_eq!(
            follow(twice, fs.read_link(), MAXSYMLINKS),
            Err(Errno::ELOOP),
            "25 + 25 hops"
        );
        assert_eq!(follow(twice, fs.read_link(), 50).as_deref(), Ok("/target"));
        assert_eq!(follow("/l0", fs.read_link(), 0), Err(Errno::ELOOP));
    }

    #[test]
    fn search_path_like_execvp() {
        let fs = busybox();
        let exists = |p: &str| fs.follow(p).is_ok();
        assert_eq!(
            search_path("sh", "/usr/bin:/bin", exists).as_deref(),
            Some("/bin/sh")
        );
        assert_eq!(
            search_path("env", "/usr/bin:/bin", exists).as_deref(),
            Some("/usr/bin/env")
        );
        assert_eq!(
            search_path("env", "/bin/:/usr/bin/", exists).as_deref(),
            Some("/usr/bin/env")
        );
        assert_eq!(search_path("nope", DEFAULT_PATH, exists), None);
        assert_eq!(
            search_path("./x", "/bin", |_| false).as_deref(),
            Some("./x"),
            "slash: as is"
        );
        assert_eq!(
            search_path("a/b", "/bin", |_| false).as_deref(),
            Some("a/b")
        );
        assert_eq!(search_path("", "/bin", |_| true), None);
        // An empty entry (leading, trailing or doubled colon) is the working directory.
        assert_eq!(
            search_path("x", ":/bin", |p| p == "x").as_deref(),
            Some("x")
        );
        assert_eq!(
            search_path("x", "/bin::/usr", |p| p == "x").as_deref(),
            Some("x")
        );
        let mut tried = vec![];
        let _ = search_path("x", "/a:/b:", |p| {
            tried.push(p.to_string());
            false
        });
        assert_eq!(tried, ["/a/x", "/b/x", "x"]);
        let long = format!("/{}", "d".repeat(PATH_MAX as usize));
        assert_eq!(
            search_path("x", &format!("{long}:/bin"), |_| true).as_deref(),
            Some("/bin/x")
        );
    }
}
