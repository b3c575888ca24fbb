//! Host tests of `creds.rs`: every rule of the setuid family, privileged and not, against
//! Linux 6.1's `kernel/sys.c` and `kernel/groups.c`; and the tree's record of them (fork
//! inherits, exec resets the saved ids, kill compares the saved ids).

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::creds::{self, Creds, Family, IdChange, IdSet, NGROUPS_MAX, UNCHANGED};
use crate::{INIT_PID, Tree, may_signal};

const N: u32 = UNCHANGED;

/// A set with real, effective, saved and filesystem ids.
const fn set(real: u32, effective: u32, saved: u32, fs: u32) -> IdSet {
    IdSet {
        real,
        effective,
        saved,
        fs,
    }
}

/// `change` on `ids` by an unprivileged process.
fn user(ids: IdSet, change: IdChange) -> Result<IdSet, Errno> {
    ids.change(change, false).map(|(ids, _)| ids)
}

/// `change` on `ids` by a privileged one.
fn root(ids: IdSet, change: IdChange) -> Result<IdSet, Errno> {
    ids.change(change, true).map(|(ids, _)| ids)
}

#[test]
fn setuid_privileged_sets_every_id() {
    let ids = set(0, 0, 0, 0);
    assert_eq!(
        root(ids, IdChange::Set(1000)),
        Ok(set(1000, 1000, 1000, 1000))
    );
    // Even to what it is already, and from a mixed set.
    let mixed = set(5, 0, 7, 8);
    assert_eq!(root(mixed, IdChange::Set(5)), Ok(set(5, 5, 5, 5)));
}

#[test]
fn setuid_unprivileged_sets_only_the_effective_id_to_real_or_saved() {
    let ids = set(1000, 2000, 3000, 2000);
    assert_eq!(
        user(ids, IdChange::Set(1000)),
        Ok(set(1000, 1000, 3000, 1000))
    );
    assert_eq!(
        user(ids, IdChange::Set(3000)),
        Ok(set(1000, 3000, 3000, 3000))
    );
    // The effective id alone is not enough (Linux: real or saved only).
    let other = set(1000, 2000, 1000, 2000);
    assert_eq!(user(other, IdChange::Set(2000)), Err(Errno::EPERM));
    assert_eq!(user(ids, IdChange::Set(4000)), Err(Errno::EPERM));
    assert_eq!(user(ids, IdChange::Set(0)), Err(Errno::EPERM));
}

#[test]
fn setuid_of_no_id_is_einval() {
    assert_eq!(root(set(0, 0, 0, 0), IdChange::Set(N)), Err(Errno::EINVAL));
    assert_eq!(user(set(1, 1, 1, 1), IdChange::Set(N)), Err(Errno::EINVAL));
}

#[test]
fn setreuid_rules() {
    let ids = set(1000, 2000, 3000, 2000);
    // The real id: to the real or effective one, not the saved one.
    assert_eq!(
        user(ids, IdChange::SetRe(2000, N)),
        Ok(set(2000, 2000, 2000, 2000))
    );
    assert_eq!(user(ids, IdChange::SetRe(3000, N)), Err(Errno::EPERM));
    // The effective id: to any of the three.
    assert_eq!(
        user(ids, IdChange::SetRe(N, 3000)),
        Ok(set(1000, 3000, 3000, 3000))
    );
    assert_eq!(user(ids, IdChange::SetRe(N, 4000)), Err(Errno::EPERM));
    // Swapping real and effective: the real one is set, so the saved id follows.
    assert_eq!(
        user(ids, IdChange::SetRe(2000, 1000)),
        Ok(set(2000, 1000, 1000, 1000))
    );
    // The effective id back to the old real one keeps the saved id (how a set-user-ID
    // program drops and regains its privilege).
    assert_eq!(
        user(ids, IdChange::SetRe(N, 1000)),
        Ok(set(1000, 1000, 3000, 1000))
    );
    // Nothing asked: nothing changes but the filesystem id, which follows the effective one.
    let fs_apart = set(1000, 2000, 3000, 5);
    assert_eq!(
        user(fs_apart, IdChange::SetRe(N, N)),
        Ok(set(1000, 2000, 3000, 2000))
    );
    // Root may set anything; the saved id follows the new effective one.
    let r = set(0, 0, 0, 0);
    assert_eq!(
        root(r, IdChange::SetRe(N, 1000)),
        Ok(set(0, 1000, 1000, 1000))
    );
    assert_eq!(root(r, IdChange::SetRe(1000, N)), Ok(set(1000, 0, 0, 0)));
    assert_eq!(root(r, IdChange::SetRe(5, 6)), Ok(set(5, 6, 6, 6)));
    // Either check failing fails the whole call, changing nothing.
    assert_eq!(user(ids, IdChange::SetRe(2000, 4000)), Err(Errno::EPERM));
}

