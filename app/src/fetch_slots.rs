//! Chart data is asked for a few requests at a time, in the order the
//! panels asked (their order on the page): a dashboard or chart view of
//! many panels gets its first panels' data, and draws them, while the rest
//! are still to come, instead of every request sharing the server and the
//! browser's main thread at once and all arriving late together.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Requests in flight at once: enough to keep a 2-core server busy while
/// the browser parses and draws the previous answer.
const SLOTS: usize = 2;

#[derive(Default)]
struct Waiter {
    granted: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

struct Slots {
    free: usize,
    queue: VecDeque<Rc<Waiter>>,
}

type Pool = std::thread::LocalKey<RefCell<Slots>>;

thread_local! {
    static STATE: RefCell<Slots> = const { RefCell::new(Slots { free: SLOTS, queue: VecDeque::new() }) };
    /// Requests that keep the server's cores busy on their own (a sweep's
    /// bands over thousands of runs): one at a time, so the first panel's
    /// comes back as soon as it can.
    static HEAVY: RefCell<Slots> = const { RefCell::new(Slots { free: 1, queue: VecDeque::new() }) };
}

/// Runs `request` once a slot is free (at once when one is), holding the
/// slot until it finishes or is dropped (a panel that goes away mid-way).
pub async fn in_turn<F: Future>(request: F) -> F::Output {
    let _slot = Acquire::new(&STATE).await;
    request.await
}

/// As [`in_turn`], and one heavy request at a time.
pub async fn heavy_in_turn<F: Future>(request: F) -> F::Output {
    let _heavy = Acquire::new(&HEAVY).await;
    let _slot = Acquire::new(&STATE).await;
    request.await
}

struct Acquire {
    pool: &'static Pool,
    waiter: Option<Rc<Waiter>>,
}

impl Acquire {
    fn new(pool: &'static Pool) -> Self {
        Acquire { pool, waiter: None }
    }
}

/// A held slot; dropping it hands the slot to the next in line.
struct Slot(&'static Pool);

impl Drop for Slot {
    fn drop(&mut self) {
        release(self.0);
    }
}

fn release(pool: &'static Pool) {
    pool.with_borrow_mut(|s| match s.queue.pop_front() {
        Some(next) => {
            next.granted.set(true);
            if let Some(w) = next.waker.borrow_mut().take() {
                w.wake();
            }
        }
        None => s.free += 1,
    });
}

impl Future for Acquire {
    type Output = Slot;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Slot> {
        if let Some(w) = &self.waiter {
            if w.granted.get() {
                self.waiter = None;
                return Poll::Ready(Slot(self.pool));
            }
            *w.waker.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let waiter = self.pool.with_borrow_mut(|s| {
            if s.free > 0 {
                s.free -= 1;
                return None;
            }
            let w = Rc::new(Waiter::default());
            *w.waker.borrow_mut() = Some(cx.waker().clone());
            s.queue.push_back(w.clone());
            Some(w)
        });
        match waiter {
            None => Poll::Ready(Slot(self.pool)),
            Some(w) => {
                self.waiter = Some(w);
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        // Dropped while waiting: leave the line; handed a slot it never
        // took: pass it on.
        if let Some(w) = self.waiter.take() {
            if w.granted.get() {
                release(self.pool);
            } else {
                self.pool.with_borrow_mut(|s| s.queue.retain(|q| !Rc::ptr_eq(q, &w)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Nothing;
    impl Wake for Nothing {
        fn wake(self: Arc<Self>) {}
    }

    fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        let waker = Waker::from(Arc::new(Nothing));
        Pin::new(f).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn slots_are_handed_on_in_order_and_dropped_waiters_leave_the_line() {
        let mut a = Acquire::new(&STATE);
        let mut b = Acquire::new(&STATE);
        let (Poll::Ready(sa), Poll::Ready(sb)) = (poll(&mut a), poll(&mut b)) else { panic!("two free slots") };
        let (mut c, mut d, mut e) = (Acquire::new(&STATE), Acquire::new(&STATE), Acquire::new(&STATE));
        assert!(poll(&mut c).is_pending() && poll(&mut d).is_pending() && poll(&mut e).is_pending());
        drop(d); // gave up waiting
        drop(sa);
        let Poll::Ready(sc) = poll(&mut c) else { panic!("c is next") };
        assert!(poll(&mut e).is_pending());
        drop(sb);
        let Poll::Ready(se) = poll(&mut e) else { panic!("e is next, d left") };
        drop((sc, se));
        STATE.with_borrow(|s| assert_eq!((s.free, s.queue.len()), (SLOTS, 0)));
    }

    #[test]
    fn heavy_requests_go_one_at_a_time() {
        let (mut first, mut second) = (Acquire::new(&HEAVY), Acquire::new(&HEAVY));
        let Poll::Ready(held) = poll(&mut first) else { panic!("the heavy slot is free") };
        assert!(poll(&mut second).is_pending());
        // A light request is not held up by it.
        let Poll::Ready(light) = poll(&mut Acquire::new(&STATE)) else { panic!("a slot is free") };
        drop(held);
        assert!(matches!(poll(&mut second), Poll::Ready(_)));
        drop(light);
    }
}
