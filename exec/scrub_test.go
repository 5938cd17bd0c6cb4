package exec

import "testing"

// Scrub leaves no value of a finished run reachable from the thread: not
// in its value stack above the top, not in its pooled frames.
func TestScrubDropsValues(t *testing.T) {
	th := &Thread{}
	held := Str("held by a finished run")
	slots := th.reserve(3)
	slots[2] = held
	th.vals = th.vals[:0] // the run returned: the slots are above the top
	fr := th.frameAt(1)
	fr.slots = fr.ownSlots(2, 0)
	fr.slots[1], fr.ret = held, held
	th.Scrub()
	for i, v := range th.vals[:cap(th.vals)] {
		if v.ref != nil {
			t.Fatalf("value stack slot %d still holds %v", i, v)
		}
	}
	for d, fr := range th.fpool {
		if fr.slots != nil || fr.ret.ref != nil {
			t.Fatalf("pooled frame %d still holds its slots or result", d)
		}
		for i, v := range fr.own {
			if v.ref != nil {
				t.Fatalf("pooled frame %d slot %d still holds %v", d, i, v)
			}
		}
	}
}