#[test]
fn setresuid_rules() {
    let ids = set(1000, 2000, 3000, 2000);
    // Unprivileged: each to any of the three current ids.
    assert_eq!(
        user(ids, IdChange::SetRes(3000, 1000, 2000)),
        Ok(set(3000, 1000, 2000, 1000))
    );
    assert_eq!(
        user(ids, IdChange::SetRes(N, N, 1000)),
        Ok(set(1000, 2000, 1000, 2000))
    );
    assert_eq!(user(ids, IdChange::SetRes(4000, N, N)), Err(Errno::EPERM));
    assert_eq!(user(ids, IdChange::SetRes(N, 4000, N)), Err(Errno::EPERM));
    assert_eq!(user(ids, IdChange::SetRes(N, N, 4000)), Err(Errno::EPERM));
    // Privileged: anything; root keeps a saved 0 to come back with.
    let r = set(0, 0, 0, 0);
    let dropped = root(r, IdChange::SetRes(1000, 1000, 0)).unwrap();
    assert_eq!(dropped, set(1000, 1000, 0, 1000));
    // No longer privileged, but the saved 0 lets it back.
    assert_eq!(
        user(dropped, IdChange::SetRes(N, 0, N)),
        Ok(set(1000, 0, 0, 0))
    );
    // A no-op is allowed whatever it names, and leaves even the filesystem id alone.
    let fs_apart = set(1000, 2000, 3000, 5);
    assert_eq!(user(fs_apart, IdChange::SetRes(N, N, N)), Ok(fs_apart));
    assert_eq!(
        user(fs_apart, IdChange::SetRes(1000, N, 3000)),
        Ok(fs_apart)
    );
    // Not a no-op when the filesystem id differs from the effective one asked for: the
    // filesystem id follows.
    assert_eq!(
        user(fs_apart, IdChange::SetRes(N, 2000, N)),
        Ok(set(1000, 2000, 3000, 2000))
    );
}

#[test]
fn setfsuid_returns_the_old_id_and_changes_only_when_allowed() {
    let ids = set(1000, 2000, 3000, 2000);
    // To the real, effective, saved or current filesystem id.
    assert_eq!(
        ids.change(IdChange::SetFs(1000), false),
        Ok((set(1000, 2000, 3000, 1000), 2000))
    );
    assert_eq!(
        ids.change(IdChange::SetFs(3000), false),
        Ok((set(1000, 2000, 3000, 3000), 2000))
    );
    // Anything else: refused, silently, with the old id all the same.
    assert_eq!(ids.change(IdChange::SetFs(0), false), Ok((ids, 2000)));
    // Privileged: anything.
    let r = set(0, 0, 0, 0);
    assert_eq!(
        r.change(IdChange::SetFs(77), true),
        Ok((set(0, 0, 0, 77), 0))
    );
    // (uid_t)-1 only asks.
    assert_eq!(ids.change(IdChange::SetFs(N), true), Ok((ids, 2000)));
}

#[test]
fn every_set_makes_the_filesystem_id_follow_the_effective_one() {
    let fs_apart = set(1000, 2000, 3000, 5);
    for change in [
        IdChange::Set(1000),
        IdChange::SetRe(N, 2000),
        IdChange::SetRes(N, 3000, N),
    ] {
        let new = user(fs_apart, change).unwrap();
        assert_eq!(new.fs, new.effective, "{change:?}");
    }
}

#[test]
fn credentials_decide_privilege_by_the_effective_user() {
    let root = Creds::new(0, 0);
    // seteuid(1000): unprivileged, even for its group ids.
    let (c, _) = root
        .change(Family::User, IdChange::SetRes(N, 1000, N))
        .unwrap();
    assert_eq!((c.uid, c.euid, c.suid, c.fsuid), (0, 1000, 0, 1000));
    assert!(!c.privileged());
    assert_eq!(c.change(Family::Group, IdChange::Set(5)), Err(Errno::EPERM));
    // Back to 0, privileged again.
    let (c, _) = c.change(Family::User, IdChange::SetRe(N, 0)).unwrap();
    assert!(c.privileged());
    // A group change leaves the user ids alone, and the other way round.
    let (c, _) = c.change(Family::Group, IdChange::SetRes(1, 2, 3)).unwrap();
    assert_eq!((c.gid, c.egid, c.sgid, c.fsgid), (1, 2, 3, 2));
    assert_eq!((c.uid, c.euid, c.suid, c.fsuid), (0, 0, 0, 0));
    let (c, old) = c.change(Family::Group, IdChange::SetFs(9)).unwrap();
    assert_eq!((old, c.fsgid, c.fsuid), (2, 9, 0));
    // After setuid(1000) by root nothing gets root back.
    let (c, _) = c.change(Family::User, IdChange::Set(1000)).unwrap();
    for back in [
        IdChange::Set(0),
        IdChange::SetRe(0, N),
        IdChange::SetRe(N, 0),
        IdChange::SetRes(N, 0, N),
    ] {
        assert_eq!(c.change(Family::User, back), Err(Errno::EPERM), "{back:?}");
    }
    assert_eq!(c.change(Family::User, IdChange::SetFs(0)), Ok((c, 1000)));
}

