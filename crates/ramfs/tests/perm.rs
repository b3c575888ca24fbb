//! Permissions: the read/write/execute/search matrix for root, the owner, a group member (through
//! a supplementary group) and others, checked through the calls that use it; `access`, `chmod`,
//! `chown` and `utimensat` with their own rules.

mod common;

use common::*;
use k42_ramfs::{Access, Credentials, Errno, Fs, Timespec, UtimeArg, may};

const OWNER: u32 = 1000;
const GROUP: u32 = 100;

fn owner() -> Credentials {
    Credentials::user(OWNER, OWNER, &[])
}
/// In the file's group only through a supplementary group.
fn member() -> Credentials {
    Credentials::user(2000, 2000, &[7, GROUP])
}
fn other() -> Credentials {
    Credentials::user(3000, 3000, &[7])
}

/// Who is asking, and what the answer should be for a mode: an independent, table-shaped
/// statement of the rule (class bits, then root's overrides).
fn expected(who: &str, mode: u32, want: u32, is_dir: bool) -> bool {
    let class = match who {
        "owner" => (mode >> 6) & 7,
        "member" => (mode >> 3) & 7,
        "other" => mode & 7,
        "root" => {
            let any_x = mode & 0o111 != 0;
            return is_dir || want & 1 == 0 || any_x;
        }
        _ => unreachable!(),
    };
    class & want == want
}

fn creds(who: &str) -> Credentials {
    match who {
        "root" => root(),
        "owner" => owner(),
        "member" => member(),
        "other" => other(),
        _ => unreachable!(),
    }
}

const WHO: [&str; 4] = ["root", "owner", "member", "other"];

#[test]
fn spot_checks() {
    let reg = S_IFREG;
    let dir = S_IFDIR;
    let cases: &[(&str, u32, Access, bool)] = &[
        ("owner", reg | 0o600, Access::READ | Access::WRITE, true),
        ("owner", reg | 0o066, Access::READ, false),
        ("member", reg | 0o640, Access::READ, true),
        ("member", reg | 0o604, Access::READ, false),
        ("other", reg | 0o604, Access::READ, true),
        ("other", reg | 0o640, Access::READ, false),
        ("root", reg, Access::READ | Access::WRITE, true),
        ("root", reg, Access::EXEC, false),
        ("root", reg | 0o010, Access::EXEC, true),
        ("root", dir, Access::EXEC | Access::WRITE, true),
        ("owner", dir | 0o600, Access::EXEC, false),
        ("member", dir | 0o710, Access::EXEC, true),
    ];
    for &(who, mode, want, ok) in cases {
        let got = may(&creds(who), mode, OWNER, GROUP, want);
        assert_eq!(got.is_ok(), ok, "{who} {mode:o} {want:?}");
        if !ok {
            assert_eq!(got, Err(Errno::EACCES));
        }
    }
}

#[test]
fn read_write_exec_matrix_through_the_calls() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/d", 0o755);
    // Every permission combination of the nine bits, step 0o1 for owner-relevant ones would be
    // 512 files; all of them are cheap.
    for mode in 0..0o1000u32 {
        let path = format!("/d/f{mode:o}");
        let ino = file_as(&mut fs, &path, mode, OWNER, GROUP, b"data");
        for who in WHO {
            let cred = creds(who);
            let r = try_open(&mut fs, &cred, &path, O_RDONLY).is_ok();
            let w = try_open(&mut fs, &cred, &path, O_WRONLY).is_ok();
            let rw = try_open(&mut fs, &cred, &path, O_RDWR).is_ok();
            let x = fs.access(&cred, ino, X_OK).is_ok();
            assert_eq!(r, expected(who, mode, 4, false), "{who} read {mode:o}");
            assert_eq!(w, expected(who, mode, 2, false), "{who} write {mode:o}");
            assert_eq!(rw, expected(who, mode, 6, false), "{who} rdwr {mode:o}");
            assert_eq!(x, expected(who, mode, 1, false), "{who} exec {mode:o}");
            if !r {
                assert_eq!(
                    try_open(&mut fs, &cred, &path, O_RDONLY),
                    Err(Errno::EACCES)
                );
            }
        }
    }
}

