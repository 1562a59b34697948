//! Walking a paged listing to its end while checking the paging rules.

use std::future::Future;

use parley_core::StoreError;
use parley_core::ports::{Page, PageRequest};

/// Fetches every page of a listing with pages of `limit` and returns all items in
/// order, asserting on the way that no page exceeds `limit`, that `next` is the id of a
/// page's last item, and that ids strictly descend across pages (newest first, no
/// duplicates). A `next` with an empty following page is allowed ("more may follow").
pub(crate) async fn all_pages<T, F, Fut>(what: &str, limit: u32, mut fetch: F, id: impl Fn(&T) -> String) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut all: Vec<T> = Vec::new();
    let mut after: Option<String> = None;
    // Bounded, so that a cursor that never advances fails instead of hanging.
    for _ in 0..1_000 {
        let request = PageRequest {
            after: after.clone(),
            limit,
        };
        let page = fetch(request)
            .await
            .unwrap_or_else(|e| panic!("{what}: listing a page failed: {e:?}"));
        assert!(
            page.items.len() <= limit as usize,
            "{what}: a page of limit {limit} held {} items",
            page.items.len()
        );
        if let (Some(next), Some(last)) = (&page.next, page.items.last()) {
            assert_eq!(next, &id(last), "{what}: `next` must be the id of the page's last item");
        }
        for item in page.items {
            if let Some(previous) = all.last() {
                assert!(
                    id(&item) < id(previous),
                    "{what}: ids must strictly descend across pages, got {} after {}",
                    id(&item),
                    id(previous)
                );
            }
            all.push(item);
        }
        match page.next {
            Some(next) => {
                assert_ne!(after.as_ref(), Some(&next), "{what}: the cursor did not advance");
                after = Some(next);
            }
            None => return all,
        }
    }
    panic!("{what}: paging did not end after 1000 pages");
}
