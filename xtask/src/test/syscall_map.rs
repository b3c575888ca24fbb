//! `lint.syscall_map`: keeps docs/linux-personality.md's "Where each call runs" true to the
//! code. Its syscall table must name every Linux call the personality serves — each
//! `nr::__NR_<name>` in `CONTEXT_CALLS` and `CALLS` of `user/bin/linux/src/table.rs` — exactly
//! once, and no other; each row's "where" must agree with the servers (`**fs**`, `**procs**`,
//! `**pipes**`, `**console**`) and kernel objects (`` `Memory…` ``, `` `Process…` ``,
//! `` `Image…` ``, `` `Boot…` ``) it names; the counts table must hold the counts the syscall
//! table gives; and the kernel-call table must list exactly the calls of
//! `kernel/src/kcall/mod.rs`'s `CALLS`.
//!
//! The parsing is plain text and pure (host-tested below); [`run`] reads the three files and
//! reports one case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::report::Report;
use crate::paths;

/// The case's name.
const CASE: &str = "lint.syscall_map";
/// The files read, from the workspace root.
const TABLE_RS: &str = "user/bin/linux/src/table.rs";
const DOC: &str = "docs/linux-personality.md";
const KCALL_RS: &str = "kernel/src/kcall/mod.rs";
/// The doc's section checked.
const SECTION: &str = "## Where each call runs";
/// The first header cell of each table the section has.
const SYSCALL_TABLE: &str = "Linux syscall(s)";
const KERNEL_CALL_TABLE: &str = "K42 kernel call";
const COUNT_TABLE: &str = "Count";
/// The servers a row may name, in bold.
const SERVERS: [&str; 4] = ["fs", "procs", "pipes", "console"];
/// The kernel objects a row may name, in code spans (`Memory::map`…).
const KERNEL_OBJECTS: [&str; 4] = ["Memory", "Process", "Image", "Boot"];
/// What a row's "where" may say.
const PERSONALITY: &str = "personality";
const WITH_SERVERS: &str = "personality + servers";
const WITH_KERNEL: &str = "personality + kernel objects";
const WITH_BOTH: &str = "personality + servers + kernel objects";
/// The count of Linux calls that enter ring 0 other than by reflection: none, by construction
/// (the kernel-call table is checked against the kernel's).
const RING0_ROW: &str = "reaching ring 0 other than by reflection";

/// The lint case.
pub(super) fn run(report: &mut Report) {
    if !report.wanted(CASE) {
        return;
    }
    eprintln!("xtask: {CASE}: {DOC} against {TABLE_RS} and {KCALL_RS}");
    match check_files(&paths::root()) {
        Ok(()) => report.pass(CASE),
        Err(why) => report.fail(CASE, &why),
    }
}

/// Checks the files under `root`: `Err` with one line per problem.
fn check_files(root: &Path) -> Result<(), String> {
    let read = |rel: &str| {
        std::fs::read_to_string(root.join(rel)).map_err(|e| format!("cannot read {rel}: {e}"))
    };
    let problems = check(&read(TABLE_RS)?, &read(KCALL_RS)?, &read(DOC)?);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{DOC}, \"{SECTION}\", disagrees with the code: {}",
            problems.join("\n")
        ))
    }
}

/// Every problem found, one line each (none: the doc is true to the code).
fn check(table_rs: &str, kcall_rs: &str, doc: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let served = match served_calls(table_rs) {
        Ok(served) => served,
        Err(e) => return vec![e],
    };
    let kernel_calls = match kernel_calls(kcall_rs) {
        Ok(calls) => calls,
        Err(e) => return vec![e],
    };
    let Some(section) = section(doc, SECTION) else {
        return vec![format!("{DOC} has no section \"{SECTION}\"")];
    };
    let tables = tables(section);
    let table = |first: &str| {
        tables
            .iter()
            .find(|t| t.header.first().map(String::as_str) == Some(first))
    };

    // The syscall table.
    let Some(syscalls) = table(SYSCALL_TABLE) else {
        return vec![format!(
            "no table whose header starts with \"{SYSCALL_TABLE}\""
        )];
    };
    let rows = match syscall_rows(syscalls) {
        Ok(rows) => rows,
        Err(unreadable) => return unreadable,
    };
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &rows {
        for name in &row.names {
            *seen.entry(name).or_default() += 1;
        }
        problems.extend(row.disagreement());
    }
    for name in &served {
        match seen.get(name.as_str()) {
            None => problems.push(format!(
                "missing: `{name}` is served (table.rs) but in no row"
            )),
            Some(&n) if n > 1 => problems.push(format!("`{name}` is listed {n} times, not once")),
            Some(_) => {}
        }
    }
    for name in seen.keys() {
        if !served.iter().any(|s| s == name) {
            problems.push(format!(
                "extra: `{name}` is in the table but not served (table.rs)"
            ));
        }
    }

    // The counts.
    match table(COUNT_TABLE) {
        None => problems.push(format!(
            "no table whose header starts with \"{COUNT_TABLE}\""
        )),
        Some(t) => problems.extend(check_counts(t, &counts(&rows))),
    }

    // The kernel calls.
    match table(KERNEL_CALL_TABLE) {
        None => problems.push(format!(
            "no table whose header starts with \"{KERNEL_CALL_TABLE}\""
        )),
        Some(t) => {
            let listed: Vec<String> = t.rows.iter().flat_map(|r| code_spans(&r[0])).collect();
            for call in &kernel_calls {
                if !listed.contains(call) {
                    problems.push(format!("kernel call `{call}` (kcall/mod.rs) is not listed"));
                }
            }
            for call in &listed {
                if !kernel_calls.contains(call) {
                    problems.push(format!(
                        "kernel call `{call}` is listed but not in kcall/mod.rs"
                    ));
                }
            }
        }
    }
    problems
}