#[test]
fn search_list_and_create_matrix_on_directories() {
    let mut fs = new_fs();
    for mode in 0..0o1000u32 {
        let path = format!("/d{mode:o}");
        mkdir_as(&mut fs, &path, mode, OWNER, GROUP);
        file(&mut fs, &format!("{path}/f"), 0o644, b"");
        for who in WHO {
            let cred = creds(who);
            let search = lookup(&fs, &cred, &format!("{path}/f")).is_ok();
            let list = try_open(&mut fs, &cred, &path, O_RDONLY | O_DIRECTORY).is_ok();
            let create = try_open(&mut fs, &cred, &format!("{path}/new"), O_CREAT | O_WRONLY);
            assert_eq!(
                search,
                expected(who, mode, 1, true),
                "{who} search {mode:o}"
            );
            assert_eq!(list, expected(who, mode, 4, true), "{who} list {mode:o}");
            let may_create = expected(who, mode, 3, true);
            assert_eq!(
                create.is_ok(),
                may_create,
                "{who} create {mode:o}: {create:?}"
            );
            if may_create {
                fs.unlink(&root(), fs.root(), format!("{path}/new").as_bytes(), T0)
                    .unwrap();
            } else {
                // Without search permission the walk refuses; without write, may_create does.
                assert_eq!(create, Err(Errno::EACCES));
            }
        }
    }
}

#[test]
fn access_call() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o750, OWNER, GROUP, b"");
    let d = mkdir_as(&mut fs, "/d", 0o700, OWNER, GROUP);
    assert_eq!(fs.access(&other(), f, F_OK), Ok(()));
    assert_eq!(fs.access(&other(), f, R_OK), Err(Errno::EACCES));
    assert_eq!(fs.access(&member(), f, R_OK | X_OK), Ok(()));
    assert_eq!(fs.access(&member(), f, W_OK), Err(Errno::EACCES));
    assert_eq!(fs.access(&owner(), f, R_OK | W_OK | X_OK), Ok(()));
    assert_eq!(fs.access(&root(), f, X_OK), Ok(()));
    assert_eq!(fs.access(&root(), d, R_OK | W_OK | X_OK), Ok(()));
    assert_eq!(fs.access(&owner(), f, 8), Err(Errno::EINVAL));
    let noexec = file(&mut fs, "/noexec", 0o666, b"");
    assert_eq!(fs.access(&root(), noexec, X_OK), Err(Errno::EACCES));
    assert_eq!(fs.access(&root(), noexec, R_OK | W_OK), Ok(()));
}

