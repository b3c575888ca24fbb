//! Thread ids: a Linux process's threads beyond its first have ids of their own, from the same
//! space as pids (Linux's `alloc_pid` serves both), so that no new process can take the id of
//! a live thread and `kill` of a thread's id reaches its process. The Linux personality
//! (`user/bin/linux/src/threads.rs`) asks for one at `clone(CLONE_THREAD)` and gives it back
//! when the thread ends; a process's exit ends the rest (`tree.rs`).

use k42_linux::Errno;

use crate::tree::{Pid, Tree};

impl Tree {
    /// A new thread id for the running process `badge`. `EAGAIN` when no id is free.
    pub fn new_thread(&mut self, badge: u64) -> Result<Pid, Errno> {
        let owner = self.by_badge(badge)?.pid;
        let tid = self.alloc_pid()?;
        self.threads.insert(tid, owner);
        Ok(tid)
    }

    /// The thread `tid` of the process `badge` ended: its id is free again. `ESRCH` unless it
    /// is a thread of that process.
    pub fn end_thread(&mut self, badge: u64, tid: Pid) -> Result<(), Errno> {
        let owner = self.by_badge(badge)?.pid;
        if self.threads.get(&tid) != Some(&owner) {
            return Err(Errno::ESRCH);
        }
        self.threads.remove(&tid);
        Ok(())
    }

    /// The process whose thread `tid` is, if `tid` is a thread's id (not a process's).
    pub fn thread_owner(&self, tid: Pid) -> Option<Pid> {
        self.threads.get(&tid).copied()
    }

    /// How many thread ids the process `pid` holds beyond its own.
    pub fn threads_of(&self, pid: Pid) -> usize {
        self.threads.values().filter(|&&owner| owner == pid).count()
    }
}
