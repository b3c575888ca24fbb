//! The benchmark programs as a boot runs them: `bench/*.c` and `bench/helpers/*.c`
//! built static with musl (through `../cc.rs`, like the guest tests), packed with
//! the data files under `/k42/bench/` in an archive appended to the shared root
//! file system, and a driver script (`../guest.rs`'s generator) that runs the
//! programs the [`Plan`] names between begin and end lines. K42 gets no driver: it
//! boots in a fraction of a second, so [`k42_plans`] gives one plan of one step per
//! program it runs, each step the run's program of a boot of its own (a fresh system
//! for each), with the same argv as Linux's driver gives it.
//!
//! `catalog.rs` says what to run with which counts; `mod.rs` and
//! `../test/bench_tier.rs` boot the result.

use std::path::PathBuf;

use k42_cpio::Writer;

use super::catalog::{self, Scale};
use super::record::Expected;
use crate::cc::{self, Libc};
use crate::guest::{self, Step};
use crate::{paths, rootfs};

/// The sources, relative to the workspace root.
const SOURCE_DIR: &str = "bench";
/// The helper programs' sources, under [`SOURCE_DIR`].
const HELPER_SUBDIR: &str = "helpers";
/// Where everything goes in the initramfs (the programs get it as `K42_BENCH_DIR`).
pub const INSTALL_DIR: &str = "/k42/bench";
/// Where the data files go, under [`INSTALL_DIR`] (apart from the programs: the
/// `sdet` program and the `sdet/` scripts could not share a directory).
const DATA_SUBDIR: &str = "data";
/// The driver script, in [`INSTALL_DIR`].
const DRIVER: &str = "run.sh";
/// The build's work directory, under `target/k42/`.
const WORK_SUBDIR: &str = "bench";
const EXEC_MODE: u32 = 0o755;
const FILE_MODE: u32 = 0o644;

/// A file for the archive: its path in the initramfs, the host file, its mode.
#[derive(Debug, Clone)]
pub struct Install {
    path: String,
    file: PathBuf,
    mode: u32,
}

/// Builds every program and helper of the catalog; returns what to install.
pub fn build() -> Result<Vec<Install>, String> {
    let source_dir = paths::root().join(SOURCE_DIR);
    let out_dir = paths::work(WORK_SUBDIR)?;
    let sources = catalog::programs()
        .into_iter()
        .map(|p| (p, source_dir.join(format!("{p}.c"))))
        .chain(
            catalog::HELPERS
                .into_iter()
                .map(|p| (p, source_dir.join(HELPER_SUBDIR).join(format!("{p}.c")))),
        );
    let mut installs = Vec::new();
    for (name, source) in sources {
        let file = cc::compile(&cc::Build {
            source: &source,
            output: out_dir.join(name),
            libc: Libc::Musl,
            defines: vec![format!("-DK42_BENCH_DIR={}", cc::c_string(INSTALL_DIR))],
            include_dirs: vec![source_dir.clone()],
            extra_inputs: Vec::new(),
        })?;
        installs.push(Install {
            path: format!("{INSTALL_DIR}/{name}"),
            file,
            mode: EXEC_MODE,
        });
    }
    for data in catalog::DATA_FILES {
        installs.push(Install {
            path: format!("{INSTALL_DIR}/{DATA_SUBDIR}/{data}"),
            file: source_dir.join(data),
            mode: FILE_MODE,
        });
    }
    Ok(installs)
}

/// What one boot runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The driver's steps, one per program run.
    pub steps: Vec<Step>,
    /// The result lines each step must print, in order.
    pub expected: Vec<Vec<Expected>>,
}

/// Which parts of the catalog a boot runs (meminfo always runs first: it reads
/// the free memory before anything else has used any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// The microbenchmarks.
    pub micro: bool,
    /// SDET with one user per vCPU and twice that.
    pub sdet: bool,
}

