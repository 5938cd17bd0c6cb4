// Package fifo holds Map, a map bounded by a count that forgets its
// oldest entries first: the dedup windows, order logs and seen-sets of
// the runtime (an actor's recent calls, a process's actor-order log and
// kept calls, the lineage stash's delivered outcomes) all use it; and
// StringSet, the same bound over strings held as 64-bit hashes (the
// lineage stash's committed keys), a quarter of the memory.
//
// State: a Map (a StringSet) owns its entries and is not safe for
// concurrent use; its owner guards it with the lock that guards the rest
// of its state.
package fifo
