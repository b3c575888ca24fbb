//! A process's credentials and how the setuid family changes them, with Linux's rules
//! (`kernel/sys.c`: `__sys_setuid`, `__sys_setreuid`, `__sys_setresuid`, `__sys_setfsuid` and
//! their gid twins; `kernel/groups.c`: `setgroups`; `fs/exec.c` with
//! `security/commoncap.c`: what `execve` does to the saved and filesystem ids). The process
//! server (`user/bin/procs`) applies them to its own record of the caller — never to ids a
//! client names as its own — and then tells the file server the filesystem ids and groups
//! its permission checks use.
//!
//! **Privilege.** K42 has no capabilities: `CAP_SETUID` and `CAP_SETGID` are an effective
//! user id of 0, as on a Linux system where root holds every capability and nothing else
//! does. So a root process that made its effective uid another (`seteuid(1000)`) is
//! unprivileged until it makes it 0 again, as Linux's capability emulation
//! (`cap_emulate_setxuid`) clears and restores the effective set.
//!
//! **Ids.** Linux's are 32-bit; `(uid_t)-1` ([`UNCHANGED`]) names no user: it means
//! "unchanged" to `setreuid`/`setresuid`, is `EINVAL` to `setuid` and to `setgroups`, and makes
//! `setfsuid` only report the current filesystem id.

use alloc::vec::Vec;

use k42_linux::Errno;

use crate::tree::{INIT_PID, Pid, Tree};

/// `(uid_t)-1`: no id (module comment).
pub const UNCHANGED: u32 = u32::MAX;
/// Linux's `NGROUPS_MAX` (`include/uapi/linux/limits.h`): the most supplementary groups a
/// process may have. A transport may carry fewer (the process server's interface says how
/// many).
pub const NGROUPS_MAX: usize = 65536;

/// A process's user and group ids: real, effective, saved and filesystem, of each family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creds {
    /// Real user.
    pub uid: u32,
    /// Effective user: what decides privilege.
    pub euid: u32,
    /// Saved set-user-ID: what an unprivileged process may make its effective user again.
    pub suid: u32,
    /// Filesystem user: what file permission checks use (follows the effective user but for
    /// `setfsuid`).
    pub fsuid: u32,
    /// Real group.
    pub gid: u32,
    /// Effective group.
    pub egid: u32,
    /// Saved set-group-ID.
    pub sgid: u32,
    /// Filesystem group.
    pub fsgid: u32,
}

impl Creds {
    /// Every user id `uid`, every group id `gid` (what the spawner registers).
    pub const fn new(uid: u32, gid: u32) -> Self {
        Self {
            uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
        }
    }

    /// Whether these credentials may change ids at will (`CAP_SETUID`, `CAP_SETGID`: module
    /// comment).
    pub const fn privileged(&self) -> bool {
        self.euid == 0
    }

    /// One family's four ids.
    pub const fn ids(&self, family: Family) -> IdSet {
        match family {
            Family::User => IdSet {
                real: self.uid,
                effective: self.euid,
                saved: self.suid,
                fs: self.fsuid,
            },
            Family::Group => IdSet {
                real: self.gid,
                effective: self.egid,
                saved: self.sgid,
                fs: self.fsgid,
            },
        }
    }

    /// These credentials with `family`'s ids replaced by `ids`.
    pub const fn with_ids(self, family: Family, ids: IdSet) -> Self {
        match family {
            Family::User => Self {
                uid: ids.real,
                euid: ids.effective,
                suid: ids.saved,
                fsuid: ids.fs,
                ..self
            },
            Family::Group => Self {
                gid: ids.real,
                egid: ids.effective,
                sgid: ids.saved,
                fsgid: ids.fs,
                ..self
            },
        }
    }

    /// `change` applied to `family`'s ids by a process holding these credentials: the new
    /// credentials and the call's return value (the old filesystem id for [`IdChange::SetFs`],
    /// 0 for the others). `EINVAL` for an invalid id, `EPERM` for a change the process may not
    /// make; `SetFs` never fails (it changes nothing instead).
    pub fn change(&self, family: Family, change: IdChange) -> Result<(Creds, u32), Errno> {
        let (ids, value) = self.ids(family).change(change, self.privileged())?;
        Ok((self.with_ids(family, ids), value))
    }

    /// What `execve` of a file without set-id bits leaves: the saved and filesystem ids become
    /// the effective ones (`cap_bprm_creds_from_file`).
    pub const fn executed(self) -> Self {
        Self {
            suid: self.euid,
            fsuid: self.euid,
            sgid: self.egid,
            fsgid: self.egid,
            ..self
        }
    }
}

