//! A rollback guard for changes made in several steps (fetch a package, store secrets, pin tools,
//! write a record, register): each step says how to undo itself as it is done, and unless the
//! whole change is committed, dropping the guard undoes them newest first. A `?` or an early
//! return anywhere in between therefore leaves nothing behind, without undo code at each exit.

/// How to undo one step.
type Undo<'a> = Box<dyn FnOnce() + Send + 'a>;

/// The undo steps of a change in progress.
pub(crate) struct Rollback<'a> {
    steps: Vec<(&'static str, Undo<'a>)>,
}

impl<'a> Rollback<'a> {
    pub(crate) fn new() -> Self {
        Rollback { steps: Vec::new() }
    }

    /// Registers how to undo a step just done (or about to be: an undo must be harmless when
    /// the step did not happen).
    pub(crate) fn on_failure(&mut self, what: &'static str, undo: impl FnOnce() + Send + 'a) {
        self.steps.push((what, Box::new(undo)));
    }

    /// The change is complete: nothing will be undone.
    pub(crate) fn commit(mut self) {
        self.steps.clear();
    }
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        while let Some((what, undo)) = self.steps.pop() {
            tracing::debug!("undoing: {what}");
            undo();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::Rollback;

    fn recorder() -> (Arc<Mutex<Vec<&'static str>>>, impl Fn(&'static str) + Clone) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let push = {
            let log = log.clone();
            move |what| log.lock().expect("log").push(what)
        };
        (log, push)
    }

    fn change(fail_after: usize, push: impl Fn(&'static str) + Clone + Send + 'static) -> bool {
        let mut rollback = Rollback::new();
        for (i, step) in ["package", "secrets", "pins"].into_iter().enumerate() {
            if i == fail_after {
                return false;
            }
            let push = push.clone();
            rollback.on_failure(step, move || push(step));
        }
        rollback.commit();
        true
    }

    #[test]
    fn a_failure_undoes_the_steps_done_newest_first_and_a_commit_undoes_nothing() {
        let (log, push) = recorder();
        assert!(!change(2, push.clone()));
        assert_eq!(*log.lock().expect("log"), ["secrets", "package"]);
        log.lock().expect("log").clear();
        assert!(change(usize::MAX, push));
        assert!(log.lock().expect("log").is_empty());
    }
}