/// The calls `table.rs` serves: every `nr::__NR_<name>` in `CONTEXT_CALLS` and `CALLS`, in
/// order (comments left out).
fn served_calls(table_rs: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for list in ["CONTEXT_CALLS", "CALLS"] {
        let body = const_list(table_rs, list)
            .ok_or_else(|| format!("{TABLE_RS}: no `const {list}: … = &[ … ];`"))?;
        out.extend(names_after(body, "nr::__NR_"));
    }
    Ok(out)
}

/// The K42 kernel calls `kcall/mod.rs` has: every `call::<NAME>` in its `CALLS`.
fn kernel_calls(kcall_rs: &str) -> Result<Vec<String>, String> {
    let body = const_list(kcall_rs, "CALLS")
        .ok_or_else(|| format!("{KCALL_RS}: no `const CALLS: … = [ … ];`"))?;
    Ok(names_after(body, "call::"))
}

/// The lines of `const <name>`'s value, from its declaration (what follows the `=`: the type
/// is left out) to the line that closes it (`];`), each cut at its `//` comment.
fn const_list<'a>(source: &'a str, name: &str) -> Option<Vec<&'a str>> {
    let decl = format!("const {name}:");
    let mut lines = source
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(&decl));
    let first = lines.next()?;
    let mut body = vec![first.split_once('=').map_or("", |(_, value)| value)];
    for line in lines {
        body.push(line.split("//").next().unwrap_or(""));
        if line.trim() == "];" {
            return Some(body);
        }
    }
    None
}

/// Each identifier that follows `prefix` in `lines`, where `prefix` starts a path (`call::X`,
/// not `upcall::x`).
fn names_after(lines: Vec<&str>, prefix: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for line in lines {
        let mut rest = line;
        while let Some(at) = rest.find(prefix) {
            let starts_path = !rest[..at].ends_with(ident);
            rest = &rest[at + prefix.len()..];
            let end = rest.find(|c: char| !ident(c)).unwrap_or(rest.len());
            if starts_path && end > 0 {
                out.push(rest[..end].to_string());
            }
            rest = &rest[end..];
        }
    }
    out
}

/// The text of the section headed `heading` (to the next heading of its level or above).
fn section<'a>(doc: &'a str, heading: &str) -> Option<&'a str> {
    let start = doc.lines().position(|l| l.trim_end() == heading)?;
    let level = heading.chars().take_while(|&c| c == '#').count();
    let lines: Vec<&str> = doc.lines().collect();
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let hashes = l.chars().take_while(|&c| c == '#').count();
            hashes > 0 && hashes <= level && l[hashes..].starts_with(' ')
        })
        .map_or(lines.len(), |n| start + 1 + n);
    let from = lines[..start + 1]
        .iter()
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let to = lines[..end].iter().map(|l| l.len() + 1).sum::<usize>();
    doc.get(from.min(doc.len())..to.min(doc.len()))
}

/// A Markdown table: its header cells and its rows' cells (the separator line left out).
#[derive(Debug)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// The tables in `text`: runs of lines starting with `|`.
fn tables(text: &str) -> Vec<Table> {
    let mut out: Vec<Table> = Vec::new();
    let mut current: Option<Table> = None;
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            out.extend(current.take());
            continue;
        }
        let cells = cells(line);
        match current.as_mut() {
            None => {
                current = Some(Table {
                    header: cells,
                    rows: Vec::new(),
                });
            }
            Some(_) if is_separator(&cells) => {}
            Some(t) => t.rows.push(cells),
        }
    }
    out.extend(current);
    out
}