/// Which ids a call changes: the user's (`setuid`…) or the group's (`setgid`…).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `setuid`, `setreuid`, `setresuid`, `setfsuid`.
    User,
    /// `setgid`, `setregid`, `setresgid`, `setfsgid`.
    Group,
}

/// The call words of each [`Family`].
const FAMILY_USER: u64 = 0;
const FAMILY_GROUP: u64 = 1;

impl Family {
    /// The family as a call word.
    pub const fn to_word(self) -> u64 {
        match self {
            Family::User => FAMILY_USER,
            Family::Group => FAMILY_GROUP,
        }
    }

    /// The family a call word names (`EINVAL` for none).
    pub const fn from_word(word: u64) -> Result<Self, Errno> {
        match word {
            FAMILY_USER => Ok(Family::User),
            FAMILY_GROUP => Ok(Family::Group),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// One family's ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdSet {
    /// Real.
    pub real: u32,
    /// Effective.
    pub effective: u32,
    /// Saved.
    pub saved: u32,
    /// Filesystem.
    pub fs: u32,
}

/// One call of the setuid family, the same for users and groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdChange {
    /// `setuid(id)`: every id when privileged; otherwise the effective (and filesystem) id
    /// alone, and only to the real or the saved one.
    Set(u32),
    /// `setreuid(real, effective)`, each [`UNCHANGED`] or an id.
    SetRe(u32, u32),
    /// `setresuid(real, effective, saved)`, each [`UNCHANGED`] or an id.
    SetRes(u32, u32, u32),
    /// `setfsuid(fs)`: returns the old filesystem id whether it changes it or not.
    SetFs(u32),
}

/// The call words of each [`IdChange`] kind.
const KIND_SET: u64 = 0;
const KIND_SET_RE: u64 = 1;
const KIND_SET_RES: u64 = 2;
const KIND_SET_FS: u64 = 3;

impl IdChange {
    /// The change as call words: its kind and three ids (unused ones [`UNCHANGED`]).
    pub fn to_words(self) -> (u64, [u64; 3]) {
        let w = u64::from;
        let none = w(UNCHANGED);
        match self {
            IdChange::Set(id) => (KIND_SET, [w(id), none, none]),
            IdChange::SetRe(r, e) => (KIND_SET_RE, [w(r), w(e), none]),
            IdChange::SetRes(r, e, s) => (KIND_SET_RES, [w(r), w(e), w(s)]),
            IdChange::SetFs(id) => (KIND_SET_FS, [w(id), none, none]),
        }
    }

    /// The change [`IdChange::to_words`] wrote (`EINVAL` for an unknown kind or an id past
    /// 32 bits).
    pub fn from_words(kind: u64, ids: [u64; 3]) -> Result<Self, Errno> {
        let id = |w: u64| u32::try_from(w).map_err(|_| Errno::EINVAL);
        let [a, b, c] = ids;
        Ok(match kind {
            KIND_SET => IdChange::Set(id(a)?),
            KIND_SET_RE => IdChange::SetRe(id(a)?, id(b)?),
            KIND_SET_RES => IdChange::SetRes(id(a)?, id(b)?, id(c)?),
            KIND_SET_FS => IdChange::SetFs(id(a)?),
            _ => return Err(Errno::EINVAL),
        })
    }
}

/// `id` given, and not [`UNCHANGED`].
const fn given(id: u32) -> bool {
    id != UNCHANGED
}

impl IdSet {
    /// Whether `id` is one of the real, effective or saved ids (what an unprivileged
    /// `setresuid` may set any of them to).
    const fn holds(&self, id: u32) -> bool {
        id == self.real || id == self.effective || id == self.saved
    }

