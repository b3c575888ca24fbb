//! Archive path normalisation, shared by the parser, [`crate::Tree::lookup`] and the writer so
//! that all three agree on what names the same node.
//!
//! Archives name entries "bin/sh", "./bin/sh" or "/bin/sh" depending on the tool; Linux resolves
//! them relative to the root, so leading "/" and "./", empty components (repeated slashes) and
//! "." components are all dropped. ".." is refused outright rather than resolved: an initramfs
//! has no business climbing, and refusing it means no entry can land outside the tree.

use alloc::vec::Vec;

/// The path separator.
pub const SEPARATOR: char = '/';
const CURRENT_DIR: &str = ".";
const PARENT_DIR: &str = "..";

/// The path has a ".." component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Escape;

/// The components of `path` below the root, in order; empty for the root itself ("", "/", ".").
pub(crate) fn components(path: &str) -> Result<Vec<&str>, Escape> {
    let mut out = Vec::new();
    for component in path.split(SEPARATOR) {
        match component {
            "" | CURRENT_DIR => {}
            PARENT_DIR => return Err(Escape),
            name => out.push(name),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn strips_leading_slash_and_dot() {
        assert_eq!(components("/bin/sh"), Ok(vec!["bin", "sh"]));
        assert_eq!(components("./bin/sh"), Ok(vec!["bin", "sh"]));
        assert_eq!(components("bin/sh"), Ok(vec!["bin", "sh"]));
    }

    #[test]
    fn root_spellings_are_empty() {
        for root in ["", "/", ".", "./", "//", "/./."] {
            assert_eq!(components(root), Ok(vec![]), "{root:?}");
        }
    }

    #[test]
    fn collapses_repeated_slashes_and_dots() {
        assert_eq!(components("a//b/./c/"), Ok(vec!["a", "b", "c"]));
    }

    #[test]
    fn refuses_dot_dot_anywhere() {
        for bad in ["..", "../a", "a/..", "a/../b", "/..", "./../x"] {
            assert_eq!(components(bad), Err(Escape), "{bad:?}");
        }
    }

    #[test]
    fn dots_inside_names_are_names() {
        assert_eq!(components("...//.a/b."), Ok(vec!["...", ".a", "b."]));
    }
}