/// A table line's cells, trimmed: split at each `|` not escaped as `\|`.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner
        .strip_suffix('|')
        .filter(|s| !s.ends_with('\\'))
        .unwrap_or(inner);
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut escaped = false;
    for c in inner.chars() {
        match c {
            '|' if !escaped => out.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
        escaped = c == '\\';
    }
    out.push(cell.trim().to_string());
    out
}

/// Whether the cells are a header's separator (`|---|:--:|`).
fn is_separator(cells: &[String]) -> bool {
    cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
}

/// The code spans (`` `x` ``) in `cell`.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The bold spans (`**x**`) in `cell`.
fn bold_spans(cell: &str) -> Vec<String> {
    cell.split("**")
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// One row of the syscall table.
#[derive(Debug)]
struct Row {
    /// The syscalls it names.
    names: Vec<String>,
    /// Its "where".
    place: String,
    /// The servers it names.
    servers: BTreeSet<String>,
    /// Whether it names a kernel object.
    kernel_object: bool,
}

impl Row {
    /// A line saying how the row's "where" disagrees with what it names, if it does.
    fn disagreement(&self) -> Option<String> {
        let expected = match (self.servers.is_empty(), self.kernel_object) {
            (true, false) => PERSONALITY,
            (false, false) => WITH_SERVERS,
            (true, true) => WITH_KERNEL,
            (false, true) => WITH_BOTH,
        };
        (self.place != expected).then(|| {
            format!(
                "row {}: \"{}\" where its servers and kernel objects say \"{expected}\"",
                self.names.join(", "),
                self.place
            )
        })
    }
}

/// The syscall table's rows, or the problems that make a row unreadable.
fn syscall_rows(table: &Table) -> Result<Vec<Row>, Vec<String>> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for cells in &table.rows {
        let [names, place, servers, kernel] = cells.as_slice() else {
            problems.push(format!("a row without 4 cells: | {} |", cells.join(" | ")));
            continue;
        };
        let names = code_spans(names);
        if names.is_empty() {
            problems.push(format!(
                "a row that names no syscall: | {} |",
                cells.join(" | ")
            ));
        }
        for name in &names {
            if !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                problems.push(format!("`{name}` is not a syscall name"));
            }
        }
        let mut named = BTreeSet::new();
        for server in bold_spans(servers) {
            if SERVERS.contains(&server.as_str()) {
                named.insert(server);
            } else {
                problems.push(format!(
                    "row {}: **{server}** is no server",
                    names.join(", ")
                ));
            }
        }
        let kernel_object = code_spans(kernel).iter().any(|s| {
            KERNEL_OBJECTS
                .iter()
                .any(|o| s == o || s.starts_with(&format!("{o}::")))
        });
        if ![PERSONALITY, WITH_SERVERS, WITH_KERNEL, WITH_BOTH].contains(&place.as_str()) {
            problems.push(format!(
                "row {}: \"{place}\" is no \"where\"",
                names.join(", ")
            ));
        }
        rows.push(Row {
            names,
            place: place.clone(),
            servers: named,
            kernel_object,
        });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// The counts the rows give, by the count table's labels.
fn counts(rows: &[Row]) -> BTreeMap<String, usize> {
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    let mut add = |label: String, n: usize| *out.entry(label).or_default() += n;
    for place in [PERSONALITY, WITH_SERVERS, WITH_KERNEL, WITH_BOTH] {
        add(place.to_string(), 0);
    }
    for server in SERVERS {
        add(format!("reaching {server}"), 0);
    }
    add("served".to_string(), 0);
    add("using a kernel object".to_string(), 0);
    add(RING0_ROW.to_string(), 0);
    for row in rows {
        let n = row.names.len();
        add("served".to_string(), n);
        add(row.place.clone(), n);
        for server in &row.servers {
            add(format!("reaching {server}"), n);
        }
        if row.kernel_object {
            add("using a kernel object".to_string(), n);
        }
    }
    out
}

/// The count table against `expected`: every label there once, with its number.
fn check_counts(table: &Table, expected: &BTreeMap<String, usize>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for row in &table.rows {
        let (Some(label), Some(number)) = (row.first(), row.get(1)) else {
            problems.push(format!(
                "a count row without 2 cells: | {} |",
                row.join(" | ")
            ));
            continue;
        };
        listed.insert(label.clone());
        match (expected.get(label), number.parse::<usize>()) {
            (None, _) => problems.push(format!("count \"{label}\" is not one the lint knows")),
            (Some(_), Err(_)) => {
                problems.push(format!("count \"{label}\": \"{number}\" is no number"))
            }
            (Some(&want), Ok(got)) if want != got => {
                problems.push(format!(
                    "count \"{label}\" says {got}; the table gives {want}"
                ));
            }
            _ => {}
        }
    }
    for label in expected.keys() {
        if !listed.contains(label) {
            problems.push(format!("count \"{label}\" is missing"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE_FIXTURE: &str = "\
const CONTEXT_CALLS: &[(u32, ContextHandler)] = &[
    // calls/exec.rs: nr::__NR_not_this_one
    (nr::__NR_execve, exec::execve),
    (nr::__NR_rt_sigreturn, |l, _, regs| {
        crate::signals::sigreturn(l, regs)
    }),
];

const CALLS: &[(u32, Handler)] = &[
    (nr::__NR_read, io::read),
    (nr::__NR_mmap, mem::mmap),
];

const FAST_CALLS: &[(u32, FastAnswer)] = &[
    (nr::__NR_getpid, |l| l.ids.pid),
];
";

    const KCALL_FIXTURE: &str = "\
const CALLS: [(u64, &str, Handler); call::COUNT as usize] = [
    (call::PPC_CALL, \"ppc_call\", ppc::call),
    // call::NOT_IN_A_COMMENT
    (call::SET_ENTRY, \"set_entry\", upcall::set_entry),
    (
        call::REFLECT_RETURN,
        \"reflect_return\",
        reflect::reflect_return,
    ),
];
";

    fn doc(rows: &str, counts: &str) -> String {
        format!(
            "# Doc\n\n## Before\n\n| Linux syscall(s) | x |\n|--|--|\n| `bogus` | x |\n\n\
             {SECTION}\n\nText.\n\n\
             | K42 kernel call | what |\n|---|---|\n| `PPC_CALL` | calls |\n| `SET_ENTRY` | entries |\n| `REFLECT_RETURN` | back |\n\n\
             | Linux syscall(s) | where | servers | kernel calls and objects |\n|---|---|---|---|\n{rows}\n\
             | Count | syscalls |\n|---|---|\n{counts}\n\
             ## After\n\n| Linux syscall(s) | x |\n|--|--|\n| `other` | x |\n"
        )
    }

    const ROWS: &str = "\
| `execve` | personality + servers + kernel objects | **fs**, **procs** | `Memory::map`, `Image::map_private` |
| `rt_sigreturn` | personality | — | — |
| `read` | personality + servers | **console**, **fs** (`O_A\\|O_B`), **pipes** | — |
| `mmap` | personality + servers + kernel objects | **fs** for a file | `Memory::map` |
";

    const COUNTS: &str = "\
| served | 4 |
| personality | 1 |
| personality + servers | 1 |
| personality + kernel objects | 0 |
| personality + servers + kernel objects | 2 |
| reaching fs | 3 |
| reaching procs | 1 |
| reaching pipes | 1 |
| reaching console | 1 |
| using a kernel object | 2 |
| reaching ring 0 other than by reflection | 0 |
";

    #[test]
    fn served_calls_are_the_context_and_plain_tables_without_comments() {
        assert_eq!(
            served_calls(TABLE_FIXTURE).unwrap(),
            ["execve", "rt_sigreturn", "read", "mmap"]
        );
    }

    #[test]
    fn a_missing_table_is_an_error() {
        assert!(served_calls("const CALLS: &[(u32, Handler)] = &[\n];\n").is_err());
        assert!(served_calls("nothing here").is_err());
    }

    #[test]
    fn kernel_calls_are_read_across_lines_and_only_as_paths() {
        assert_eq!(
            kernel_calls(KCALL_FIXTURE).unwrap(),
            ["PPC_CALL", "SET_ENTRY", "REFLECT_RETURN"]
        );
    }

    #[test]
    fn cells_split_at_unescaped_bars_only() {
        assert_eq!(
            cells("| `a`, `b` | x \\| y | **fs** |"),
            ["`a`, `b`", "x \\| y", "**fs**"]
        );
        assert!(is_separator(&cells("|---|:--:|")));
        assert!(!is_separator(&cells("| a | - |")));
    }

    #[test]
    fn the_section_ends_at_the_next_heading_of_its_level() {
        let doc = doc(ROWS, COUNTS);
        let s = section(&doc, SECTION).unwrap();
        assert!(s.contains("Text."));
        assert!(!s.contains("`bogus`") && !s.contains("`other`"));
        assert!(section("## Other\n", SECTION).is_none());
    }

    #[test]
    fn a_doc_true_to_the_code_passes() {
        assert_eq!(
            check(TABLE_FIXTURE, KCALL_FIXTURE, &doc(ROWS, COUNTS)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_served_call_missing_from_the_doc_is_named() {
        let rows = ROWS.replace("| `rt_sigreturn` | personality | — | — |\n", "");
        let counts = COUNTS
            .replace("| served | 4 |", "| served | 3 |")
            .replace("| personality | 1 |", "| personality | 0 |");
        let problems = check(TABLE_FIXTURE, KCALL_FIXTURE, &doc(&rows, &counts));
        assert_eq!(
            problems,
            ["missing: `rt_sigreturn` is served (table.rs) but in no row"]
        );
    }

    #[test]
    fn a_call_twice_or_not_served_is_named() {
        let rows = ROWS.replace("| `rt_sigreturn` |", "| `rt_sigreturn`, `read`, `getpid` |");
        let problems = check(TABLE_FIXTURE, KCALL_FIXTURE, &doc(&rows, COUNTS));
        assert!(
            problems.contains(&"`read` is listed 2 times, not once".to_string()),
            "{problems:?}"
        );
        assert!(
            problems
                .contains(&"extra: `getpid` is in the table but not served (table.rs)".to_string()),
            "{problems:?}"
        );
        // The counts follow the rows: served went from 4 to 6.
        assert!(
            problems.contains(&"count \"served\" says 4; the table gives 6".to_string()),
            "{problems:?}"
        );
    }

    #[test]
    fn a_where_that_disagrees_with_its_servers_or_objects_is_named() {
        let rows = ROWS.replace(
            "| `read` | personality + servers |",
            "| `read` | personality |",
        );
        let counts = COUNTS
            .replace("| personality | 1 |", "| personality | 2 |")
            .replace(
                "| personality + servers | 1 |",
                "| personality + servers | 0 |",
            );
        let problems = check(TABLE_FIXTURE, KCALL_FIXTURE, &doc(&rows, &counts));
        assert_eq!(
            problems,
            [
                "row read: \"personality\" where its servers and kernel objects say \"personality + servers\""
            ]
        );
        let rows = ROWS.replace("**procs**", "**ptree**");
        let problems = check(TABLE_FIXTURE, KCALL_FIXTURE, &doc(&rows, COUNTS));
        assert_eq!(problems, ["row execve: **ptree** is no server"]);
    }

    #[test]
    fn wrong_or_missing_counts_are_named() {
        let counts = COUNTS
            .replace("| reaching fs | 3 |", "| reaching fs | 2 |")
            .replace("| reaching console | 1 |\n", "")
            .replace("| served | 4 |", "| served | 4 |\n| reaching disk | 0 |");
        let problems = check(TABLE_FIXTURE, KCALL_FIXTURE, &doc(ROWS, &counts));
        assert_eq!(
            problems,
            [
                "count \"reaching disk\" is not one the lint knows",
                "count \"reaching fs\" says 2; the table gives 3",
                "count \"reaching console\" is missing",
            ]
        );
    }

    #[test]
    fn the_kernel_call_list_must_be_the_kernels() {
        let doc = doc(ROWS, COUNTS).replace("| `PPC_CALL` | calls |", "| `SYSCALL_LINUX` | x |");
        assert_eq!(
            check(TABLE_FIXTURE, KCALL_FIXTURE, &doc),
            [
                "kernel call `PPC_CALL` (kcall/mod.rs) is not listed",
                "kernel call `SYSCALL_LINUX` is listed but not in kcall/mod.rs",
            ]
        );
    }

    #[test]
    fn no_section_is_an_error() {
        assert_eq!(
            check(TABLE_FIXTURE, KCALL_FIXTURE, "# Doc\n"),
            [format!("{DOC} has no section \"{SECTION}\"")]
        );
    }

    #[test]
    fn the_repository_files_parse() {
        // Not the check itself (the lint tier runs it): only that the real files still have
        // the shapes this parser reads, so a reshaped table.rs fails here with a clear test.
        let root = crate::paths::root();
        let table = std::fs::read_to_string(root.join(TABLE_RS)).unwrap();
        let served = served_calls(&table).unwrap();
        assert!(served.iter().any(|s| s == "execve") && served.iter().any(|s| s == "read"));
        let kcall = std::fs::read_to_string(root.join(KCALL_RS)).unwrap();
        assert!(
            kernel_calls(&kcall)
                .unwrap()
                .contains(&"REFLECT_RETURN".to_string())
        );
    }
}