#[test]
fn exec_makes_saved_and_filesystem_ids_effective() {
    let c = Creds {
        uid: 1,
        euid: 2,
        suid: 0,
        fsuid: 4,
        gid: 5,
        egid: 6,
        sgid: 7,
        fsgid: 8,
    };
    let e = c.executed();
    assert_eq!((e.uid, e.euid, e.suid, e.fsuid), (1, 2, 2, 2));
    assert_eq!((e.gid, e.egid, e.sgid, e.fsgid), (5, 6, 6, 6));
}

#[test]
fn changes_travel_as_words() {
    for change in [
        IdChange::Set(7),
        IdChange::SetRe(N, 8),
        IdChange::SetRes(1, N, 3),
        IdChange::SetFs(4),
        IdChange::SetFs(N),
    ] {
        let (kind, ids) = change.to_words();
        assert_eq!(IdChange::from_words(kind, ids), Ok(change));
    }
    assert_eq!(IdChange::from_words(9, [0; 3]), Err(Errno::EINVAL));
    assert_eq!(IdChange::from_words(0, [1 << 32, 0, 0]), Err(Errno::EINVAL));
    for family in [Family::User, Family::Group] {
        assert_eq!(Family::from_word(family.to_word()), Ok(family));
    }
    assert_eq!(Family::from_word(2), Err(Errno::EINVAL));
}

#[test]
fn setgroups_rules_in_linux_order() {
    let root = Creds::new(0, 0);
    let user = Creds::new(1000, 1000);
    // Sorted, duplicates kept, as Linux's groups_sort leaves them.
    assert_eq!(
        creds::setgroups(root, 4, Some(&[30, 10, 20, 10]), 512),
        Ok(alloc::vec![10, 10, 20, 30])
    );
    assert_eq!(creds::setgroups(root, 0, Some(&[]), 512), Ok(alloc::vec![]));
    // EPERM first, whatever else is wrong.
    assert_eq!(
        creds::setgroups(user, 1, Some(&[1]), 512),
        Err(Errno::EPERM)
    );
    assert_eq!(
        creds::setgroups(user, NGROUPS_MAX + 1, None, 512),
        Err(Errno::EPERM)
    );
    // Then the count: Linux's limit, and the transport's.
    assert_eq!(
        creds::setgroups(root, NGROUPS_MAX + 1, None, usize::MAX),
        Err(Errno::EINVAL)
    );
    assert_eq!(creds::setgroups(root, 513, None, 512), Err(Errno::EINVAL));
    // Then the list: unreadable, then an invalid id in it.
    assert_eq!(creds::setgroups(root, 2, None, 512), Err(Errno::EFAULT));
    assert_eq!(
        creds::setgroups(root, 2, Some(&[1]), 512),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        creds::setgroups(root, 2, Some(&[1, N]), 512),
        Err(Errno::EINVAL)
    );
}

const A: u64 = 100;
const B: u64 = 101;
const C: u64 = 102;