/// The plan of a boot with `smp` vCPUs at `scale`, keeping the benchmarks whose
/// name `wanted` accepts.
pub fn plan(scale: Scale, smp: u32, parts: Parts, wanted: &dyn Fn(&str) -> bool) -> Plan {
    let mut plan = Plan {
        steps: vec![Step {
            name: catalog::MEMINFO_PROGRAM.into(),
            argv: vec![program_path(catalog::MEMINFO_PROGRAM)],
        }],
        expected: vec![vec![
            expect(catalog::MEM_FREE, catalog::KIB, 1),
            expect(catalog::MEM_AVAILABLE, catalog::KIB, 1),
        ]],
    };
    let mut add = |program: &str, runs: Vec<Expected>| {
        if let Some(step) = step(scale, program, &runs) {
            plan.steps.push(step);
            plan.expected.push(runs);
        }
    };
    if parts.micro {
        for program in catalog::programs() {
            add(program, micro_runs(scale, program, wanted));
        }
    }
    if parts.sdet {
        let runs = catalog::sdet_users(smp)
            .into_iter()
            .map(catalog::sdet_name)
            .filter(|name| wanted(name))
            .map(|name| expect(&name, catalog::SCRIPTS_PER_HOUR, catalog::sdet_loops(scale)))
            .collect();
        add(catalog::SDET_PROGRAM, runs);
    }
    plan
}

/// The plans of K42's boots with `smp` vCPUs at `scale`: one per program K42 runs
/// (`catalog::runs_on_k42`) that has a benchmark `wanted` accepts, among `parts`, each
/// of one step whose argv is the one the Linux driver gives that program in a boot with
/// `smp` vCPUs (only SDET's depends on it). No meminfo: K42's free memory is read from
/// its banner.
pub fn k42_plans(scale: Scale, smp: u32, parts: Parts, wanted: &dyn Fn(&str) -> bool) -> Vec<Plan> {
    let linux = plan(scale, smp, parts, wanted);
    linux
        .steps
        .into_iter()
        .zip(linux.expected)
        .filter(|(step, _)| catalog::runs_on_k42(&step.name))
        .map(|(step, runs)| Plan {
            steps: vec![step],
            expected: vec![runs],
        })
        .collect()
}

/// Where `program` is installed.
fn program_path(program: &str) -> String {
    format!("{INSTALL_DIR}/{program}")
}

fn expect(name: &str, unit: &str, iterations: u64) -> Expected {
    Expected {
        name: name.to_string(),
        unit: unit.to_string(),
        iterations,
    }
}

/// The microbenchmarks of `program` that `wanted` accepts, at `scale`.
fn micro_runs(scale: Scale, program: &str, wanted: &dyn Fn(&str) -> bool) -> Vec<Expected> {
    catalog::BENCHMARKS
        .iter()
        .filter(|b| b.program == program && wanted(b.name))
        .map(|b| expect(b.name, b.unit, b.iterations(scale)))
        .collect()
}

/// The step that runs `program` for `runs` (`PROGRAM REPS NAME=ITERATIONS...`), or
/// none when there is nothing to run.
fn step(scale: Scale, program: &str, runs: &[Expected]) -> Option<Step> {
    if runs.is_empty() {
        return None;
    }
    let mut argv = vec![program_path(program), catalog::reps(scale).to_string()];
    argv.extend(runs.iter().map(|e| format!("{}={}", e.name, e.iterations)));
    Some(Step {
        name: program.to_string(),
        argv,
    })
}

/// The archive of the programs and the data files, without a driver script: what
/// K42's boots add to the base image (and what `cargo xtask run --initrd` takes to
/// run one of them by hand).
pub fn programs_archive(installs: &[Install]) -> Result<Vec<u8>, String> {
    let mut w = Writer::new();
    add_programs(&mut w, installs)?;
    Ok(w.finish())
}

fn add_programs(w: &mut Writer, installs: &[Install]) -> Result<(), String> {
    rootfs::add_parents(w, &format!("{INSTALL_DIR}/{DRIVER}"));
    for data in catalog::DATA_FILES {
        rootfs::add_parents(w, &format!("{INSTALL_DIR}/{DATA_SUBDIR}/{data}"));
    }
    for i in installs {
        let data =
            std::fs::read(&i.file).map_err(|e| format!("cannot read {}: {e}", i.file.display()))?;
        w.file(&i.path, i.mode, &data);
    }
    Ok(())
}

