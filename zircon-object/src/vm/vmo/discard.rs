//! A discardable VMO's side of reclaim: entering its machine's registry, being
//! discarded while unlocked, and what LOCK and TRY_LOCK then report.

use super::*;
use crate::vm::reclaim::reclaimer_of;

/// What reclaim needs to know of a discardable VMO, under its lock.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DiscardState {
    /// Reclaim took every page while the VMO was unlocked, and no lock has been
    /// taken since.
    pub(crate) discarded: bool,
    /// The reclaimer's tick at the last unlock (or at creation, when a
    /// discardable VMO starts unlocked).
    pub(crate) unlocked_at: u64,
}

impl VmObject {
    /// Enters this discardable VMO in its machine's reclaimer, if the machine has
    /// one.
    pub(super) fn enter_reclaim(self: &Arc<Self>) {
        if let Some(reclaimer) = reclaimer_of(&*self.hal) {
            self.inner.lock().discard.unlocked_at = reclaimer.tick();
            reclaimer.register_discardable(Arc::downgrade(self));
        }
    }

    /// Notes an unlock for the least-recently-unlocked order.
    pub(super) fn note_unlock(&self, inner: &mut VmoInner) {
        if let Some(reclaimer) = reclaimer_of(&*self.hal) {
            inner.discard.unlocked_at = reclaimer.tick();
        }
    }

    /// When this VMO was last unlocked, or `u64::MAX` if it is locked now (it is
    /// then not a candidate at all).
    pub(crate) fn unlocked_at(&self) -> u64 {
        let inner = self.inner.lock();
        if inner.locked {
            u64::MAX
        } else {
            inner.discard.unlocked_at
        }
    }

    /// Discards every page of this discardable VMO if it is unlocked: the pages
    /// leave every mapping and their frames go back to the HAL; the VMO then reads
    /// as zeros, and the next LOCK reports the discard. A locked VMO, one with
    /// pinned pages or one in a copy-on-write family keeps its pages. Returns how
    /// many frames were freed. Takes this VMO's lock (the caller holds no VMO lock).
    pub(crate) fn discard(&self) -> usize {
        let mut inner = self.inner.lock();
        if !self.discardable
            || inner.locked
            || inner.pages.is_empty()
            || !inner.pinned.is_empty()
            || inner.family.is_some()
            || inner.physical
            || inner.contiguous
        {
            return 0;
        }
        let size = inner.size;
        let frames = inner.take_pages(0, usize::MAX);
        let mappings = inner.unmap_from_mappings(0, size);
        inner.discard.discarded = true;
        drop(inner);
        let count = frames.len();
        Removed { frames, mappings }.release(&*self.hal);
        count
    }

    /// Whether reclaim has discarded this VMO since it was last locked.
    pub fn is_discarded(&self) -> bool {
        self.inner.lock().discard.discarded
    }
}
