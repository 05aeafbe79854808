//! Helpers the fuzz targets share: making a stack overflow a finding, splitting an input into
//! named parts, a scratch folder on a memory file system, a tiny zip writer that writes whatever
//! names and modes it is given, the config-editor property that the four editor targets
//! check, and the knowledge base's section property that its two document targets check.

pub mod edit;
pub mod zipfile;

use std::{collections::HashSet, path::PathBuf, sync::OnceLock};

/// A document the knowledge base read from `text`: at least one section and a title; every
/// section starts at a character boundary inside `text`, in order, within its size bound; a
/// heading's section is on the line it names and has an anchor no other section has (a section
/// is read back by its anchor).
pub fn check_sections(doc: &switchboard_kb::source::Document, text: &str) {
    assert!(!doc.sections.is_empty(), "a document without sections");
    assert!(!doc.title.trim().is_empty(), "a blank title");
    let mut anchors = HashSet::new();
    let mut last_start = 0;
    for s in &doc.sections {
        assert!(
            s.start <= text.len() && text.is_char_boundary(s.start),
            "section start {}",
            s.start
        );
        assert!(s.start >= last_start, "sections out of order");
        last_start = s.start;
        assert!(s.level <= 6);
        assert!(s.text.len() <= 256 * 1024, "a section's text is over its bound");
        if s.level > 0 {
            let line = 1 + text[..s.start].matches('\n').count();
            assert_eq!(s.line as usize, line, "heading {:?} at byte {}", s.heading, s.start);
            assert!(
                anchors.insert(s.anchor.clone()),
                "two sections have the anchor {:?}; the second cannot be read by it",
                s.anchor
            );
        }
    }
}

/// The first `n` lines of `text` (without their line breaks; missing ones are empty) and the
/// rest after them.
pub fn head_lines(text: &str, n: usize) -> (Vec<&str>, &str) {
    let mut lines = Vec::with_capacity(n);
    let mut rest = text;
    for _ in 0..n {
        match rest.split_once('\n') {
            Some((line, after)) => {
                lines.push(line.strip_suffix('\r').unwrap_or(line));
                rest = after;
            }
            None => {
                lines.push(rest);
                rest = "";
            }
        }
    }
    (lines, rest)
}

/// Where targets put their temporary files: `/dev/shm` when there is one (fsync is free on a
/// memory file system, and the property checks write files on every run), else the system's
/// temporary folder.
pub fn scratch_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        if shm.is_dir() && tempfile::Builder::new().prefix("sbfuzz-probe").tempfile_in(&shm).is_ok()
        {
            shm
        } else {
            std::env::temp_dir()
        }
    })
    .clone()
}

/// A fresh temporary folder under [`scratch_root`], removed when dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    match tempfile::Builder::new().prefix("sbfuzz-").tempdir_in(scratch_root()) {
        Ok(dir) => dir,
        Err(e) => panic!("cannot create a scratch folder: {e}"),
    }
}

/// Every target's `init`: a stack overflow (unbounded recursion on a hostile input) becomes a
/// finding like a panic. libFuzzer's `main` is C++, so Rust's own overflow handler and its
/// alternate signal stack are never set up, and an overflow would kill the process silently,
/// without saving the input. This gives the thread an alternate stack and catches `SIGSEGV`
/// on it; the handler aborts, and libFuzzer's `SIGABRT` handler saves the input.
pub fn init() {
    alternate_signal_stack();
    #[cfg(unix)]
    // SAFETY: plain libc calls with a zeroed, then filled, `sigaction`; the handler only calls
    // async-signal-safe functions.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_segv as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut());
    }
}

/// Gives the calling thread an alternate signal stack (each thread needs its own: the gateway
/// target calls this on its runtime's threads).
pub fn alternate_signal_stack() {
    #[cfg(unix)]
    {
        const SIZE: usize = 1 << 20;
        let stack: &'static mut [u8] = Box::leak(vec![0u8; SIZE].into_boxed_slice());
        let ss = libc::stack_t { ss_sp: stack.as_mut_ptr().cast(), ss_flags: 0, ss_size: SIZE };
        // SAFETY: `ss` points at a leaked buffer that lives as long as the process.
        unsafe {
            libc::sigaltstack(&ss, std::ptr::null_mut());
        }
    }
}

#[cfg(unix)]
extern "C" fn on_segv(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let message = b"\n==fuzz== SIGSEGV: a stack overflow (unbounded recursion?) or a bad access\n";
    // SAFETY: write(2) and abort(3) are async-signal-safe.
    unsafe {
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::abort();
    }
}