#[test]
fn the_tree_keeps_changes_and_fork_inherits_them() {
    let mut t = Tree::new();
    let a = t.register(A, INIT_PID, Creds::new(0, 0)).unwrap();
    assert_eq!(t.groups(A, 0), Ok(&[][..]));
    t.set_groups(A, 2, Some(&[9, 4]), 512).unwrap();
    let (c, value) = t
        .change_ids(A, Family::User, IdChange::SetRes(1000, 1000, 0))
        .unwrap();
    assert_eq!((c.uid, c.euid, c.suid, value), (1000, 1000, 0, 0));
    assert_eq!(t.by_badge(A).unwrap().creds, c);
    let b = t.fork(A, B).unwrap();
    assert_eq!(t.get(b).unwrap().creds, c);
    assert_eq!(t.groups(B, 0), Ok(&[4, 9][..]));
    // Anyone may read another's groups (as /proc/PID/status), a zombie's too.
    t.set_cpu_ns(B, 12_345, 1_000_000, 1).unwrap();
    t.exit(B, crate::WaitStatus::exited(0)).unwrap();
    assert_eq!(t.groups(A, b), Ok(&[4, 9][..]));
    assert_eq!(t.groups(A, 9999), Err(Errno::ESRCH));
    assert_eq!(t.groups(A, INIT_PID), Ok(&[][..]));
    // Its wait reports its real uid (`waitid`'s `si_uid`) and the CPU time it said it had.
    let options = crate::WaitOptions::from_wait4(0).unwrap();
    let reaped = t.wait_with_uid(A, crate::Selector::Any, options).unwrap();
    assert_eq!(
        reaped,
        Some((b, crate::WaitStatus::exited(0), 1000, 12_345))
    );
    // A refused change leaves the record alone.
    assert_eq!(
        t.change_ids(A, Family::User, IdChange::Set(5)),
        Err(Errno::EPERM)
    );
    assert_eq!(t.by_badge(A).unwrap().creds, c);
    assert_eq!(t.set_groups(A, 0, Some(&[]), 512), Err(Errno::EPERM));
    // The server's undo.
    let before = t.by_badge(A).unwrap().clone();
    t.change_ids(A, Family::User, IdChange::SetRes(N, 0, N))
        .unwrap();
    t.put_back(A, before.creds, before.groups.clone()).unwrap();
    assert_eq!(t.by_badge(A).unwrap(), &before);
    assert_eq!(t.put_back(C, c, alloc::vec![]), Err(Errno::ESRCH));
    // exec: the saved 0 is gone.
    let e = t.executed(A).unwrap();
    assert_eq!((e.uid, e.euid, e.suid), (1000, 1000, 1000));
    assert_eq!(t.get(a).unwrap().creds, e);
    assert_eq!(
        t.change_ids(C, Family::User, IdChange::Set(0)),
        Err(Errno::ESRCH)
    );
}

#[test]
fn kill_compares_with_the_real_and_saved_ids() {
    let sender = Creds::new(1000, 1000);
    let mut target = Creds::new(2000, 2000);
    assert!(!may_signal(sender, target));
    // The target's effective id does not count...
    target.euid = 1000;
    assert!(!may_signal(sender, target));
    // ...its saved one does, matched by the sender's effective or real id.
    target.suid = 1000;
    assert!(may_signal(sender, target));
    let mut sender = Creds::new(3000, 3000);
    sender.uid = 1000;
    assert!(may_signal(sender, target));
    // Root may; a root that gave up its effective id may not.
    assert!(may_signal(Creds::new(0, 0), Creds::new(5, 5)));
    let mut dropped = Creds::new(0, 0);
    dropped.euid = 7;
    assert!(!may_signal(dropped, Creds::new(5, 5)));
}

#[test]
fn kill_lets_a_process_signal_itself_and_sigcont_its_session() {
    let mut t = Tree::new();
    let a = t.register(A, INIT_PID, Creds::new(0, 0)).unwrap();
    let b = t.fork(A, B).unwrap();
    let other = t.register(C, INIT_PID, Creds::new(0, 0)).unwrap();
    // B gives up root for good; A stays root in the same session.
    t.change_ids(B, Family::User, IdChange::Set(1000)).unwrap();
    let reached = |t: &Tree, badge, pid: u64, sig| {
        t.kill_targets(badge, pid as i64, sig)
            .map(|v| v.iter().map(|x| x.pid).collect::<alloc::vec::Vec<_>>())
    };
    assert_eq!(reached(&t, B, a, g::SIGTERM), Err(Errno::EPERM));
    assert_eq!(reached(&t, B, b, g::SIGTERM), Ok(alloc::vec![b]));
    assert_eq!(reached(&t, B, a, g::SIGCONT), Ok(alloc::vec![a]));
    // Another session's: no.
    assert_eq!(reached(&t, B, other, g::SIGCONT), Err(Errno::EPERM));
    // Root reaches it.
    assert_eq!(reached(&t, A, b, g::SIGTERM), Ok(alloc::vec![b]));
    // init is root's: B may not signal it, A may (with nothing to deliver).
    assert_eq!(reached(&t, B, INIT_PID, g::SIGTERM), Err(Errno::EPERM));
    let to_init = t.kill_targets(A, INIT_PID as i64, g::SIGTERM).unwrap();
    assert_eq!((to_init[0].pid, to_init[0].badge), (INIT_PID, None));
}