#[test]
fn chmod_rules() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o644, OWNER, GROUP, b"");
    assert_eq!(fs.chmod(&other(), f, 0o777, T1), Err(Errno::EPERM));
    assert_eq!(fs.chmod(&member(), f, 0o777, T1), Err(Errno::EPERM));
    assert_eq!(fs.chmod(&owner(), f, 0o4751, T1), Ok(()));
    let st = fs.stat(f).unwrap();
    assert_eq!((st.mode, st.ctime), (S_IFREG | 0o4751, T1));
    // The owner is not in group 100: set-group-ID is silently dropped.
    assert_eq!(fs.chmod(&owner(), f, 0o2755, T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().mode, S_IFREG | 0o0755);
    // An owner who is in the group keeps it; so does root.
    let in_group = Credentials::user(OWNER, 5, &[GROUP]);
    assert_eq!(fs.chmod(&in_group, f, 0o2755, T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().mode, S_IFREG | 0o2755);
    assert_eq!(fs.chmod(&root(), f, 0o7777, T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().mode, S_IFREG | 0o7777);
    // Type bits in the argument are ignored.
    assert_eq!(fs.chmod(&root(), f, S_IFDIR | 0o600, T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().mode, S_IFREG | 0o600);
    // A symlink itself cannot be chmodded.
    let l = symlink(&mut fs, "/f", "/l");
    assert_eq!(fs.chmod(&root(), l, 0o600, T1), Err(Errno::EOPNOTSUPP));
}

#[test]
fn chown_rules() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o644, OWNER, GROUP, b"");
    let in_groups = Credentials::user(OWNER, OWNER, &[55]);
    // Only root gives a file away.
    assert_eq!(
        fs.chown(&owner(), f, Some(2000), None, T1),
        Err(Errno::EPERM)
    );
    assert_eq!(
        fs.chown(&other(), f, None, Some(3000), T1),
        Err(Errno::EPERM)
    );
    // The owner may "change" the owner to itself, and the group to one of its groups.
    assert_eq!(fs.chown(&owner(), f, Some(OWNER), None, T1), Ok(()));
    assert_eq!(fs.chown(&owner(), f, None, Some(OWNER), T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().gid, OWNER);
    assert_eq!(fs.chown(&owner(), f, None, Some(55), T1), Err(Errno::EPERM));
    assert_eq!(fs.chown(&in_groups, f, None, Some(55), T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().gid, 55);
    // Nobody else, but -1/-1 on an ordinary file is allowed and only stamps ctime.
    assert_eq!(fs.chown(&other(), f, None, None, T2), Ok(()));
    assert_eq!(fs.stat(f).unwrap().ctime, T2);
    assert_eq!(fs.chown(&root(), f, Some(7), Some(8), T1), Ok(()));
    let st = fs.stat(f).unwrap();
    assert_eq!((st.uid, st.gid), (7, 8));
}

#[test]
fn chown_clears_set_id_bits_on_non_directories() {
    let mut fs = new_fs();
    // Group-executable set-group-ID: both bits go, even for root.
    let f = file_as(&mut fs, "/f", 0o6755, OWNER, GROUP, b"");
    assert_eq!(fs.chown(&root(), f, Some(OWNER), None, T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().mode, S_IFREG | 0o0755);
    // Set-group-ID without group-execute (mandatory locking) stays for root.
    let g = file_as(&mut fs, "/g", 0o6744, OWNER, GROUP, b"");
    assert_eq!(fs.chown(&root(), g, None, Some(GROUP), T1), Ok(()));
    assert_eq!(fs.stat(g).unwrap().mode, S_IFREG | 0o2744);
    // ...and goes for an owner outside the group.
    assert_eq!(fs.chown(&owner(), g, None, None, T1), Ok(()));
    assert_eq!(fs.stat(g).unwrap().mode, S_IFREG | 0o0744);
    // Clearing bits is a mode change: a stranger's -1/-1 on a set-user-ID file is EPERM.
    let h = file_as(&mut fs, "/h", 0o4755, OWNER, GROUP, b"");
    assert_eq!(fs.chown(&other(), h, None, None, T1), Err(Errno::EPERM));
    assert_eq!(fs.stat(h).unwrap().mode, S_IFREG | 0o4755);
    // Directories keep theirs.
    let d = mkdir_as(&mut fs, "/d", 0o2775, OWNER, GROUP);
    assert_eq!(fs.chown(&root(), d, Some(5), Some(5), T1), Ok(()));
    assert_eq!(fs.stat(d).unwrap().mode, S_IFDIR | 0o2775);
}

#[test]
fn utimens_rules() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o666, OWNER, GROUP, b"");
    let ro = file_as(&mut fs, "/ro", 0o644, OWNER, GROUP, b"");
    let t = Timespec::new(42, 7);
    let set = Some([UtimeArg::Set(t), UtimeArg::Set(t)]);
    // Explicit times: owner or root only.
    assert_eq!(fs.utimens(&other(), f, set, T1), Err(Errno::EPERM));
    assert_eq!(fs.utimens(&owner(), f, set, T1), Ok(()));
    let st = fs.stat(f).unwrap();
    assert_eq!((st.atime, st.mtime, st.ctime), (t, t, T1));
    assert_eq!(fs.utimens(&root(), ro, set, T1), Ok(()));
    // "Now": write permission suffices.
    assert_eq!(fs.utimens(&other(), f, None, T2), Ok(()));
    let st = fs.stat(f).unwrap();
    assert_eq!((st.atime, st.mtime, st.ctime), (T2, T2, T2));
    let both_now = Some([UtimeArg::Now, UtimeArg::Now]);
    assert_eq!(fs.utimens(&other(), f, both_now, T2), Ok(()));
    assert_eq!(fs.utimens(&other(), ro, None, T2), Err(Errno::EACCES));
    assert_eq!(fs.utimens(&owner(), ro, None, T2), Ok(()));
    // One "now" with one "omit" counts as explicit.
    let half = Some([UtimeArg::Now, UtimeArg::Omit]);
    assert_eq!(fs.utimens(&other(), f, half, T2), Err(Errno::EPERM));
    assert_eq!(
        fs.utimens(&owner(), f, Some([UtimeArg::Omit, UtimeArg::Set(t)]), T1),
        Ok(())
    );
    let st = fs.stat(f).unwrap();
    assert_eq!((st.atime, st.mtime, st.ctime), (T2, t, T1));
    // Both omitted: nothing at all, for anyone.
    let omit = Some([UtimeArg::Omit, UtimeArg::Omit]);
    let before = fs.stat(ro).unwrap();
    assert_eq!(
        fs.utimens(&other(), ro, omit, Timespec::new(9_999, 0)),
        Ok(())
    );
    assert_eq!(fs.stat(ro).unwrap(), before);
}

#[test]
fn root_may_do_anything_but_exec_without_x() {
    let mut fs: Fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o000, OWNER, GROUP, b"x");
    mkdir_as(&mut fs, "/d", 0o000, OWNER, GROUP);
    let r = root();
    assert_eq!(try_open(&mut fs, &r, "/f", O_RDWR), Ok(()));
    assert_eq!(fs.access(&r, f, X_OK), Err(Errno::EACCES));
    assert_eq!(try_open(&mut fs, &r, "/d/new", O_CREAT | O_RDWR), Ok(()));
    assert_eq!(fs.chmod(&r, f, 0o644, T1), Ok(()));
    assert_eq!(fs.chown(&r, f, Some(1), Some(1), T1), Ok(()));
}
