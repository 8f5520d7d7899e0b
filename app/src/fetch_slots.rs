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

thread_local! {
    static STATE: RefCell<Slots> = const { RefCell::new(Slots { free: SLOTS, queue: VecDeque::new() }) };
}

/// Runs `request` once a slot is free (at once when one is), holding the
/// slot until it finishes or is dropped (a panel that goes away mid-way).
pub async fn in_turn<F: Future>(request: F) -> F::Output {
    let _slot = Acquire { waiter: None }.await;
    request.await
}

struct Acquire {
    waiter: Option<Rc<Waiter>>,
}

/// A held slot; dropping it hands the slot to the next in line.
struct Slot;

impl Drop for Slot {
    fn drop(&mut self) {
        release();
    }
}

fn release() {
    STATE.with_borrow_mut(|s| match s.queue.pop_front() {
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
                return Poll::Ready(Slot);
            }
            *w.waker.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let waiter = STATE.with_borrow_mut(|s| {
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
            None => Poll::Ready(Slot),
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
                release();
            } else {
                STATE.with_borrow_mut(|s| s.queue.retain(|q| !Rc::ptr_eq(q, &w)));
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
        let mut a = Acquire { waiter: None };
        let mut b = Acquire { waiter: None };
        let (Poll::Ready(sa), Poll::Ready(sb)) = (poll(&mut a), poll(&mut b)) else { panic!("two free slots") };
        let (mut c, mut d, mut e) = (Acquire { waiter: None }, Acquire { waiter: None }, Acquire { waiter: None });
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
}