    /// `change` by a process that is `privileged` or not: the new ids and the call's value
    /// ([`Creds::change`]).
    pub fn change(self, change: IdChange, privileged: bool) -> Result<(IdSet, u32), Errno> {
        let old = self;
        let new = match change {
            IdChange::Set(id) => {
                if !given(id) {
                    return Err(Errno::EINVAL);
                }
                if privileged {
                    IdSet {
                        real: id,
                        effective: id,
                        saved: id,
                        fs: id,
                    }
                } else if id == old.real || id == old.saved {
                    IdSet {
                        effective: id,
                        fs: id,
                        ..old
                    }
                } else {
                    return Err(Errno::EPERM);
                }
            }
            IdChange::SetRe(r, e) => {
                let mut new = old;
                if given(r) {
                    if !(privileged || r == old.real || r == old.effective) {
                        return Err(Errno::EPERM);
                    }
                    new.real = r;
                }
                if given(e) {
                    if !(privileged || old.holds(e)) {
                        return Err(Errno::EPERM);
                    }
                    new.effective = e;
                }
                // The saved id follows the effective one when the real one is set, or the
                // effective one becomes other than the old real one: so that a process that
                // gave up an id for good cannot take it back from its saved id.
                if given(r) || (given(e) && e != old.real) {
                    new.saved = new.effective;
                }
                new.fs = new.effective;
                new
            }
            IdChange::SetRes(r, e, s) => {
                let no_op = (!given(r) || r == old.real)
                    && (!given(e) || (e == old.effective && e == old.fs))
                    && (!given(s) || s == old.saved);
                if no_op {
                    return Ok((old, 0));
                }
                let foreign = |id: u32| given(id) && !old.holds(id);
                if !privileged && (foreign(r) || foreign(e) || foreign(s)) {
                    return Err(Errno::EPERM);
                }
                let pick = |id: u32, was: u32| if given(id) { id } else { was };
                let effective = pick(e, old.effective);
                IdSet {
                    real: pick(r, old.real),
                    effective,
                    saved: pick(s, old.saved),
                    fs: effective,
                }
            }
            IdChange::SetFs(fs) => {
                let allowed = given(fs) && (privileged || old.holds(fs) || fs == old.fs);
                let new = if allowed { IdSet { fs, ..old } } else { old };
                return Ok((new, old.fs));
            }
        };
        Ok((new, 0))
    }
}

/// `setgroups(count, list)` by a process with `creds`, Linux's checks in its order: `EPERM`
/// unless privileged, `EINVAL` for more than [`NGROUPS_MAX`] or than `most` (what the
/// transport carries), `EFAULT` when the list could not be read (`None`), `EINVAL` for an
/// invalid id in it. Returns the new list, sorted as Linux keeps it (`groups_sort`), which
/// `getgroups` and `/proc/PID/status` show in that order.
pub fn setgroups(
    creds: Creds,
    count: usize,
    list: Option<&[u32]>,
    most: usize,
) -> Result<Vec<u32>, Errno> {
    if !creds.privileged() {
        return Err(Errno::EPERM);
    }
    if count > NGROUPS_MAX || count > most {
        return Err(Errno::EINVAL);
    }
    let list = list.filter(|l| l.len() == count).ok_or(Errno::EFAULT)?;
    if list.iter().any(|&g| !given(g)) {
        return Err(Errno::EINVAL);
    }
    let mut groups = list.to_vec();
    groups.sort_unstable();
    Ok(groups)
}

impl Tree {
    /// `change` to `family`'s ids of the running process `badge` ([`Creds::change`]): its new
    /// credentials and the call's value. `ESRCH` if it is not running.
    pub fn change_ids(
        &mut self,
        badge: u64,
        family: Family,
        change: IdChange,
    ) -> Result<(Creds, u32), Errno> {
        let me = self.by_badge_mut(badge)?;
        let (creds, value) = me.creds.change(family, change)?;
        me.creds = creds;
        Ok((creds, value))
    }

    /// The running process `badge` executed a new program ([`Creds::executed`]); its new
    /// credentials.
    pub fn executed(&mut self, badge: u64) -> Result<Creds, Errno> {
        let me = self.by_badge_mut(badge)?;
        me.creds = me.creds.executed();
        Ok(me.creds)
    }

    /// `setgroups` by the running process `badge` ([`setgroups`]).
    pub fn set_groups(
        &mut self,
        badge: u64,
        count: usize,
        list: Option<&[u32]>,
        most: usize,
    ) -> Result<(), Errno> {
        let me = self.by_badge_mut(badge)?;
        me.groups = setgroups(me.creds, count, list, most)?;
        Ok(())
    }

    /// Puts back the credentials and groups the running process `badge` had before a change
    /// the process server could not pass on to the file server, so that the two never
    /// disagree. `ESRCH` if it is not running.
    pub fn put_back(&mut self, badge: u64, creds: Creds, groups: Vec<u32>) -> Result<(), Errno> {
        let me = self.by_badge_mut(badge)?;
        me.creds = creds;
        me.groups = groups;
        Ok(())
    }

    /// The supplementary groups of process `pid` (0: the caller `badge`), running or a zombie,
    /// as `getgroups` and `/proc/PID/status` show them; init (the bootstrap) has none. `ESRCH`
    /// for no such process.
    pub fn groups(&self, badge: u64, pid: Pid) -> Result<&[u32], Errno> {
        self.by_badge(badge)?;
        if pid == INIT_PID {
            return Ok(&[]);
        }
        Ok(&self.named(badge, pid)?.groups)
    }
}