/// The archive of the programs, the data files and the driver script for `plan`.
pub fn archive(installs: &[Install], plan: &Plan) -> Result<Vec<u8>, String> {
    let mut w = Writer::new();
    add_programs(&mut w, installs)?;
    let script = guest::driver_script(
        "cargo xtask bench (xtask/src/bench/programs.rs)",
        &plan.steps,
    );
    w.file(
        &format!("{INSTALL_DIR}/{DRIVER}"),
        EXEC_MODE,
        script.as_bytes(),
    );
    Ok(w.finish())
}

/// The argv of a boot that runs the driver.
pub fn driver_argv() -> Vec<String> {
    vec![
        k42_abi::runner::INTERACTIVE_SHELL.to_string(),
        format!("{INSTALL_DIR}/{DRIVER}"),
    ]
}

/// The names of `plan`'s steps, for `guest::parse`.
pub fn step_names(plan: &Plan) -> Vec<String> {
    plan.steps.iter().map(|s| s.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_group_benchmarks_by_program() {
        let all = plan(
            Scale::Sanity,
            2,
            Parts {
                micro: true,
                sdet: true,
            },
            &|_| true,
        );
        assert_eq!(all.steps[0].name, "meminfo");
        assert_eq!(all.steps.len(), catalog::programs().len());
        let syscalls = &all.steps[1];
        assert_eq!(syscalls.argv[0], "/k42/bench/syscalls");
        assert_eq!(syscalls.argv[1], "3");
        assert!(syscalls.argv.contains(&"null_syscall=2".to_string()));
        let sdet = all.steps.last().expect("sdet step");
        assert_eq!(sdet.argv[2..], ["sdet_2=1", "sdet_4=1"]);
        assert_eq!(all.expected.len(), all.steps.len());
        let names: usize = all.expected.iter().map(Vec::len).sum();
        assert_eq!(names, 2 + catalog::BENCHMARKS.len() + 2);

        let only = plan(
            Scale::Quick,
            1,
            Parts {
                micro: true,
                sdet: false,
            },
            &|n| n.contains("fork"),
        );
        assert_eq!(only.steps.len(), 2);
        assert_eq!(
            only.steps[1].argv[2..],
            ["fork_exit=200", "fork_exec_exit=100"]
        );
    }

    #[test]
    fn k42_runs_each_of_its_programs_alone_with_the_drivers_argv() {
        let all = Parts {
            micro: true,
            sdet: true,
        };
        let linux = plan(Scale::Quick, 1, all, &|_| true);
        let k42 = k42_plans(Scale::Quick, 1, all, &|_| true);
        let names: Vec<&str> = k42.iter().map(|p| p.steps[0].name.as_str()).collect();
        assert_eq!(
            names,
            [
                "syscalls", "pipe", "ctxsw", "proc", "mmap", "signal", "thread", "sdet"
            ]
        );
        for p in &k42 {
            assert_eq!((p.steps.len(), p.expected.len()), (1, 1));
            let same = linux
                .steps
                .iter()
                .zip(&linux.expected)
                .find(|(s, _)| s.name == p.steps[0].name)
                .expect("Linux runs it too");
            assert_eq!((same.0, same.1), (&p.steps[0], &p.expected[0]));
        }
        assert_eq!(k42[0].expected[0].len(), 7);
        assert_eq!(k42[6].steps[0].argv[2..], ["thread_create_join=400"]);
        assert_eq!(k42[7].steps[0].argv[2..], ["sdet_1=2", "sdet_2=2"]);
        let only = k42_plans(Scale::Sanity, 2, all, &|n| n.contains("stat"));
        assert_eq!(only.len(), 1);
        assert_eq!(
            only[0].steps[0].argv,
            ["/k42/bench/syscalls", "3", "stat=2", "fstat=2"]
        );
        let sdet_only = Parts {
            micro: false,
            sdet: true,
        };
        let sdet = k42_plans(Scale::Full, 2, sdet_only, &|_| true);
        assert_eq!(sdet.len(), 1);
        assert_eq!(sdet[0].steps[0].argv[2..], ["sdet_2=2", "sdet_4=2"]);
        assert_eq!(
            k42_plans(Scale::Full, 1, all, &|n| n.contains("thread")).len(),
            1
        );
    }
}
